"""What the API and the dashboard show and change of one server: its settings, scheduled
announcements and contests. Reads come from the database; changes run the admins' own chat
commands (``adapters.http.commands``), so they are checked exactly as in chat."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select

from adapters.http.commands import ServerRef, run_command
from core.servers import ServerOverride
from core.storage import RenderRecord

if TYPE_CHECKING:
    from adapters.http.auth import Principal
    from core.agent import Agent

#: The channel a settings change made from the dashboard comes "from": never a real channel.
DASHBOARD_CHANNEL = "dashboard"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerOut(_Model):
    server: str = Field(description="PLATFORM:SERVER_ID")
    platform: str
    server_id: str


class SettingsOut(_Model):
    server: str
    persona: str = Field(description="who speaks for the server; empty: the default persona")
    timezone: str
    announce_channel: str
    welcome_channel: str
    disabled_plugins: list[str]
    changed: list[str] = Field(description="settings an admin changed (by command or here)")
    plugins: list[str] = Field(description="the plugins that can be switched off in this server")


class SettingsIn(_Model):
    """The settings to change; those left out stay as they are. ``null`` (or "") for a channel
    or the persona brings the config's value back."""

    persona: str | None = Field(None, max_length=64)
    timezone: str | None = Field(None, min_length=1, max_length=64)
    announce_channel: str | None = Field(None, max_length=64, pattern=r"^[^\s]*$")
    welcome_channel: str | None = Field(None, max_length=64, pattern=r"^[^\s]*$")
    disabled_plugins: list[str] | None = Field(None, max_length=50)


class AnnouncementOut(_Model):
    id: int
    text: str
    persona: str
    channel: str
    next_post_at: datetime
    crontab: str
    timezone: str


class AnnouncementIn(_Model):
    text: str = Field(min_length=1, max_length=4000)
    at: str | None = Field(None, max_length=64, description="once: 2026-12-01T09:00 (server's zone) or with an offset")
    cron: str | None = Field(None, max_length=100, description='recurring: a crontab such as "0 9 * * MON"')
    channel: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[^\s]+$",
                                description="where to post when the server has no announcement channel")


class StandingOut(_Model):
    entry_id: int
    user_id: str
    name: str
    votes: int


class ContestOut(_Model):
    id: int
    theme: str
    status: Literal["open", "closed", "announced", "undelivered"]
    channel: str
    ends_at: datetime
    personas: list[str]
    standings: list[StandingOut]


def known_servers(agent: Agent, principal: Principal) -> list[ServerOut]:
    """Servers the agent has heard of (config tables, changed settings, renders, announcements,
    contests) that ``principal`` may manage."""
    found: set[tuple[str, str]] = set()
    if principal.server is not None:
        own = ServerRef.parse(principal.server)
        found.add((own.platform, own.server_id))
    for key in agent.config.servers:
        platform, _, server_id = key.partition(":")
        if server_id:
            found.add((platform, server_id))
    with agent.storage.session() as session:
        found.update(session.exec(select(ServerOverride.platform, ServerOverride.server_id).distinct()).all())
        found.update(session.exec(select(RenderRecord.platform, RenderRecord.server_id)
                                  .where(col(RenderRecord.platform).not_in(["http", "console"])).distinct()).all())
        for platform_column, server_column in _community_columns(agent):
            found.update(session.exec(select(platform_column, server_column).distinct()).all())
    return [ServerOut(server=f"{p}:{s}", platform=p, server_id=s) for p, s in sorted(found)
            if principal.may_use(f"{p}:{s}")]


def settings_of(agent: Agent, server: ServerRef) -> SettingsOut:
    from core.plugins import plugin_names
    from plugins.server import ALWAYS_ON

    values = agent.servers.settings(server.platform, server.server_id)
    return SettingsOut(server=str(server), persona=values.persona, timezone=values.timezone,
                       announce_channel=values.announce_channel, welcome_channel=values.welcome_channel,
                       disabled_plugins=values.disabled_plugins,
                       changed=sorted(agent.servers.overridden(server.platform, server.server_id)),
                       plugins=sorted(set(plugin_names(agent.pm)) - ALWAYS_ON))


