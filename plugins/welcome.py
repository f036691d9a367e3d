"""Welcome clips: when a member joins, the server's persona greets them by name on video.

The clip goes to the server's ``welcome_channel`` (config or ``!welcome channel``), else
to the channel the platform reported the join in; never to a channel the bot can't
post in (that is logged once, and no clip is made). The name is cleaned for speech
(emoji and symbols dropped, cut to ``[welcome] max_name_chars``, a fallback when
nothing pronounceable is left) and put into the template as plain data, so no name
can add placeholders, markup or mentions to a greeting.

Raids: more than ``[welcome] raid_joins_per_minute`` joins within a minute in one
server switch to one group greeting; the joins after it get nothing until a minute
passes without any. Every welcome render is queued at batch priority, behind anyone
waiting for a command. Members can opt out (``!welcome optout``), which is kept in
SQLite and holds when they leave and join again.
"""

from __future__ import annotations

import logging
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel, select
from sqlmodel.sql.expression import SelectOfScalar

from core.adapter import ChannelUnavailable
from core.commands import Command, CommandError, Option
from core.config import ServerSettings, WelcomeSettings
from core.context import Context
from core.events import Event, MemberJoinEvent, ParsedCommand
from core.language import LANG_OPTION
from core.plugins import hookimpl
from core.replies import TextReply, VideoReply
from core.storage import utcnow
from engine.engine import Priority
from engine.errors import EngineBusyError, UnknownPersonaError
from engine.text import speakable_name
from plugins.server import channel_setter, store_setting

if TYPE_CHECKING:
    from core.agent import Agent
    from personas.model import Persona

log = logging.getLogger(__name__)

PLUGIN = "welcome"
RAID_WINDOW = timedelta(minutes=1)
MAX_TEMPLATE_CHARS = 300
#: Said for a server whose name has nothing pronounceable in it.
FALLBACK_SERVER_NAME = "our server"
#: Tests replace this to drive time without waiting.
clock: Callable[[], datetime] = utcnow

USAGE = """\
!welcome optout / !welcome optin — no welcome clip for you in this server / clips again
Admins:
!welcome template TEXT|default — the greeting; {name} and {server} are filled in
!welcome template --lang CODE TEXT — a greeting in that language (e.g. es, cmn); names in other scripts keep theirs
!welcome persona NAME|default — who greets (default: the server's persona)
!welcome channel here|CHANNEL_ID|none — where the clips go
!welcome test — greet yourself as a new member would be greeted (not after your own optout)
Switch the clips off or on with !server disable welcome / !server enable welcome."""


