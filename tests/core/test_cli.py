"""The ``mouthpiece`` command, run in-process the way a user types it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

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
    from core.cli import MOODS
    from engine.types import Expression

    assert list(MOODS) == [e.value for e in Expression]


def test_output_formats_follow_the_extension(config: Path, tmp_path: Path) -> None:
    """-o x.webm is VP9 + Opus, -o x.gif an animated GIF without sound; the same render serves all."""
    from PIL import Image

    from engine.encode import probe

    for name in ("hi.mp4", "hi.webm", "hi.gif"):
        result = runner.invoke(app, ["say", "Hello there, friends", "-o", str(tmp_path / name), "-c", str(config)])
        assert result.exit_code == 0, result.output
    assert_valid_mp4(tmp_path / "hi.mp4", width=256, height=256, fps=25)
    webm = probe(tmp_path / "hi.webm")
    assert (webm["video_codec"], webm["audio_codec"], webm["width"]) == ("vp9", "opus", 256)
    assert abs(webm["duration"] - probe(tmp_path / "hi.mp4")["duration"]) < 0.1
    with Image.open(tmp_path / "hi.gif") as gif:
        assert gif.format == "GIF" and gif.is_animated and gif.size == (256, 256)
        assert gif.n_frames > 10 and gif.info["loop"] == 0 and gif.info["duration"] == 80  # 12.5 frames a second
        assert len(gif.getpalette() or []) // 3 <= 256
    assert probe(tmp_path / "hi.gif")["audio_codec"] is None


@pytest.mark.parametrize(("name", "message"), [
    ("clip.avi", "clip.avi has '.avi'; the video can be written as .mp4"),
    ("clip", "clip has no extension"),
])
def test_an_unknown_extension_is_refused_before_rendering(config: Path, tmp_path: Path, name: str,
                                                         message: str) -> None:
    result = runner.invoke(app, ["say", "Hello", "-o", str(tmp_path / name), "-c", str(config)])
    assert result.exit_code == 1 and message in result.output.replace("\n", " ")
    assert not (tmp_path / name).exists() and not list((tmp_path / "cache").glob("*.mp4"))  # nothing rendered


def test_a_missing_folder_is_made_only_inside_the_current_one(config: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    made = runner.invoke(app, ["say", "Hello", "-o", "new/deeper/x.mp4", "-c", str(config)])
    assert made.exit_code == 0, made.output
    assert (tmp_path / "new/deeper/x.mp4").is_file()
    elsewhere = tmp_path.parent / f"{tmp_path.name}-missing" / "x.mp4"
    refused = runner.invoke(app, ["say", "Hello", "-o", str(elsewhere), "-c", str(config)])
    assert refused.exit_code == 1 and "does not exist. Create it first" in refused.output.replace("\n", " ")
    assert not elsewhere.parent.exists()


def test_batch_all_renders_every_persona(config: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["say", "Hi all", "--batch", "all", "-o", str(tmp_path / "hi.gif"), "-c", str(config)])
    assert result.exit_code == 0, result.output
    for persona in ("friendly", "sakura", "neon"):
        assert (tmp_path / f"hi-{persona}.gif").is_file() and f"hi-{persona}.gif" in result.output
    for args, message in ((["--batch", "some"], "--batch takes only 'all'"),
                          (["--batch", "all", "--persona", "neon"], "use --persona or --batch all, not both")):
        refused = runner.invoke(app, ["say", "Hi", *args, "-o", str(tmp_path / "x.mp4"), "-c", str(config)])
        assert refused.exit_code == 1 and message in refused.output


def test_personas_shows_names_kinds_and_voices(config: Path) -> None:
    result = runner.invoke(app, ["personas", "-c", str(config)])
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == ["NAME", "CALLED", "STYLE", "KIND", "VOICE"]
    assert ["friendly", "Pip", "friendly", "sprite", "espeak", "en-us", "m1"] in [row.split() for row in rows]
    assert ["neon", "Neon", "cyberpunk", "sprite", "espeak", "en-us", "m3"] in [row.split() for row in rows]


def test_run_as_a_member(config: Path) -> None:
    result = runner.invoke(app, ["run", "--as", "Bo", "-c", str(config)],
                           input="!announce Hello\n:join Ada\n:as\n!welcome optout\nquit\n")
    assert result.exit_code == 0, result.output
    assert "on the console, as Bo (a member)" in result.output
    assert "Only admins can use !announce." in result.output
    assert "Ada joins Mouthpiece." in result.output and "Welcome to Mouthpiece, Ada!" in result.output
    assert "You are the operator again" in result.output
    refused = runner.invoke(app, ["run", "--as", "x" * 40, "-c", str(config)], input="quit\n")
    assert refused.exit_code == 1 and "--as: a member's name must be 1 to 32 characters" in refused.output


def test_a_home_folder_in_the_output_is_expanded(config: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["say", "Hello", "-o", "~/hi.webm", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "hi.webm").is_file() and not (tmp_path / "~").exists()


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
    assert listed.exit_code == 0 and "friendly" in listed.output
    assert any(row.split()[0] == "me" and row.split()[3] == "photo" for row in listed.output.splitlines())  # its kind
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


def test_a_photo_render_keeps_litert_s_notice_off_stderr(config: Path, tmp_path: Path) -> None:
    """LiteRT prints its delegate notice once a process, so this runs the command in a fresh one."""
    import subprocess
    import sys

    from tests.faces import save_picture

    photo = save_picture(tmp_path / "me.png")
    out = tmp_path / "face.mp4"
    mouthpiece = Path(sys.executable).with_name("mouthpiece")
    result = subprocess.run([str(mouthpiece), "say", "A photo talks.", "--face", str(photo), "-o", str(out),
                             "-c", str(config)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "XNNPACK" not in result.stderr and "INFO:" not in result.stderr, result.stderr
    assert_valid_mp4(out, width=256, height=256, fps=25)


def test_the_notice_filter_passes_other_output_on(capfd: pytest.CaptureFixture[str]) -> None:
    import os

    from engine.face import quiet

    quiet._done = False
    with quiet.delegate_notice_hidden():
        os.write(2, quiet.NOTICE + b"\nanother thread's line\n")
    with quiet.delegate_notice_hidden():  # once only: later output goes straight through
        os.write(2, b"later\n")
    assert capfd.readouterr().err == "another thread's line\nlater\n"


def test_a_render_command_imports_nothing_a_render_does_not_need(config: Path, tmp_path: Path) -> None:
    """The first answer's speed: no database, web or model libraries on the way to a sprite video."""
    import subprocess
    import sys

    out = tmp_path / "hello.mp4"
    mouthpiece = Path(sys.executable).with_name("mouthpiece")
    result = subprocess.run([sys.executable, "-X", "importtime", str(mouthpiece), "say", "Hello there", "-o", str(out),
                             "-c", str(config)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import")}
    assert "numpy" in imported and "av" in imported  # what a render does need
    assert not imported & {"sqlalchemy", "sqlmodel", "apscheduler", "fastapi", "torch", "transformers", "ray"}
