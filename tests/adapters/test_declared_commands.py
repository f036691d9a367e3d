"""A command defined only in this test gets its native form on every platform, with no adapter
change: a Discord slash command with typed options and suggestions, a Telegram menu entry, Slack's
/NAME, /mouthpiece help and manifest entries; and each reaches the handler with converted values."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from importlib import import_module
from pathlib import Path
from typing import Any

import pluggy
import pytest
from click.testing import CliRunner
from PIL import Image

from adapters.slack_commands import manifest
from core import hookspecs
from core.commands import Command, CommandRegistry, Option
from core.config import Config
from core.context import Context
from core.events import ParsedCommand
from core.plugins import BUILTIN_PLUGINS, hookimpl
from core.testing.fakes.discord import DiscordDriver
from core.testing.fakes.discord_interactions import SlashDriver
from core.testing.fakes.slack import running_driver
from core.testing.fakes.slack_server import FakeSlack
from core.testing.fakes.telegram import running_telegram
from core.testing.fakes.telegram_api import FakeTelegramAPI
from core.testing.testbot import MEMBER

ROOT = Path(__file__).resolve().parents[2]
STRING, INTEGER, BOOLEAN, ATTACHMENT, NUMBER = 3, 4, 5, 11, 10


class Forecast:
    """A third-party plugin's command: every kind of option, and a file."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], list[str]]] = []

    @hookimpl
    def register_commands(self, register) -> None:  # type: ignore[no-untyped-def]
        register(Command(
            "forecast", "a persona reads the weather out", self.forecast, plugin="forecast",
            arguments=(Option.text("place", "where", required=True, example="Oslo"),
                       Option.attachment("map", "a map of the place", media=("image",))),
            options=(Option.persona(), Option.number("days", "how many days", minimum=1, maximum=7, integer=True),
                     Option.choice("units", "the units", ("metric", "imperial")),
                     Option.duration("every", "how often", minimum=timedelta(minutes=10), maximum=timedelta(days=1)),
                     Option.number("wind", "gusts above, in m/s", minimum=0.5, maximum=60),
                     Option.flag("alerts", "warnings only"))))

    async def forecast(self, ctx: Context, command: ParsedCommand) -> None:
        files = [a.filename for a in ctx.event.attachments]  # type: ignore[attr-defined]
        self.calls.append((dict(command.options), files))
        await ctx.reply(f"forecast for {command.options['place']}")


@pytest.fixture
def forecast() -> Forecast:
    return Forecast()


@pytest.fixture
def discord_plugins(forecast: Forecast) -> list[object]:
    return [forecast]


def _map(tmp_path: Path) -> Path:
    path = tmp_path / "map.png"
    Image.new("RGB", (8, 8), "blue").save(path)
    return path


# -- Discord ------------------------------------------------------------------------------------


async def test_discord_builds_the_slash_command_from_the_declarations(discord_driver: DiscordDriver) -> None:
    tree = discord_driver.adapter.tree
    slash = tree.get_command("forecast")
    assert slash is not None
    payload = slash.to_dict(tree)
    assert payload["description"] == "a persona reads the weather out"
    options = {o["name"]: o for o in payload["options"]}
    assert [o["name"] for o in payload["options"]][0] == "place" and options["place"]["required"] is True
    assert {name: o["type"] for name, o in options.items()} == {
        "place": STRING, "map": ATTACHMENT, "persona": STRING, "days": INTEGER, "units": STRING, "every": STRING,
        "wind": NUMBER, "alerts": BOOLEAN}
    assert options["persona"]["autocomplete"] is True
    assert (options["days"]["min_value"], options["days"]["max_value"]) == (1, 7)
    assert (options["wind"]["min_value"], options["wind"]["max_value"]) == (0.5, 60.0)
    assert [c["value"] for c in options["units"]["choices"]] == ["metric", "imperial"]
    assert options["every"]["description"] == "how often (e.g. 90s, 5m, 1h30m)"
    assert not any(o.get("required") for name, o in options.items() if name != "place")


async def test_a_discord_invocation_reaches_the_handler_with_converted_values(
        discord_interactions: SlashDriver, forecast: Forecast, tmp_path: Path) -> None:
    interaction = await discord_interactions.invoke(
        "forecast", {"place": "Bergen Airport", "days": 3, "units": "imperial", "every": "1h30m", "persona": "neon",
                     "wind": 12.5, "alerts": True}, user=MEMBER, attachments={"map": _map(tmp_path)})
    assert interaction.original is not None and interaction.original.content == "forecast for Bergen Airport"
    [(values, files)] = forecast.calls
    assert values == {"place": "Bergen Airport", "days": 3, "units": "imperial", "every": timedelta(hours=1.5),
                      "persona": "neon", "wind": 12.5, "alerts": True}
    assert files == ["map.png"]


async def test_a_value_the_parser_refuses_is_answered_on_discord(discord_interactions: SlashDriver,
                                                                 forecast: Forecast) -> None:
    interaction = await discord_interactions.invoke("forecast", {"place": "Oslo", "every": "soon"}, user=MEMBER)
    assert interaction.original is not None
    assert interaction.original.content == ("--every takes a duration such as 90s, 5m or 1h30m (got 'soon'), "
                                            "e.g. !forecast --every 1h30m.")
    assert forecast.calls == []


