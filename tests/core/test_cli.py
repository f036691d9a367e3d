"""The ``mouthpiece`` command, run in-process the way a user types it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.cli import app
from tests.media import assert_valid_mp4, speech_clip

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[agent]\ndatabase = "{tmp_path}/state.db"\n'
        f'[engine]\nwidth = 256\nheight = 256\noutput_dir = "{tmp_path}/out"\ncache_dir = "{tmp_path}/cache"\n'
        f'[console]\nallowed_dir = "{tmp_path}"\n'
    )
    return path


def test_say_writes_the_video(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "hello.mp4"
    result = runner.invoke(app, ["say", "Hello from the command line", "--style", "cyberpunk",
                                 "-o", str(out), "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert str(out) in result.output and "neon" in result.output
    assert_valid_mp4(out, width=256, height=256, fps=25)


def test_avatar_animates_a_clip(config: Path, tmp_path: Path) -> None:
    clip = speech_clip(tmp_path / "voice.wav", "Testing one two three.")
    out = tmp_path / "clip.mp4"
    result = runner.invoke(app, ["avatar", str(clip), "-o", str(out), "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert_valid_mp4(out, width=256, height=256, fps=25)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["say", "hi", "--persona", "nobody"], "no persona or style called 'nobody'"),
        (["say", "🙂🙂"], "nothing that can be read out loud"),
        (["avatar", "MISSING"], "'missing.ogg' wasn't found"),
    ],
)
def test_errors_exit_non_zero_and_leave_no_file(config: Path, tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "never.mp4"
    args = [a.replace("MISSING", str(tmp_path / "missing.ogg")) for a in args]
    result = runner.invoke(app, [*args, "-o", str(out), "-c", str(config)])
    assert result.exit_code == 1
    assert message in result.output.replace("\n", " ")
    assert not out.exists()


def test_a_broken_config_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[engine]\nfps = 1000\n")
    result = runner.invoke(app, ["personas", "-c", str(bad)])
    assert result.exit_code == 1 and "engine.fps" in result.output


def test_personas_lists_the_built_ins(config: Path) -> None:
    result = runner.invoke(app, ["personas", "-c", str(config)])
    assert result.exit_code == 0
    for style in ("friendly", "anime", "cyberpunk"):
        assert style in result.output


def test_run_serves_the_console(config: Path) -> None:
    result = runner.invoke(app, ["run", "-c", str(config)], input="!help\n!say Hi there\nquit\n")
    assert result.exit_code == 0, result.output
    assert "!avatar" in result.output and ".mp4" in result.output


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("say", "avatar", "personas", "demo", "run"):
        assert command in result.output


def test_mood_choices_are_the_engine_expressions() -> None:
    from core.cli import Mood
    from engine.types import Expression

    assert [m.value for m in Mood] == [e.value for e in Expression]


def test_a_photo_becomes_a_persona_from_the_command_line(config: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.faces import save_picture

    monkeypatch.chdir(tmp_path)  # the default user persona folder, my-personas/, is relative
    photo = save_picture(tmp_path / "me.jpg")
    result = runner.invoke(app, ["personas", "add", "me", "--face", str(photo), "--voice", "en-gb+f3",
                                 "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "me: a photo persona" in result.output
    listed = runner.invoke(app, ["personas", "-c", str(config)])
    assert listed.exit_code == 0 and "me " in listed.output and "friendly" in listed.output
    out = tmp_path / "me.mp4"
    said = runner.invoke(app, ["say", "Hello, it's me.", "--persona", "me", "-o", str(out), "-c", str(config)])
    assert said.exit_code == 0, said.output
    assert_valid_mp4(out, width=256, height=256, fps=25)


def test_say_and_avatar_take_a_one_off_face(config: Path, tmp_path: Path) -> None:
    from tests.faces import save_picture

    photo = save_picture(tmp_path / "me.png")
    out = tmp_path / "face.mp4"
    result = runner.invoke(app, ["say", "A photo talks.", "--face", str(photo), "-o", str(out), "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert_valid_mp4(out, width=256, height=256, fps=25)
    clip = speech_clip(tmp_path / "voice.wav", "Testing.")
    bad = tmp_path / "notes.txt"
    bad.write_text("not a face")
    refused = runner.invoke(app, ["avatar", str(clip), "--face", str(bad), "-c", str(config)])
    assert refused.exit_code == 1 and "neither a picture nor a video" in refused.output
