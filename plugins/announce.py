"""``!announce``: the server's persona reads an announcement out on video, now or on a schedule.

Where: the server's ``announce_channel`` (config or ``!server announce-channel``), else
the channel the command was given in. Notes for the admins (a post skipped or
impossible) go to the channel the announcement was scheduled from.

Scheduled announcements are rows of ``Announcement`` plus one APScheduler job each in
the same SQLite file. The video is rendered when the announcement is scheduled, so the
post goes out on time; a recurring one checks after each post that the next video is
still there (the text never changes, so the render cache usually has it). The video is
kept from housekeeping (``storage.keep_files``, owner ``announce:ID``) until the
announcement is done or cancelled. When the
agent starts, every announcement whose stored next post time has passed (it was down,
or stopped in the middle of a post) is run at once: posted late within
``[announce] grace_minutes``, otherwise skipped with a note to the admins. A post
interrupted by a crash may therefore go out twice, but never silently not at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from sqlmodel import Field, SQLModel, select

from core.adapter import ChannelUnavailable
from core.commands import Command, CommandError, Option
from core.context import Context
from core.events import Channel, Event, ParsedCommand, User
from core.language import LANG_OPTION, chosen_language
from core.plugins import hookimpl
from core.replies import Responder, TextReply, VideoReply
from core.scheduler import running_agent
from core.schedules import cron_trigger, describe_moment, parse_crontab, parse_moment
from core.storage import as_utc, utcnow
from engine.engine import Priority
from engine.text import clean_text

if TYPE_CHECKING:
    from core.agent import Agent

log = logging.getLogger(__name__)

PLUGIN = "announce"
#: After a restart, how long a post waits for its platform's adapter to connect.
ADAPTER_WAIT = timedelta(seconds=60)
_ADAPTER_POLL_SECONDS = 0.5
#: Tests replace this to drive time without waiting.
clock: Callable[[], datetime] = utcnow

USAGE = """\
!announce TEXT — the server's persona reads TEXT out on video, in the announcement channel, now
!announce --lang es TEXT — the same, spoken in that language (any form below takes --lang)
!announce now TEXT — the same, for a TEXT that starts with one of these words
!announce at 2026-12-01T09:00 TEXT — once, at that time (this server's time zone unless an offset is given)
!announce cron "0 9 * * MON" TEXT — on a crontab schedule (minute hour day month weekday)
!announce list — the scheduled announcements
!announce cancel ID — drop a scheduled announcement"""


class Announcement(SQLModel, table=True):
    """A scheduled announcement; its APScheduler job is ``job_id(id)``."""

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(index=True)
    server_id: str = Field(index=True)
    channel_id: str  # where it is posted
    origin_channel_id: str  # where it was scheduled: notes for the admins go there
    persona: str
    text: str
    lang: str | None = None  # the language it is spoken in (--lang, the server's); None: found in the text
    crontab: str = ""  # empty: a one-off
    timezone: str
    next_post_at: datetime  # UTC: the post the job makes next
    video_path: str = ""  # rendered ahead of time
    video_duration: float = 0.0
    created_by: str
    created_at: datetime = Field(default_factory=utcnow)


def job_id(announcement_id: int) -> str:
    return f"{PLUGIN}-{announcement_id}"


def file_owner(announcement_id: int) -> str:
    """The name under which an announcement keeps its video from housekeeping until it is done."""
    return f"{PLUGIN}:{announcement_id}"


async def post_due(announcement_id: int) -> None:
    """The scheduled job (module-level, plain argument, as the job store requires)."""
    await Announcer(running_agent()).deliver(announcement_id)


@dataclass
class Schedule:
    first: datetime
    trigger: BaseTrigger
    crontab: str = ""


class Announcer:
    """Announcements of one agent; all state is in its database, so this is cheap to make."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.storage = agent.storage

    # -- scheduling ---------------------------------------------------------------

    def schedule(self, row: Announcement, schedule: Schedule) -> Announcement:
        row.next_post_at = schedule.first.astimezone(UTC)
        stored = self.storage.add(row)
        assert isinstance(stored, Announcement) and stored.id is not None
        self._keep_video(stored)
        self._add_job(stored, schedule.trigger, schedule.first)
        return stored

    def scheduled(self, platform: str, server_id: str) -> list[Announcement]:
        with self.storage.session() as session:
            return list(session.exec(select(Announcement).where(
                Announcement.platform == platform, Announcement.server_id == server_id,
            ).order_by(Announcement.next_post_at)))  # type: ignore[arg-type]

    def get(self, announcement_id: int) -> Announcement | None:
        with self.storage.session() as session:
            return session.get(Announcement, announcement_id)

    def cancel(self, row: Announcement) -> None:
        """Forget the announcement: its job, its row, and its hold on its video."""
        self._remove_job(row.id)  # type: ignore[arg-type]
        with self.storage.session() as session:
            if (stored := session.get(Announcement, row.id)) is not None:
                session.delete(stored)
                session.commit()
        self.storage.release_files(file_owner(row.id))  # type: ignore[arg-type]

    def reconcile(self, scheduler: BaseScheduler) -> None:
        """At start-up: every announcement has its job, posts missed while the agent was down
        (or stopped mid-way) run now, and jobs whose announcement is gone are dropped."""
        now = clock()
        with self.storage.session() as session:
            rows = list(session.exec(select(Announcement)))
        for row in rows:
            assert row.id is not None
            self._keep_video(row)  # also for announcements scheduled before videos were kept
            due = as_utc(row.next_post_at)
            if due <= now:
                log.info("announcement %s was due at %s while the agent was down", row.id, due)
            # Made anew each start, so a stored job always has the current trigger type.
            self._add_job(row, self._trigger(row), max(due, now))
        known = {job_id(row.id) for row in rows if row.id is not None}
        for job in scheduler.get_jobs():
            if job.id.startswith(f"{PLUGIN}-") and job.id not in known:
                job.remove()

    # -- posting -----------------------------------------------------------------------

    async def deliver(self, announcement_id: int) -> None:
        """Post the announcement's due occurrence (late within the grace window, or skip it
        with a note), then move it on to its next occurrence or forget it."""
        row = self.get(announcement_id)
        if row is None:
            self._remove_job(announcement_id)
            return
        now = clock()
        due = self._latest_due(row, now)
        late = now - due
        grace = timedelta(minutes=self.agent.config.announce.grace_minutes)
        zone = ZoneInfo(row.timezone)
        if PLUGIN in self.agent.servers.settings(row.platform, row.server_id).disabled_plugins:
            log.info("announcement %s not posted: the plugin is switched off in %s", row.id, row.server_id)
        elif late > grace:
            await self.note_admins(row, (
                f"Announcement #{row.id} was due at {describe_moment(due, zone)} while I was offline. "
                f"That is more than the {grace.total_seconds() / 60:.0f}-minute grace window ago, so I skipped it."))
        else:
            try:
                await self.post(row)
            except Exception:  # move on to the next occurrence either way, with the admins told
                log.exception("announcement %s could not be posted", row.id)
                await self.note_admins(row, f"I couldn't post announcement #{row.id}: something went wrong "
                                            "while posting it. The details are in the log.")
        following = self._trigger(row).get_next_fire_time(due, due + timedelta(microseconds=1)) if row.crontab else None
        if following is None:
            self.cancel(row)
            return
        with self.storage.session() as session:
            stored = session.get(Announcement, row.id)
            if stored is None:  # cancelled while it was being posted
                return
            stored.next_post_at = following.astimezone(UTC)
            session.add(stored)
            session.commit()
        await self.prepare_video(stored, Priority.BATCH)

    async def post(self, row: Announcement) -> None:
        try:
            target = await self._open(row.platform, row.channel_id, row.server_id)
        except ChannelUnavailable as error:
            await self.note_admins(row, f"I couldn't post announcement #{row.id} in channel {row.channel_id}: "
                                        f"{error}. Give me permission there, or pick another channel with "
                                        f"{self.agent.commands.prefix}server announce-channel.")
            return
        path = await self.prepare_video(row, Priority.INTERACTIVE)
        await target.send(VideoReply(path, caption=row.text, duration=row.video_duration))

    async def prepare_video(self, row: Announcement, priority: Priority) -> Path:
        """The announcement's video: the one rendered ahead of time, or rendered now."""
        if row.video_path and Path(row.video_path).is_file():
            return Path(row.video_path)
        event = Event(row.platform, User(row.created_by, ""), Channel(row.channel_id, row.server_id))
        request = self.agent.config.engine.request(row.persona, text=row.text, lang=row.lang)
        job = await asyncio.to_thread(self.agent.engine.submit, request, priority)
        result = await job
        self.agent.record_render(event, result)
        row.video_path, row.video_duration = str(result.path), result.duration
        if row.id is not None:
            with self.storage.session() as session:
                if (stored := session.get(Announcement, row.id)) is not None:
                    stored.video_path, stored.video_duration = row.video_path, row.video_duration
                    session.add(stored)
                    session.commit()
            if stored is not None:  # not cancelled while it rendered
                self._keep_video(row)
        return result.path

    def _keep_video(self, row: Announcement) -> None:
        """Keep the video made ahead of time from housekeeping (a render served from the
        cache may already be old enough to be swept) until the announcement is done."""
        assert row.id is not None
        self.storage.release_files(file_owner(row.id))
        if row.video_path:
            self.storage.keep_files(file_owner(row.id), [row.video_path])

    async def note_admins(self, row: Announcement, text: str) -> None:
        try:
            target = await self._open(row.platform, row.origin_channel_id, row.server_id)
            await target.send(TextReply(text))
        except ChannelUnavailable:
            log.warning("could not tell the admins of %s:%s: %s", row.platform, row.server_id, text)

    async def _open(self, platform: str, channel_id: str, server_id: str) -> Responder:
        """``agent.open_channel``, giving a just-started platform adapter time to connect."""
        waited = timedelta()
        while platform not in self.agent.adapters and waited < ADAPTER_WAIT:
            await asyncio.sleep(_ADAPTER_POLL_SECONDS)
            waited += timedelta(seconds=_ADAPTER_POLL_SECONDS)
        return await self.agent.open_channel(platform, channel_id, server_id=server_id)

    # -- jobs -----------------------------------------------------------------------------

    def _add_job(self, row: Announcement, trigger: BaseTrigger, run_at: datetime) -> None:
        # The announcement itself decides what a late run means (grace window), so the
        # scheduler runs every job however late, once.
        self.agent.scheduler.add_job(post_due, trigger, args=[row.id], id=job_id(row.id),  # type: ignore[arg-type]
                                     next_run_time=run_at, misfire_grace_time=None, coalesce=True,
                                     replace_existing=True)

    def _remove_job(self, announcement_id: int) -> None:
        try:
            self.agent.scheduler.remove_job(job_id(announcement_id))
        except JobLookupError:
            pass

    @staticmethod
    def _trigger(row: Announcement) -> BaseTrigger:
        if row.crontab:
            return cron_trigger(row.crontab, row.timezone, as_utc(row.next_post_at))
        return DateTrigger(as_utc(row.next_post_at))

    def _latest_due(self, row: Announcement, now: datetime) -> datetime:
        """The stored next post, or for a recurring one the latest of its times not after ``now``."""
        due = as_utc(row.next_post_at)
        if not row.crontab:
            return due
        trigger = self._trigger(row)
        while (following := trigger.get_next_fire_time(due, due + timedelta(microseconds=1))) and following <= now:
            due = following
        return due


# -- commands -------------------------------------------------------------------------------


async def announce(ctx: Context, command: ParsedCommand) -> None:
    """``!announce`` and its sub-commands (admins only, checked by the agent)."""
    words = command.args
    action = words[0].lower() if words else ""
    if not words:
        await ctx.reply(USAGE.replace("!", ctx.agent.commands.prefix))
    elif action == "list":
        await list_announcements(ctx)
    elif action == "cancel":
        await cancel(ctx, words[1:])
    elif action in {"at", "cron"}:
        await schedule(ctx, command, action, words[1:])
    else:
        await announce_now(ctx, command, " ".join(words[1:] if action == "now" else words))


async def announce_now(ctx: Context, command: ParsedCommand, text: str) -> None:
    row = _draft(ctx, command, text)
    target = await _checked_channel(ctx, row.channel_id)
    async with ctx.working("preparing the announcement…") as status:
        request = ctx.agent.config.engine.request(row.persona, text=row.text, lang=row.lang)
        result = await ctx.render(request, status=status, label="announcement")
        await target.send(VideoReply(result.path, caption=row.text, duration=result.duration))
        await status.finish(TextReply(f"Announced in {_where(ctx, row.channel_id)}."))


async def schedule(ctx: Context, command: ParsedCommand, kind: str, words: list[str]) -> None:
    zone = ZoneInfo(ctx.agent.server_settings(ctx.event).timezone)
    now = clock()
    if kind == "at":
        first, rest = parse_moment(words, zone, now)
        plan = Schedule(first, DateTrigger(first))
    else:
        crontab, rest = parse_crontab(words)
        trigger = cron_trigger(crontab, zone.key, now)
        first_fire = trigger.get_next_fire_time(None, now)
        assert first_fire is not None  # cron_trigger refuses a schedule that never fires
        plan = Schedule(first_fire, trigger, crontab)
    announcer = Announcer(ctx.agent)
    limit = ctx.agent.config.announce.max_scheduled
    if len(announcer.scheduled(ctx.event.platform, ctx.event.channel.server_id)) >= limit:
        raise CommandError(f"This server already has {limit} scheduled announcements, the most it may have. "
                           f"Cancel one first (see {ctx.prefix}announce list).")
    row = _draft(ctx, command, " ".join(rest))
    row.crontab, row.timezone = plan.crontab, zone.key
    await _checked_channel(ctx, row.channel_id)
    async with ctx.working("rendering the announcement ahead of time…") as status:
        await announcer.prepare_video(row, Priority.INTERACTIVE)
        stored = announcer.schedule(row, plan)
        when = describe_moment(plan.first, zone)
        repeat = f'on the schedule "{plan.crontab}", first on {when}' if plan.crontab else f"for {when}"
        await status.finish(TextReply(
            f"Scheduled announcement #{stored.id} {repeat} in {_where(ctx, row.channel_id)}. The video is ready. "
            f"Cancel it with {ctx.agent.commands.prefix}announce cancel {stored.id}."))


async def list_announcements(ctx: Context) -> None:
    rows = Announcer(ctx.agent).scheduled(ctx.event.platform, ctx.event.channel.server_id)
    if not rows:
        await ctx.reply("No announcements are scheduled in this server.")
        return
    zone = ZoneInfo(ctx.agent.server_settings(ctx.event).timezone)
    lines = []
    for row in rows:
        when = describe_moment(as_utc(row.next_post_at), zone)
        repeat = f' (repeats "{row.crontab}", {row.timezone})' if row.crontab else ""
        text = row.text if len(row.text) <= 80 else row.text[:79] + "…"
        lines.append(f"#{row.id} · {when}{repeat} · {text}")
    await ctx.reply("Scheduled announcements:\n" + "\n".join(lines))


async def cancel(ctx: Context, words: list[str]) -> None:
    prefix = ctx.agent.commands.prefix
    if len(words) != 1 or not words[0].lstrip("#").isdigit():
        raise CommandError(f"Say which one, e.g. {prefix}announce cancel 3 (see {prefix}announce list).")
    announcer = Announcer(ctx.agent)
    row = announcer.get(int(words[0].lstrip("#")))
    if row is None or (row.platform, row.server_id) != (ctx.event.platform, ctx.event.channel.server_id):
        raise CommandError(f"There is no scheduled announcement #{words[0].lstrip('#')} in this server. "
                           f"See {prefix}announce list.")
    announcer.cancel(row)
    await ctx.reply(f"Cancelled announcement #{row.id}.")


def _draft(ctx: Context, command: ParsedCommand, text: str) -> Announcement:
    """An announcement of ``text`` by this server's persona, checked before any work is done."""
    if not text.strip():
        raise CommandError(f"Tell me what to announce, e.g. {ctx.agent.commands.prefix}announce \"We go live at 8!\"")
    settings = ctx.agent.server_settings(ctx.event)
    persona = ctx.agent.persona_for(ctx.event)
    return Announcement(
        platform=ctx.event.platform, server_id=ctx.event.channel.server_id,
        channel_id=settings.announce_channel or ctx.event.channel.id, origin_channel_id=ctx.event.channel.id,
        persona=persona.name, text=clean_text(text, max_chars=ctx.agent.config.engine.max_text_chars),
        timezone=settings.timezone, next_post_at=utcnow(), created_by=ctx.event.user.id,
        lang=chosen_language(ctx, command))


async def _checked_channel(ctx: Context, channel_id: str) -> Responder:
    try:
        return await ctx.agent.open_channel(ctx.event.platform, channel_id, server_id=ctx.event.channel.server_id)
    except ChannelUnavailable as error:
        raise CommandError(f"I can't post in the announcement channel {channel_id}: {error}. Give me permission "
                           f"there, or pick another with {ctx.agent.commands.prefix}server announce-channel.") from None


def _where(ctx: Context, channel_id: str) -> str:
    return "this channel" if channel_id == ctx.event.channel.id else f"channel {channel_id}"


@hookimpl
def register_models(register: Callable[[type[SQLModel]], None]) -> None:
    for model in (Announcement,):
        register(model)


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    register(Command("announce", "the server's persona reads an announcement on video, now or scheduled", announce,
                     usage="[--lang CODE] TEXT | at TIME TEXT | cron \"SCHEDULE\" TEXT | list | cancel ID",
                     arguments=(Option.text("what", 'TEXT, at TIME TEXT, cron "SCHEDULE" TEXT, list or cancel ID',
                                           raw=True),),
                     options=(LANG_OPTION,), admin_only=True, plugin=PLUGIN))


@hookimpl
def register_jobs(scheduler: BaseScheduler, agent: Agent) -> None:
    """Runs before the scheduler's first pass, so missed posts are handled here, once."""
    Announcer(agent).reconcile(scheduler)