async def test_discord_suggests_personas_for_a_persona_option(discord_interactions: SlashDriver) -> None:
    choices = await discord_interactions.autocomplete("forecast", "persona", "sak", user=MEMBER)
    assert [c["value"] for c in choices] == ["sakura"]


# -- Telegram -----------------------------------------------------------------------------------


async def test_telegram_lists_it_in_the_menu_and_runs_it(bot_config: Config, telegram_api: FakeTelegramAPI,
                                                         forecast: Forecast) -> None:
    async with running_telegram(telegram_api, bot_config, plugins=[forecast]) as driver:
        [answer] = await driver.send("/forecast --days 2 --every 45m Tromsø", user=MEMBER)
        [shown] = await driver.send("/help forecast", user=MEMBER)
    menu = {c["command"]: c["description"] for c in telegram_api.command_menus["default"]}
    assert menu["forecast"] == "a persona reads the weather out — PLACE [+ MAP]"
    assert answer.text == "forecast for Tromsø"
    assert forecast.calls == [({"days": 2, "every": timedelta(minutes=45), "place": "Tromsø"}, [])]
    assert shown.text.splitlines() == [
        "!forecast PLACE [+ MAP] — a persona reads the weather out", "  PLACE: where", "  + MAP: a map of the place",
        "  --persona PERSONA: who says it (see !personas)", "  --days DAYS: how many days (a whole number from 1 to 7)",
        "  --units UNITS: the units (metric, imperial)", "  --every EVERY: how often (a duration from 10m to 1d, "
        "e.g. 90s, 5m, 1h30m)", "  --wind WIND: gusts above, in m/s (a number from 0.5 to 60)",
        "  --alerts: warnings only"]


# -- Slack ------------------------------------------------------------------------------------------


async def test_slack_runs_it_as_its_own_slash_command_and_through_mouthpiece(
        slack_api: FakeSlack, bot_config: Config, forecast: Forecast) -> None:
    async for slack in running_driver(slack_api, bot_config, plugins=[forecast]):
        [own] = await slack.command("/forecast", "--units metric Bergen", user=MEMBER)
        [shared] = await slack.command("/mouthpiece", "forecast --wind 3 'Nord Cape'", user=MEMBER)
        await slack.command("/mouthpiece", "help", user=MEMBER)
        await slack.command("/mouthpiece", "help forecast", user=MEMBER)
        [refused] = await slack.command("/forecast", "--days 9 Bergen", user=MEMBER)
    assert own.text == "forecast for Bergen" and shared.text == "forecast for Nord Cape"
    assert forecast.calls == [({"units": "metric", "place": "Bergen"}, []), ({"wind": 3.0, "place": "Nord Cape"}, [])]
    listing, one = (r["text"] for r in slack_api.responses)
    assert "  /mouthpiece forecast PLACE [+ MAP] — a persona reads the weather out" in listing
    assert one.startswith("/mouthpiece forecast PLACE [+ MAP] — a persona reads the weather out\n  PLACE: where")
    assert refused.text == "--days must be from 1 to 7 (got 9)."


def test_the_slack_manifest_gives_it_a_slash_command_with_its_usage(forecast: Forecast) -> None:
    registry = CommandRegistry()
    forecast.register_commands(registry.register)
    [catch_all, own] = manifest(registry)["features"]["slash_commands"]
    assert catch_all["command"] == "/mouthpiece"
    assert own == {"command": "/forecast", "description": "a persona reads the weather out", "should_escape": False,
                   "usage_hint": "[--persona PERSONA] [--days DAYS] [--units UNITS] [--every EVERY] [--wind WIND] "
                                 "[--alerts] PLACE"}
    with_url = manifest(registry, request_url="https://bot.example/slack/events")
    assert {c["url"] for c in with_url["features"]["slash_commands"]} == {"https://bot.example/slack/events"}
    assert with_url["settings"]["socket_mode_enabled"] is False


def _builtin_registry() -> CommandRegistry:
    pm = pluggy.PluginManager("mouthpiece")
    pm.add_hookspecs(hookspecs)
    for module in BUILTIN_PLUGINS:
        pm.register(import_module(module))
    registry = CommandRegistry()
    pm.hook.register_commands(register=registry.register)
    return registry


def test_the_readme_manifest_is_the_one_the_declarations_make() -> None:
    readme = (ROOT / "README.md").read_text()
    [block] = re.findall(r"\*From a manifest\*.*?```json\n(.*?)```", readme, re.DOTALL)
    assert json.loads(block) == manifest(_builtin_registry()), \
        "the README's Slack manifest is out of date: paste the output of `mouthpiece slack-manifest` into it"


def test_the_cli_prints_the_manifest() -> None:
    from core.cli import app

    result = CliRunner().invoke(app, ["slack-manifest", "-c", str(ROOT / "config.toml")])
    assert result.exit_code == 0, result.output
    commands = [c["command"] for c in json.loads(result.output)["features"]["slash_commands"]]
    assert commands[0] == "/mouthpiece" and {"/say", "/avatar", "/talk"} <= set(commands)
    assert "/help" not in commands  # one of Slack's own: reached through /mouthpiece help
