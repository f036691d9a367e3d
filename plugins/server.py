"""``!server``: admins change this server's settings by chat; they survive a restart.

The changes are stored in SQLite on top of the config's ``[servers."PLATFORM:ID"]``
table (see ``core/servers.py``); ``!server reset SETTING`` brings the config's value back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.adapter import ChannelUnavailable
from core.commands import Command, CommandError, Option
from core.config import ServerSettings
from core.context import Context
from core.events import ParsedCommand
from core.plugins import hookimpl, plugin_names

#: Plugins that can't be switched off per server: this one holds the switch itself.
ALWAYS_ON = frozenset({"server", "help"})
#: Words of ``!server CHANNEL-SETTING`` that mean "no channel set".
NO_CHANNEL = frozenset({"none", "default", "off"})

USAGE = """\
!server show — this server's settings
!server persona NAME — who speaks for this server
!server timezone ZONE — the time zone of scheduled announcements, e.g. Europe/Berlin
!server language CODE|none — the community's language, e.g. es, cmn (Mandarin), yue (Cantonese); none: detected
!server announce-channel here|CHANNEL_ID|none — where announcements go
!server welcome-channel here|CHANNEL_ID|none — where welcome clips go
!server disable PLUGIN / !server enable PLUGIN — switch a plugin off or on in this server
!server reset SETTING — back to the config's value (persona, timezone, announce-channel, …)"""

#: Chat names of the settings (``!server reset announce-channel``) and their fields.
SETTING_NAMES = {
    "persona": "persona", "timezone": "timezone", "announce-channel": "announce_channel",
    "welcome-channel": "welcome_channel", "welcome-template": "welcome_template",
    "welcome-persona": "welcome_persona", "plugins": "disabled_plugins", "language": "language",
    "welcome-language": "welcome_language",
}


async def server(ctx: Context, command: ParsedCommand) -> None:
    """Show or change this server's settings (admins only, checked by the agent)."""
    if not command.args:
        await ctx.reply(USAGE.replace("!", ctx.agent.commands.prefix))
        return
    action, rest = command.args[0].lower(), command.args[1:]
    handler = ACTIONS.get(action)
    if handler is None:
        raise CommandError(f"{ctx.prefix}server has no {action!r}. " + USAGE.replace("!", ctx.prefix))
    await handler(ctx, rest)


async def show(ctx: Context, _: list[str]) -> None:
    settings = ctx.agent.server_settings(ctx.event)
    changed = ctx.agent.servers.overridden(ctx.event.platform, ctx.event.channel.server_id)
    await ctx.reply(describe(settings, changed, ctx.agent.personas.default.name))


async def set_persona(ctx: Context, words: list[str]) -> None:
    name = _one_value(ctx, words, "persona", "NAME")
    persona = ctx.agent.persona_for(ctx.event, name)  # the server's own first; a clear error lists the choices
    store_setting(ctx, "persona", ctx.agent.persona_setting(persona))
    await ctx.reply(f"{persona.display_name} now speaks for this server.")


async def set_timezone(ctx: Context, words: list[str]) -> None:
    zone = _one_value(ctx, words, "timezone", "ZONE")
    store_setting(ctx, "timezone", zone)
    await ctx.reply(f"This server's time zone is now {zone}. New scheduled announcements use it.")


async def set_language(ctx: Context, words: list[str]) -> None:
    from engine.languages import canonical, name_of

    value = _one_value(ctx, words, "language", "CODE|none")
    if value.lower() in NO_CHANNEL | {"auto"}:
        ctx.agent.servers.clear(ctx.event.platform, ctx.event.channel.server_id, "language")
        language = ctx.agent.server_settings(ctx.event).language
        now = f"{name_of(language)} (from the config)" if language else "found in each text"
        await ctx.reply(f"This server's language is now {now}.")
        return
    language = canonical(value)  # an unknown code is refused with close matches
    store_setting(ctx, "language", language)
    await ctx.reply(f"This server's language is now {name_of(language)} ({language}): text in its script is "
                    "spoken in it, and I answer chats in it.")


def channel_setter(key: str, what: str) -> Callable[[Context, list[str]], Any]:
    async def set_channel(ctx: Context, words: list[str]) -> None:
        value = _one_value(ctx, words, key.replace("_", "-"), "here|CHANNEL_ID|none")
        if value.lower() in NO_CHANNEL:
            ctx.agent.servers.clear(ctx.event.platform, ctx.event.channel.server_id, key)
            fallback = ctx.agent.server_settings(ctx.event).model_dump()[key]
            where = (f"channel {fallback} (from the config)" if fallback
                     else "the channel the command or event came from")
            await ctx.reply(f"{what} now go to {where}.")
            return
        channel = ctx.event.channel.id if value.lower() == "here" else value
        if channel != ctx.event.channel.id:
            await check_channel(ctx, channel, what)
        store_setting(ctx, key, channel)
        where = "this channel" if channel == ctx.event.channel.id else "channel " + channel
        await ctx.reply(f"{what} now go to {where}.")

    return set_channel


