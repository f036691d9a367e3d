from __future__ import annotations

import pytest

from core.commands import Command, CommandError, CommandRegistry, Option


async def _noop(ctx, command) -> None:  # type: ignore[no-untyped-def]
    return None


@pytest.fixture
def registry() -> CommandRegistry:
    registry = CommandRegistry(prefix="!")
    options = (Option("style", "a style"), Option("batch", "all of them", choices=("all",)),
               Option("note", "round", takes_value=False))
    registry.register(Command("say", "read text", _noop, usage="TEXT", options=options))
    registry.register(Command("avatar", "voice clip", _noop, options=options))
    registry.register(Command("announce", "admins only", _noop, admin_only=True))
    return registry


def test_quoted_text_and_options(registry: CommandRegistry) -> None:
    command, parsed = registry.parse('!say --style anime "hello there, friends" --batch all')
    assert command.name == "say"
    assert parsed.args == ["hello there, friends"]
    assert parsed.options == {"style": "anime", "batch": "all"}


def test_apostrophes_inside_words_are_text_not_quotes(registry: CommandRegistry) -> None:
    _, parsed = registry.parse("!say I'm sure it's 'quoted text' --style anime")
    assert parsed.args == ["I'm", "sure", "it's", "quoted text"]
    assert parsed.text == "I'm sure it's quoted text"


def test_inline_value_flag_and_case(registry: CommandRegistry) -> None:
    _, parsed = registry.parse("!SAY --style=cyberpunk --note hi there")
    assert parsed.options == {"style": "cyberpunk", "note": True}
    assert parsed.text == "hi there"


def test_is_command(registry: CommandRegistry) -> None:
    assert registry.is_command("  !say hi")
    assert not registry.is_command("say hi")
    assert not registry.is_command("! not a command")
    assert not registry.is_command("!")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("!sya hi", r"no command !sya\. Did you mean !say\?"),
        ("!xyzzy", r"no command !xyzzy\. Send !help"),
        ('!say "unclosed', "quote is not closed"),
        ("!say --colour red hi", r"!say has no option --colour\. Its options: --style, --batch, --note"),
        ("!say hi --style", "--style needs a value"),
        ("!say --batch some hi", r"--batch must be one of: all"),
    ],
)
def test_mistakes_get_specific_messages(registry: CommandRegistry, line: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        registry.parse(line)


def test_help_is_generated_and_hides_admin_commands(registry: CommandRegistry) -> None:
    member_help = registry.help_text(is_admin=False)
    assert "!say TEXT — read text" in member_help
    assert "options: --style, --batch" in member_help
    assert "--style STYLE: a style" in registry.help_for("say")
    assert registry.help_for("!say").startswith("!say TEXT — read text")
    with pytest.raises(CommandError, match="There is no command !announce"):
        registry.help_for("announce", is_admin=False)
    assert "!announce — admins only" in registry.help_for("announce", is_admin=True)
    assert "!announce" not in member_help
    assert "!announce — admins only" in registry.help_text(is_admin=True)


def test_help_leaves_out_the_commands_of_plugins_switched_off(registry: CommandRegistry) -> None:
    registry.register(Command("contest", "voice contests", _noop, plugin="contest"))
    registry.register(Command("talk", "talk to a persona", _noop, plugin="chat"))
    shown = registry.help_text(switched_off=["contest"])
    assert "!talk — talk to a persona" in shown and "!say TEXT" in shown
    assert "!contest" not in shown


def test_duplicate_registration_is_refused(registry: CommandRegistry) -> None:
    with pytest.raises(ValueError, match="already registered"):
        registry.register(Command("say", "again", _noop))


def test_help_marks_what_needs_models_not_configured(registry: CommandRegistry) -> None:
    registry.register(Command("voice", "store your voice", _noop, needs=("speecht5", "speaker_encoder")))
    registry.register(Command("talk", "talk to a persona", _noop, usage="TEXT, or + a voice message",
                              needs=("asr",), needs_for="voice messages",
                              options=(Option("voice", "in your voice", needs=("speecht5",)),)))
    member = registry.help_text(models=set())  # members aren't offered what can't work; a part is marked
    assert "!voice" not in member and "--voice" not in member
    assert "!talk TEXT, or + a voice message — talk to a persona (voice messages not set up here)" in member
    assert registry.help_for("talk", models=set()).endswith("--voice VOICE: in your voice (not set up on this bot yet)")
    admin = registry.help_text(is_admin=True, models={"speecht5"})
    assert "!voice — store your voice (needs [models] speaker_encoder)" in admin
    assert "(voice messages: needs [models] asr)" in admin and "      options: --voice\n" in admin
    assert "Set up the models with: mouthpiece models list (see the README's Models section)." in admin
    assert "--voice (needs [models] speecht5)" in registry.help_text(is_admin=True, models=set())
    ready = registry.help_text(models={"speecht5", "speaker_encoder", "asr"})
    assert "not set up" not in ready and "needs" not in ready and "options: --voice" in ready
