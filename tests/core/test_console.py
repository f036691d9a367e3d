"""The console adapter: lines in, replies printed, file paths as attachments."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from adapters.console import ConsoleAdapter
from core.agent import Agent
from core.config import Config
from tests.media import speech_clip


def console_adapter(agent: Agent, lines: str = "") -> tuple[ConsoleAdapter, io.StringIO]:
    output = io.StringIO()
    return ConsoleAdapter(agent, stdin=io.StringIO(lines), console=Console(file=output, width=200)), output


async def test_a_clip_path_is_the_attachment(bot_config: Config, tmp_path: Path) -> None:
    clip = speech_clip(tmp_path / "hello.wav", "Hello from a file.")
    async with Agent(bot_config) as agent:
        adapter, output = console_adapter(agent)
        await adapter.handle_line(f"!avatar {clip} --style anime")
    printed = output.getvalue()
    assert ".mp4" in printed and "🎬" in printed, printed


async def test_paths_outside_the_allowed_folder_are_refused(bot_config: Config, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere.wav"
    speech_clip(outside, "Secret.")
    bot_config.console.allowed_dir = tmp_path / "inbox"
    bot_config.console.allowed_dir.mkdir()
    try:
        async with Agent(bot_config) as agent:
            adapter, output = console_adapter(agent)
            await adapter.handle_line(f"!avatar {outside}")
            await adapter.handle_line("!avatar /etc/passwd")
            await adapter.handle_line("!avatar inbox/missing.ogg")
    finally:
        outside.unlink()
    printed = output.getvalue()
    assert printed.count("is outside the folder I may read") == 2, printed
    assert "There is no file inbox/missing.ogg" in printed
    assert ".mp4" not in printed


async def test_run_reads_lines_until_quit(bot_config: Config) -> None:
    async with Agent(bot_config) as agent:
        adapter, output = console_adapter(agent, "!help\n\n!nope\nquit\n!help\n")
        await adapter.run()
    printed = output.getvalue()
    assert printed.count("Commands:") == 1
    assert "There is no command !nope" in printed


async def test_a_member_and_the_console_commands(bot_config: Config) -> None:
    from adapters.console_commands import member

    async with Agent(bot_config) as agent:
        adapter, output = console_adapter(agent)
        adapter.user = member("Bo")
        for line in ["!server show", ":help", ":as", "!server show", ":as " + "x" * 40, ":vote", ":join",
                     ":dance"]:
            await adapter.handle_line(line)
    printed = output.getvalue()
    assert printed.startswith("Only admins can use !server.")
    assert ":join NAME the member NAME joins" in printed and "You are the operator again" in printed
    assert "persona:" in printed.lower()  # the operator, an admin, sees the settings
    assert "I can't use that name: a member's name must be 1 to 32 characters" in printed
    assert "Say which option, e.g. :vote 1 (the numbers in brackets; none yet: a poll shows its options)." in printed
    assert "Say who joins, e.g. :join Ada" in printed and "There is no console command :dance." in printed
    assert member("Ada Lovelace") == member(" Ada   Lovelace ") and member("Ada").id != member("Bo").id


def test_the_log_keeps_out_of_the_chat() -> None:
    import logging

    from core.runner import keep_log_out_of_chat

    root = logging.getLogger()
    level = root.level
    try:
        root.setLevel(logging.INFO)
        keep_log_out_of_chat()
        assert not logging.getLogger("apscheduler.scheduler").isEnabledFor(logging.INFO)
        assert logging.getLogger("core.agent").isEnabledFor(logging.WARNING)
        root.setLevel(logging.DEBUG)
        keep_log_out_of_chat()  # asked for DEBUG: everything stays
        assert logging.getLogger("apscheduler.scheduler").isEnabledFor(logging.DEBUG)
    finally:
        root.setLevel(level)


async def test_a_video_path_is_never_folded_on_a_narrow_terminal(bot_config: Config, tmp_path: Path) -> None:
    """The terminal wraps a long path itself, so it copies whole; rich would cut it with newlines."""
    async with Agent(bot_config) as agent:
        output = io.StringIO()
        adapter = ConsoleAdapter(agent, stdin=io.StringIO(), console=Console(file=output, width=30))
        await adapter.handle_line("!say Hello there, this is a long caption")
    [video_line] = [line for line in output.getvalue().splitlines() if line.startswith("🎬")]
    path = Path(video_line.removeprefix("🎬 ").rsplit(" (", 1)[0])
    assert len(video_line) > 30 and path.suffix == ".mp4" and path.is_file(), output.getvalue()
