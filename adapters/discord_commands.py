"""Every registered command as a Discord slash command, built from its declarations.

Each option and argument becomes a slash-command option of its kind (text, attachment, a
number with its bounds, a true/false flag, a list of choices, a persona with suggestions);
a command with a grammar of its own gets its words as one text option. An invocation is
turned back into the command line a member would have typed (``/say text:hi persona:sakura``
→ ``!say --persona sakura hi``), so both paths run the same parser and plugin code; values
the parser refuses (a duration it can't read) are answered as for a typed command.
"""

from __future__ import annotations

import inspect
import logging
import shlex
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from adapters.discord_slash import run_slash
from core.commands import Command, Kind, Option, Value

if TYPE_CHECKING:
    from adapters.discord import DiscordAdapter

log = logging.getLogger(__name__)

#: Discord's limits on an application command.
MAX_COMMANDS = 100
MAX_OPTIONS = 25
MAX_CHOICES = 25  # shown choices, and autocomplete suggestions
MAX_DESCRIPTION = 100
Suggest = Callable[[discord.Interaction[Any], str], Coroutine[Any, Any, list[app_commands.Choice[str]]]]


def install_slash_commands(adapter: DiscordAdapter) -> None:
    """Add one slash command per registered command (those Discord can name) to the adapter's tree."""
    commands = [c for c in adapter.agent.commands.all() if _nameable(c)]
    if len(commands) > MAX_COMMANDS:
        log.warning("Discord takes %d slash commands; %s stay prefix commands only", MAX_COMMANDS,
                    ", ".join(c.name for c in commands[MAX_COMMANDS:]))
    for command in commands[:MAX_COMMANDS]:
        adapter.tree.add_command(slash_command(adapter, command))


def slash_command(adapter: DiscordAdapter, command: Command) -> app_commands.Command[Any, ..., None]:
    declared = _offered(command)
    names = {f"p{i}": option for i, option in enumerate(declared)}  # option names may hold "-"

    async def invoke(interaction: discord.Interaction, **values: Any) -> None:
        given = {names[key].name: value for key, value in values.items() if value is not None}
        files = [given[o.name] for o in command.attachments if isinstance(given.get(o.name), discord.Attachment)]
        await run_slash(adapter, interaction, command_line(command, given), files)

    invoke.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction),
        *(inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, annotation=_annotation(option),
                            **({} if option.required else {"default": None}))
          for key, option in names.items()),
    ])
    invoke.__name__ = invoke.__qualname__ = command.name  # discord.py names the callback in its errors
    app_commands.rename(**{key: option.name for key, option in names.items()})(invoke)
    app_commands.describe(**{key: _description(option) for key, option in names.items()})(invoke)
    app_commands.choices(**{key: [app_commands.Choice(name=c, value=c) for c in option.choices]
                            for key, option in names.items() if _shows_choices(option)})(invoke)
    suggestions = {key: _suggester(adapter, option) for key, option in names.items()}
    app_commands.autocomplete(**{key: s for key, s in suggestions.items() if s is not None})(invoke)
    slash: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=command.name, description=_fit(command.summary), callback=invoke)
    if command.admin_only:  # shown to those who may manage the server; the agent checks rights itself
        slash.default_permissions = discord.Permissions(manage_guild=True)
    return slash


def command_line(command: Command, given: dict[str, Value | discord.Attachment]) -> str:
    """The words a member would have typed for these values, after the prefix: options, then the
    arguments quoted as one word each; a grammar's own words (``raw``) as they were typed."""
    words = [command.name]
    for option in command.options:
        value = given.get(option.name)
        if option.kind is Kind.FLAG:
            words += [f"--{option.name}"] if value else []
        elif value is not None:
            words += [f"--{option.name}", _typed(value)]
    raw: list[str] = []
    for argument in command.words:
        if (value := given.get(argument.name)) is not None:
            (raw if argument.raw else words).append(_typed(value))
    return " ".join([shlex.join(words), *raw])


def _offered(command: Command) -> list[Option]:
    """What the slash command takes: its arguments and options, as many as Discord allows."""
    declared = [*command.arguments, *command.options]
    if len(declared) > MAX_OPTIONS:
        kept = sorted(declared, key=lambda o: not o.required)[:MAX_OPTIONS]
        log.warning("/%s: Discord takes %d options; left out: %s", command.name, MAX_OPTIONS,
                    ", ".join(o.name for o in declared if o not in kept))
        declared = [o for o in declared if o in kept]
    return declared


def _annotation(option: Option) -> Any:
    match option.kind:
        case Kind.ATTACHMENT:
            return discord.Attachment
        case Kind.FLAG:
            return bool
        case Kind.NUMBER:
            number = int if option.integer else float
            low, high = option.minimum, option.maximum
            if low is None and high is None:
                return number
            return app_commands.Range[number, _bound(low, number), _bound(high, number)]
    return str


def _bound(value: float | None, number: type) -> Any:
    return None if value is None else number(value)


def _description(option: Option) -> str:
    extra = " (e.g. 90s, 5m, 1h30m)" if option.kind is Kind.DURATION else ""
    return _fit(option.help + extra)


def _fit(text: str) -> str:
    return text if len(text) <= MAX_DESCRIPTION else text[:MAX_DESCRIPTION - 1] + "…"


def _shows_choices(option: Option) -> bool:
    return option.kind is Kind.CHOICE and len(option.choices) <= MAX_CHOICES


def _suggester(adapter: DiscordAdapter, option: Option) -> Suggest | None:
    if option.kind is Kind.PERSONA:
        return _personas(adapter)
    if option.kind is Kind.CHOICE and not _shows_choices(option):  # too many to list: suggest as they type
        async def choices(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=c, value=c) for c in option.choices if current.lower() in c][:MAX_CHOICES]
        return choices
    return None


def _personas(adapter: DiscordAdapter) -> Suggest:
    """The personas the asker can use: the server's own first, then the built-in ones."""
    async def suggest(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        wanted = current.lower()
        server_id = str(interaction.guild_id or interaction.channel_id)
        own = [app_commands.Choice(name=f"{name} (this server's)", value=name)
               for name, _ in adapter.agent.server_personas.listed(adapter.platform, server_id) if wanted in name]
        return [*own, *(app_commands.Choice(name=f"{p.display_name} ({p.style})", value=p.name)
                        for p in adapter.agent.personas.all()
                        if wanted in p.name.lower() or wanted in p.style.lower() or wanted in p.display_name.lower())
                ][:MAX_CHOICES]
    return suggest


def _nameable(command: Command) -> bool:
    ok = 1 <= len(command.name) <= 32 and command.name == command.name.lower() and \
        all(ch.isalnum() or ch in "-_" for ch in command.name)
    if not ok:
        log.warning("!%s has no slash command: Discord takes 1–32 lower-case letters, digits, '-' or '_'",
                    command.name)
    return ok


def _typed(value: Value | discord.Attachment) -> str:
    return str(value)
