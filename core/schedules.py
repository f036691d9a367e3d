"""Reading the times people write in chat: one moment (ISO) or a crontab, in a server's time zone."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from core.commands import CommandError

_CLOCK_TIME = re.compile(r"\d{1,2}:\d{2}(:\d{2})?")
#: A digit in the day-of-week field that is not a step ("*/2"): APScheduler 3 counts
#: 0 as Monday where crontab counts it as Sunday, so numbers would pick the wrong day.
_WEEKDAY_NUMBER = re.compile(r"(?<![/\d])\d")
#: A schedule may fire at most this often, so a typo can't flood a channel with videos.
MIN_INTERVAL = timedelta(hours=1)


class WallClockCronTrigger(CronTrigger):
    """A ``CronTrigger`` that fires at most once per wall-clock time, as cron does: when the
    clocks go back, a time in the repeated hour fires on its first pass only. APScheduler 3's
    own trigger fires it again on the second pass and from there keeps answering that same
    moment as the next one, so the scheduler's catch-up loop never ends."""

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        fire = super().get_next_fire_time(previous_fire_time, now)
        after = now.astimezone(UTC)
        while fire is not None and fire.fold:
            after = max(after, fire.astimezone(UTC)) + timedelta(seconds=1)
            fire = super().get_next_fire_time(None, after)
        return fire


def parse_moment(words: list[str], zone: ZoneInfo, now: datetime) -> tuple[datetime, list[str]]:
    """The moment at the start of ``words`` (``2026-12-01T09:00``, or date and time as two
    words; without an offset it is in ``zone``) and the words after it. It must be in the future."""
    if not words:
        raise CommandError("Say when, e.g. at 2026-12-01T09:00 followed by the text.")
    spec, rest = words[0], words[1:]
    if "T" not in spec.upper() and rest and _CLOCK_TIME.fullmatch(rest[0]):
        spec, rest = f"{spec}T{rest[0]}", rest[1:]
    example = f"e.g. 2026-12-01T09:00 (in this server's time zone, {zone.key})"
    try:
        local = datetime.fromisoformat(spec)
        moment = local.replace(tzinfo=zone) if local.tzinfo is None else local
        moment.astimezone(UTC)  # a moment at the calendar's very edge has no UTC time
    except (ValueError, OverflowError):
        raise CommandError(f"I couldn't read the time {spec!r}. Write it as YYYY-MM-DDTHH:MM, {example}.") from None
    if "T" not in spec.upper():
        raise CommandError(f"Add the time of day to {spec}, {example}.")
    if moment <= now:
        raise CommandError(f"{describe_moment(moment, zone)} is in the past; it is now "
                           f"{describe_moment(now, zone)}. Pick a later time.")
    return moment, rest


def parse_crontab(words: list[str]) -> tuple[str, list[str]]:
    """The crontab at the start of ``words`` (one quoted word, or its five fields) and the rest."""
    if words and len(words[0].split()) == 5:
        return " ".join(words[0].split()), words[1:]
    if len(words) >= 5 and all(len(word.split()) == 1 for word in words[:5]):
        return " ".join(words[:5]), words[5:]
    raise CommandError('Write the schedule as five crontab fields in quotes (minute hour day month weekday), '
                       'e.g. cron "0 9 * * MON" followed by the text.')


def cron_trigger(crontab: str, zone: str, now: datetime) -> WallClockCronTrigger:
    """A trigger for ``crontab`` in ``zone``; ``CommandError`` says what is wrong with it."""
    day, weekday = crontab.split()[2], crontab.split()[4]
    if _WEEKDAY_NUMBER.search(weekday):
        raise CommandError(f"Write the day of the week as names, e.g. MON or MON-FRI, not {weekday!r}: "
                           "cron dialects disagree on which day a number means.")
    if day != "*" and weekday != "*":
        # crontab fires when either field matches, APScheduler only when both do: refuse the ambiguity.
        raise CommandError(f"Give a day of the month ({day!r}) or a day of the week ({weekday!r}), not both: "
                           "cron dialects disagree on whether either or both must match.")
    try:
        trigger = WallClockCronTrigger.from_crontab(crontab, timezone=zone)
    except ValueError as error:
        raise CommandError(f"I couldn't read the schedule {crontab!r}: {error}. "
                           'The five fields are minute hour day month weekday, e.g. "0 9 * * MON".') from None
    fires = _fire_times(trigger, now, count=10)
    if not fires:
        raise CommandError(f"The schedule {crontab!r} never fires. Check the day and month.")
    if any(later - earlier < MIN_INTERVAL for earlier, later in itertools.pairwise(fires)):
        raise CommandError(f"The schedule {crontab!r} fires more often than once an hour; "
                           "announcements may be at most hourly.")
    return trigger


def describe_moment(moment: datetime, zone: ZoneInfo) -> str:
    """``Tue 1 Dec 2026, 09:00 (Europe/Berlin)``."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({zone.key})"


def _fire_times(trigger: CronTrigger, now: datetime, count: int) -> list[datetime]:
    fires: list[datetime] = []
    following = trigger.get_next_fire_time(None, now)
    while following is not None and len(fires) < count:
        fires.append(following)
        following = trigger.get_next_fire_time(following, following + timedelta(microseconds=1))
    return fires