class WelcomeOptOut(SQLModel, table=True):
    """A member who asked not to be greeted in one server."""

    __table_args__ = (UniqueConstraint("platform", "server_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str
    server_id: str
    user_id: str
    at: datetime = Field(default_factory=utcnow)


@dataclass
class JoinWindow:
    """The joins of one server within the last minute, and whether a raid is under way."""

    limit: int
    joins: deque[datetime] = field(init=False)
    raid_since: datetime | None = None  # its group greeting has gone out

    def __post_init__(self) -> None:
        self.joins = deque(maxlen=self.limit + 1)  # enough to tell "more than limit"

    def greeting_for_join(self, now: datetime) -> str | None:
        """"single", "group" (a raid begins) or None (the raid goes on) for a join at ``now``."""
        while self.joins and now - self.joins[0] >= RAID_WINDOW:
            self.joins.popleft()
        if not self.joins:
            self.raid_since = None  # a quiet minute ends a raid
        self.joins.append(now)
        if self.raid_since is not None:
            return None
        if len(self.joins) > self.limit:
            self.raid_since = now
            return "group"
        return "single"


@dataclass
class WelcomeState:
    """What a running agent's welcome plugin keeps in memory (raids don't outlive a restart)."""

    windows: dict[tuple[str, str], JoinWindow] = field(default_factory=dict)
    unavailable_logged: set[tuple[str, str]] = field(default_factory=set)


_states: weakref.WeakKeyDictionary[Agent, WelcomeState] = weakref.WeakKeyDictionary()


def state_of(agent: Agent) -> WelcomeState:
    return _states.setdefault(agent, WelcomeState())


# -- joins --------------------------------------------------------------------------------


@hookimpl
async def on_member_join(event: MemberJoinEvent, ctx: Context) -> None:
    """Greet the new member, or their whole group during a raid."""
    if event.user.is_bot:
        return
    agent = ctx.agent
    window = state_of(agent).windows.setdefault(
        (event.platform, event.channel.server_id), JoinWindow(agent.config.welcome.raid_joins_per_minute))
    kind = window.greeting_for_join(clock())
    if kind is None or (kind == "single" and opted_out(agent, event)):
        return
    settings = agent.server_settings(event)
    server = speakable_name(event.channel.server_name, FALLBACK_SERVER_NAME, max_chars=60)
    if kind == "group":
        log.info("raid in %s:%s: one group greeting", event.platform, event.channel.server_id)
        text = agent.config.welcome.group_template.format(server=server)
    else:
        text = greeting(settings, agent.config.welcome, event)
    await post_greeting(ctx, settings, text, Priority.BATCH)


def greeting(settings: ServerSettings, options: WelcomeSettings, event: Event) -> str:
    """The server's template with the member's speakable name and the server's name filled in."""
    name = speakable_name(event.user.name, options.fallback_name, max_chars=options.max_name_chars)
    server = speakable_name(event.channel.server_name, FALLBACK_SERVER_NAME, max_chars=60)
    # format() never reads placeholders inside the values, so a name is only ever data.
    return settings.welcome_template.format(name=name, server=server)


async def post_greeting(ctx: Context, settings: ServerSettings, text: str, priority: Priority) -> bool:
    """Render ``text`` and post it to the welcome channel; False when that can't be done."""
    event, state = ctx.event, state_of(ctx.agent)
    channel = settings.welcome_channel or event.channel.id
    try:
        target = await ctx.agent.open_channel(event.platform, channel, server_id=event.channel.server_id)
    except ChannelUnavailable as error:
        if (event.platform, channel) not in state.unavailable_logged:
            state.unavailable_logged.add((event.platform, channel))
            log.warning("no welcome clips in %s channel %s: %s", event.platform, channel, error)
        return False
    state.unavailable_logged.discard((event.platform, channel))
    persona = _persona(ctx.agent, event, settings)
    request = ctx.agent.config.engine.request(persona.name, text=text, expression="happy",
                                              lang=settings.welcome_language or settings.language or None)
    try:
        result = await ctx.render(request, priority=priority)
    except EngineBusyError:
        log.warning("render queue full: no welcome clip in %s:%s", event.platform, event.channel.server_id)
        return False
    await target.send(VideoReply(result.path, caption=text, duration=result.duration))
    return True


def opted_out(agent: Agent, event: Event) -> bool:
    with agent.storage.session() as session:
        return session.exec(_opt_out_of(event)).first() is not None


def _opt_out_of(event: Event) -> SelectOfScalar[WelcomeOptOut]:
    return select(WelcomeOptOut).where(
        WelcomeOptOut.platform == event.platform, WelcomeOptOut.server_id == event.channel.server_id,
        WelcomeOptOut.user_id == event.user.id)


def _persona(agent: Agent, event: Event, settings: ServerSettings) -> Persona:
    """Who greets: the welcome persona, else the server's (its own personas included)."""
    if settings.welcome_persona:
        try:
            return agent.persona_for(event, settings.welcome_persona)
        except UnknownPersonaError:
            log.warning("welcome persona %r is unknown; the server's persona greets instead", settings.welcome_persona)
    return agent.persona_for(event)


# -- commands -----------------------------------------------------------------------------


async def welcome(ctx: Context, command: ParsedCommand) -> None:
    """``!welcome``: opting out and in for everyone; the settings and a test for admins."""
    prefix = ctx.agent.commands.prefix
    action = command.args[0].lower() if command.args else ""
    rest = command.args[1:]
    if action in {"optout", "optin"}:
        await set_opt_out(ctx, action == "optout")
        return
    handler = ADMIN_ACTIONS.get(action)
    if "lang" in command.options and handler is not set_template:
        raise CommandError(f"--lang goes with {prefix}welcome template, e.g. {prefix}welcome template --lang es "
                           "\"¡Bienvenido, {name}!\"")
    if handler is None:
        await ctx.reply(USAGE.replace("!", prefix))
    elif not ctx.is_admin:
        await ctx.reply(f"Only admins can change the welcome clips; anyone can use {prefix}welcome optout "
                        f"and {prefix}welcome optin.")
    elif handler is set_template:
        await set_template(ctx, rest, command.options.get("lang"))
    else:
        await handler(ctx, rest)


async def set_opt_out(ctx: Context, out: bool) -> None:
    with ctx.agent.storage.session() as session:
        row = session.exec(_opt_out_of(ctx.event)).first()
        if out and row is None:
            session.add(WelcomeOptOut(platform=ctx.event.platform, server_id=ctx.event.channel.server_id,
                                      user_id=ctx.event.user.id))
        elif not out and row is not None:
            session.delete(row)
        session.commit()
    prefix = ctx.agent.commands.prefix
    await ctx.reply(f"You won't get a welcome clip in this server. {prefix}welcome optin undoes it." if out
                    else "You'll get a welcome clip when you join this server.")


async def set_template(ctx: Context, words: list[str], lang: object = None) -> None:
    from engine.languages import canonical, name_of

    template = " ".join(words).strip()
    language = canonical(lang) if isinstance(lang, str) else None  # an unknown code is refused before anything
    if not template:
        raise CommandError('Give the greeting, e.g. !welcome template "Hi {name}, welcome to {server}!"')
    if template.lower() == "default":
        ctx.agent.servers.clear(ctx.event.platform, ctx.event.channel.server_id, "welcome_template")
        ctx.agent.servers.clear(ctx.event.platform, ctx.event.channel.server_id, "welcome_language")
        await ctx.reply("The greeting is back to the config's.")
        return
    if len(template) > MAX_TEMPLATE_CHARS:
        raise CommandError(f"The greeting is {len(template)} characters; keep it under {MAX_TEMPLATE_CHARS}.")
    store_setting(ctx, "welcome_template", template)
    if language is None:
        ctx.agent.servers.clear(ctx.event.platform, ctx.event.channel.server_id, "welcome_language")
        await ctx.reply(f"New members are now greeted with: {template}")
        return
    store_setting(ctx, "welcome_language", language)
    await ctx.reply(f"New members are now greeted in {name_of(language)} with: {template}")


async def set_persona(ctx: Context, words: list[str]) -> None:
    if len(words) != 1:
        raise CommandError("Say which persona, e.g. !welcome persona sakura (or default).")
    if words[0].lower() == "default":
        ctx.agent.servers.clear(ctx.event.platform, ctx.event.channel.server_id, "welcome_persona")
        await ctx.reply("The server's persona greets new members again.")
        return
    persona = ctx.agent.persona_for(ctx.event, words[0])
    store_setting(ctx, "welcome_persona", ctx.agent.persona_setting(persona))
    await ctx.reply(f"{persona.display_name} now greets new members.")


async def test_greeting(ctx: Context, _: list[str]) -> None:
    if opted_out(ctx.agent, ctx.event):  # a test greets the admin as a join would: not at all after an opt-out
        raise CommandError(f"You opted out of welcome clips in this server, so a test greeting would not be made "
                           f"for you either. {ctx.prefix}welcome optin first, or ask another admin to test.")
    settings = ctx.agent.server_settings(ctx.event)
    async with ctx.working("rendering a test greeting…") as status:
        text = greeting(settings, ctx.agent.config.welcome, ctx.event)
        if await post_greeting(ctx, settings, text, Priority.INTERACTIVE):
            channel = settings.welcome_channel or ctx.event.channel.id
            where = "this channel" if channel == ctx.event.channel.id else f"channel {channel}"
            await status.finish(TextReply(f"Posted a test greeting in {where}."))
        else:
            await status.finish(TextReply("I can't post in the welcome channel, or I'm too busy right now. "
                                          f"Check my permissions there, or pick another with {ctx.prefix}welcome "
                                          "channel."))


ADMIN_ACTIONS = {"template": set_template, "persona": set_persona,
                 "channel": channel_setter("welcome_channel", "Welcome clips"), "test": test_greeting}


@hookimpl
def register_models(register: Callable[[type[SQLModel]], None]) -> None:
    for model in (WelcomeOptOut,):
        register(model)


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    register(Command("welcome", "welcome clips for new members: opt out or in; admins set them up", welcome,
                     usage="optout | optin | template TEXT | persona NAME | channel here | test",
                     arguments=(Option.text("action", "optout, optin; admins: template TEXT, persona NAME, "
                                           "channel here, test", raw=True),),
                     options=(LANG_OPTION,), plugin=PLUGIN))
