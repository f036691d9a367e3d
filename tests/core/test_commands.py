from __future__ import annotations

from datetime import timedelta

import pytest

from core.commands import Command, CommandError, CommandRegistry, Option
from core.options import describe_duration, parse_duration


async def _noop(ctx, command) -> None:  # type: ignore[no-untyped-def]
    return None


@pytest.fixture
def registry() -> CommandRegistry:
    registry = CommandRegistry(prefix="!")
    options = (Option("style", "a style"), Option("batch", "all of them", choices=("all",)),
               Option.flag("note", "round"))
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


# -- typed options and arguments ---------------------------------------------------------------

@pytest.fixture
def typed() -> CommandRegistry:
    registry = CommandRegistry(prefix="!")
    registry.register(Command("remind", "a reminder", _noop, arguments=(
        Option.choice("who", "who is reminded", ("me", "us"), required=True),
        Option.number("times", "how often", minimum=1, maximum=5, integer=True, required=True),
        Option.text("text", "what to say", required=True, example='"stretch"'),
        Option.attachment("clip", "a voice clip", media=("audio",), placeholder="a voice clip"),
    ), options=(
        Option.duration("in", "when", minimum=timedelta(minutes=1), maximum=timedelta(days=7), required=True),
        Option.number("volume", "how loud", minimum=0, maximum=1.5),
        Option.persona(),
        Option.flag("loud", "shout it"),
    )))
    return registry


def test_values_arrive_converted_to_their_kind(typed: CommandRegistry) -> None:
    _, parsed = typed.parse("!remind --in 1h30m US 3 stand up and stretch --volume 0.5 --persona neon --loud")
    assert parsed.options == {"in": timedelta(hours=1, minutes=30), "volume": 0.5, "persona": "neon", "loud": True,
                              "who": "us", "times": 3, "text": "stand up and stretch"}
    assert parsed.args == ["US", "3", "stand", "up", "and", "stretch"]
    assert isinstance(parsed.options["times"], int)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("!remind --in soon me 2 hi", r"--in takes a duration such as 90s, 5m or 1h30m \(got 'soon'\), "
                                      "e.g. !remind --in 1h30m."),
        ("!remind --in 10s me 2 hi", r"--in must be from 1m to 7d \(got 10s\)."),
        ("!remind --in 8d me 2 hi", r"--in must be from 1m to 7d \(got 8d\)."),
        ("!remind --in 5m me two hi", r"!remind TIMES takes a whole number from 1 to 5 \(got 'two'\), e.g. !remind 1"),
        ("!remind --in 5m me 2.5 hi", r"!remind TIMES takes a whole number"),
        ("!remind --in 5m me 9 hi", r"!remind TIMES must be from 1 to 5 \(got 9\)."),
        ("!remind --in 5m me 2 hi --volume loud", r"--volume takes a number from 0 to 1.5 \(got 'loud'\)"),
        ("!remind --in 5m me 2 hi --volume nan", r"--volume takes a number"),
        ("!remind --in 5m them 2 hi", r"!remind takes one of: me, us \(got 'them'\) — who is reminded."),
        ("!remind me 2 hi", r"!remind needs --in \(when\), e.g. !remind --in 1h30m."),
        ("!remind --in 5m", r"!remind needs WHO \(who is reminded\), e.g. !remind me."),
        ("!remind --in 5m me", r"!remind needs TIMES \(how often\), e.g. !remind 1."),
        ("!remind --in 5m me 2", r'!remind needs TEXT \(what to say\), e.g. !remind "stretch".'),
    ],
)
def test_values_that_cant_be_read_are_refused_with_an_example(typed: CommandRegistry, line: str,
                                                              message: str) -> None:
    with pytest.raises(CommandError, match=f"^{message}"):
        typed.parse(line)


def test_a_missing_file_is_named(typed: CommandRegistry) -> None:
    command = typed.get("remind")
    assert command is not None
    typed.check_files(command, 0)  # the clip is optional
    needy = Command("store", "store a clip", _noop, arguments=(Option.attachment("clip", "your clip", required=True),))
    with pytest.raises(CommandError, match=r"!store needs CLIP \(your clip\): attach it"):
        typed.check_files(needy, 0)


def test_usage_and_help_come_from_the_declarations(typed: CommandRegistry) -> None:
    assert typed.usage_of(typed.get("remind")) == "!remind --in IN WHO TIMES TEXT [+ a voice clip]"  # type: ignore[arg-type]
    shown = typed.help_for("remind").splitlines()
    assert shown[1:5] == ["  WHO: who is reminded (me, us)", "  TIMES: how often (a whole number from 1 to 5)",
                          "  TEXT: what to say", "  + a voice clip: a voice clip"]
    assert "  --in IN: when (a duration from 1m to 7d, e.g. 90s, 5m, 1h30m)" in shown
    assert "  --loud: shout it" in shown


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("5m", 300), ("1h30m", 5400), ("1.5h", 5400),
                                               ("2d", 172800), ("1w", 604800), ("1H 5M", 3900),
                                               ("", None), ("5", None), ("m5", None), ("5x", None), ("-5m", None)])
def test_durations(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds
    if seconds:
        assert parse_duration(describe_duration(seconds)) == seconds


def test_declarations_that_cant_work_are_refused_at_once() -> None:
    with pytest.raises(ValueError, match="share names"):
        Command("x", "x", _noop, options=(Option.text("a", "a"),), arguments=(Option.text("a", "a"),))
    with pytest.raises(ValueError, match="lower-case"):
        Option.text("Big Name", "no")
    with pytest.raises(ValueError, match="only numbers and durations have bounds"):
        Option(name="a", help="a", minimum=1)
    with pytest.raises(ValueError, match="a flag is an option"):
        Command("x", "x", _noop, arguments=(Option.flag("a", "a"),))
    with pytest.raises(ValueError, match="optional arguments come after the required ones"):
        Command("x", "x", _noop, arguments=(Option.text("a", "a"), Option.text("b", "b", required=True)))