async def change_settings(agent: Agent, principal: Principal, server: ServerRef, wanted: SettingsIn) -> list[str]:
    """Apply each given setting with ``!server``; returns what each change answered."""
    answers = []

    async def server_command(*args: str) -> None:
        answers.append(await run_command(agent, principal, server, DASHBOARD_CHANNEL, "server", list(args)))

    given = wanted.model_fields_set
    if "persona" in given:
        await server_command(*(("persona", wanted.persona) if wanted.persona else ("reset", "persona")))
    if "timezone" in given:
        if wanted.timezone is None:
            await server_command("reset", "timezone")
        else:
            await server_command("timezone", wanted.timezone)
    for key in ("announce_channel", "welcome_channel"):
        if key in given:
            await server_command(key.replace("_", "-"), getattr(wanted, key) or "none")
    if "disabled_plugins" in given:
        current = set(agent.servers.settings(server.platform, server.server_id).disabled_plugins)
        target = set(wanted.disabled_plugins or [])
        for plugin in sorted(target - current):
            await server_command("disable", plugin)
        for plugin in sorted(current - target):
            await server_command("enable", plugin)
    return answers


def announcements_of(agent: Agent, server: ServerRef) -> list[AnnouncementOut]:
    from plugins.announce import Announcer

    if not _loaded(agent, "announce"):
        return []
    return [_announcement(row) for row in Announcer(agent).scheduled(server.platform, server.server_id)]


async def schedule_announcement(agent: Agent, principal: Principal, server: ServerRef,
                                wanted: AnnouncementIn) -> AnnouncementOut:
    """``!announce at|cron``, from the channel the post goes to."""
    if (wanted.at is None) == (wanted.cron is None):
        raise HTTPException(422, 'Give either "at" (once) or "cron" (recurring), not both or neither.')
    channel = agent.servers.settings(server.platform, server.server_id).announce_channel or wanted.channel
    if not channel:
        raise HTTPException(422, "This server has no announcement channel: name one in \"channel\", "
                                 "or set the server's announcement channel first.")
    before = {a.id for a in announcements_of(agent, server)}
    args = ["at", wanted.at, wanted.text] if wanted.at is not None else ["cron", wanted.cron or "", wanted.text]
    await run_command(agent, principal, server, channel, "announce", args)
    new = [a for a in announcements_of(agent, server) if a.id not in before]
    if not new:
        raise HTTPException(409, "The announcement was not scheduled; see the server's log.")
    return max(new, key=lambda a: a.id)


async def cancel_announcement(agent: Agent, principal: Principal, server: ServerRef, announcement_id: int) -> None:
    if not any(a.id == announcement_id for a in announcements_of(agent, server)):
        raise HTTPException(404, f"There is no scheduled announcement #{announcement_id} in this server.")
    await run_command(agent, principal, server, DASHBOARD_CHANNEL, "announce", ["cancel", str(announcement_id)])


def contests_of(agent: Agent, server: ServerRef) -> list[ContestOut]:
    from plugins.contest import models
    from plugins.contest.models import Contest, Status

    if not _loaded(agent, "contest"):
        return []
    with agent.storage.session() as session:
        rows = list(session.exec(select(Contest).where(Contest.platform == server.platform,
                                                        Contest.server_id == server.server_id)
                                 .order_by(col(Contest.id).desc())))
    out = []
    for contest in rows:
        standings = (models.standings(agent.polls, contest, models.entries(agent.storage, contest.id or 0))
                     if contest.status == Status.OPEN else contest.final_standings())
        out.append(ContestOut(
            id=contest.id or 0, theme=contest.theme, status=contest.status,
            channel=contest.channel_id, ends_at=contest.ends, personas=contest.persona_names,
            standings=[StandingOut(entry_id=s.entry_id, user_id=s.user_id, name=s.name, votes=s.votes)
                       for s in standings]))
    return out


def _announcement(row: object) -> AnnouncementOut:
    from plugins.announce import Announcement

    assert isinstance(row, Announcement) and row.id is not None
    moment = row.next_post_at if row.next_post_at.tzinfo else row.next_post_at.replace(tzinfo=UTC)
    return AnnouncementOut(id=row.id, text=row.text, persona=row.persona, channel=row.channel_id,
                           next_post_at=moment, crontab=row.crontab, timezone=row.timezone)


def _community_columns(agent: Agent) -> list[tuple[Any, Any]]:
    from plugins.announce import Announcement
    from plugins.contest.models import Contest

    columns = {"announce": (Announcement.platform, Announcement.server_id),
               "contest": (Contest.platform, Contest.server_id)}
    return [pair for plugin, pair in columns.items() if _loaded(agent, plugin)]


def _loaded(agent: Agent, plugin: str) -> bool:
    """Whether a plugin is loaded at all (``[plugins] disabled`` leaves its tables out of the database)."""
    return agent.pm.get_plugin(plugin) is not None
