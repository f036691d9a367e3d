"""Telegram's command syntax in the registry's form, and the adapter's own --note option."""

from __future__ import annotations

import pytest

from adapters.telegram_input import CommandLine, command_line
from core.commands import Command, CommandRegistry


async def _noop(ctx, command):  # type: ignore[no-untyped-def]
    return None


@pytest.fixture
def registry() -> CommandRegistry:
    registry = CommandRegistry(prefix="!")
    for name in ("say", "avatar", "help"):
        registry.register(Command(name, name, _noop))
    return registry


@pytest.mark.parametrize(
    ("text", "private", "expected"),
    [
        ("/say hello there", False, CommandLine("!say hello there")),
        ("/SAY@Mouthpiece_Bot hi", False, CommandLine("!say hi")),
        ("/say@other_bot hi", False, None),
        ("/weather", False, None),  # unknown in a group: another bot's command
        ("/weather@mouthpiece_bot", False, CommandLine("!weather")),  # ours: the registry explains
        ("/weather", True, CommandLine("!weather")),
        ("/start", True, CommandLine("!help")),
        ("!say hi", False, CommandLine("!say hi")),
        ("just chatting", False, CommandLine("just chatting")),
        ("/say --note Hello world", False, CommandLine("!say Hello world", as_note=True)),
        ("/avatar --style anime --no-note", False, CommandLine("!avatar --style anime", as_note=False)),
        ('/say "read --note aloud"', False, CommandLine('!say "read --note aloud"')),
        ('/say "unclosed --note', False, CommandLine('!say "unclosed --note')),
    ],
)
def test_command_lines(registry: CommandRegistry, text: str, private: bool, expected: CommandLine | None) -> None:
    assert command_line(text, registry, bot_username="mouthpiece_bot", is_private=private) == expected


def test_a_stripped_line_parses_to_the_same_words(registry: CommandRegistry) -> None:
    line = command_line('/say --note "it\'s a test"', registry, bot_username="b", is_private=True)
    assert line is not None and line.as_note is True
    _, parsed = registry.parse(line.text)
    assert parsed.args == ["it's a test"]