async def check_channel(ctx: Context, channel_id: str, what: str) -> None:
    """Refuse a channel the bot can't post in, and any channel of another server: an admin
    of this server must not send the bot's posts into a server they don't run."""
    try:
        await ctx.agent.open_channel(ctx.event.platform, channel_id, server_id=ctx.event.channel.server_id)
    except ChannelUnavailable as error:
        raise CommandError(f"{what} can't go to channel {channel_id}: {error}.") from None


async def disable(ctx: Context, words: list[str]) -> None:
    plugin = _known_plugin(ctx, _one_value(ctx, words, "disable", "PLUGIN"))
    if plugin in ALWAYS_ON:
        raise CommandError(f"The {plugin} plugin can't be switched off: it holds the server settings and help.")
    disabled = ctx.agent.server_settings(ctx.event).disabled_plugins
    if plugin not in disabled:
        store_setting(ctx, "disabled_plugins", [*disabled, plugin])
    await ctx.reply(f"The {plugin} plugin is switched off in this server.")


async def enable(ctx: Context, words: list[str]) -> None:
    plugin = _known_plugin(ctx, _one_value(ctx, words, "enable", "PLUGIN"))
    disabled = ctx.agent.server_settings(ctx.event).disabled_plugins
    if plugin in disabled:
        store_setting(ctx, "disabled_plugins", [name for name in disabled if name != plugin])
    await ctx.reply(f"The {plugin} plugin is switched on in this server.")


async def reset(ctx: Context, words: list[str]) -> None:
    name = _one_value(ctx, words, "reset", "SETTING").lower()
    key = SETTING_NAMES.get(name)
    if key is None:
        raise CommandError(f"There is no setting {name!r}. Settings: {', '.join(SETTING_NAMES)}.")
    ctx.agent.servers.clear(ctx.event.platform, ctx.event.channel.server_id, key)
    await ctx.reply(f"{name} is back to the config's value.")


ACTIONS = {
    "show": show, "persona": set_persona, "timezone": set_timezone, "language": set_language,
    "announce-channel": channel_setter("announce_channel", "Announcements"),
    "welcome-channel": channel_setter("welcome_channel", "Welcome clips"),
    "disable": disable, "enable": enable, "reset": reset,
}


def describe(settings: ServerSettings, changed: set[str], default_persona: str) -> str:
    """The settings as a short list; a * marks what an admin changed by command."""
    def line(label: str, key: str, value: object) -> str:
        return f"  {label}: {value}{' *' if key in changed else ''}"

    return "\n".join([
        "This server's settings (* changed by command):",
        line("persona", "persona", settings.persona or f"{default_persona} (default)"),
        line("time zone", "timezone", settings.timezone),
        line("language", "language", settings.language or "found in each text"),
        line("announcement channel", "announce_channel", settings.announce_channel or "where the command is given"),
        line("welcome channel", "welcome_channel", settings.welcome_channel or "where the platform reports the join"),
        line("welcome template", "welcome_template", settings.welcome_template),
        line("welcome language", "welcome_language", settings.welcome_language or "the server's"),
        line("welcome persona", "welcome_persona", settings.welcome_persona or "the server's persona"),
        line("plugins switched off", "disabled_plugins", ", ".join(settings.disabled_plugins) or "none"),
    ])


def store_setting(ctx: Context, key: str, value: object) -> ServerSettings:
    """Change one setting of the event's server; a bad value is the admin's to fix."""
    try:
        return ctx.agent.servers.change(ctx.event.platform, ctx.event.channel.server_id, key, value,
                                     by=f"{ctx.event.platform}:{ctx.event.user.id}")
    except ValueError as error:
        raise CommandError(f"I can't set {key.replace('_', ' ')}: {error}.") from None



def _one_value(ctx: Context, words: list[str], action: str, placeholder: str) -> str:
    if len(words) != 1:
        raise CommandError(f"Use it as: {ctx.prefix}server {action} {placeholder}")
    return words[0]


def _known_plugin(ctx: Context, name: str) -> str:
    known = sorted(plugin_names(ctx.agent.pm))
    if name.lower() not in known:
        raise CommandError(f"There is no plugin {name!r}. Plugins: {', '.join(known)}.")
    return name.lower()


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    register(Command("server", "show or change this server's settings", server,
                     usage="show | persona NAME | timezone ZONE | language CODE | announce-channel here | "
                           "welcome-channel here | disable PLUGIN | enable PLUGIN | reset SETTING",
                     arguments=(Option.text("setting", "show, persona NAME, timezone ZONE, language CODE, "
                                            "disable PLUGIN, reset SETTING…", raw=True),),
                     admin_only=True, plugin="server"))
