"""When a contest ends: ``--ends`` parsed in the server's time zone, and times shown back."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.commands import CommandError

_DURATION = re.compile(r"(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m(?:in)?)?", re.IGNORECASE)


def now() -> datetime:
    """The contest plugin's clock (tests move it to simulate downtime)."""
    return datetime.now(UTC)


def parse_deadline(text: str, zone: ZoneInfo, current: datetime, max_days: int) -> datetime:
    """``2h``, ``3d``, ``1d12h``, ``90m`` from ``current``, or an ISO date and time (in ``zone``
    unless it names its own offset); returns it in UTC, checked to lie in the future."""
    text = text.strip()
    duration = _DURATION.fullmatch(text)
    longest = timedelta(days=max_days)
    too_long = f"A contest can run for at most {max_days} days; pick an earlier end."
    if text and duration:
        parts = {k: int(v) for k, v in duration.groupdict(default="0").items()}
        minutes = parts["d"] * 24 * 60 + parts["h"] * 60 + parts["m"]
        if minutes > longest / timedelta(minutes=1):  # before timedelta(), which a huge number overflows
            raise CommandError(too_long)
        ends = current + timedelta(minutes=minutes)
    else:
        try:
            local = datetime.fromisoformat(text)
            ends = (local if local.tzinfo else local.replace(tzinfo=zone)).astimezone(UTC)
        except (ValueError, OverflowError):
            raise CommandError(
                f"I couldn't read the time {text!r}. Use a duration like 2h or 3d, or a date and time "
                f"like 2030-06-01T18:00 ({zone.key} time)."
            ) from None
        if "T" not in text.upper() and " " not in text:
            raise CommandError(f"Add the time of day to {text}, e.g. {text}T18:00 ({zone.key} time).")
    if ends <= current:
        raise CommandError(f"{describe(ends, zone)} has already passed. Pick an end in the future.")
    if ends - current > longest:
        raise CommandError(too_long)
    return ends


def describe(moment: datetime, zone: ZoneInfo) -> str:
    """``2030-06-01 18:00 CEST``: a moment as the server's members read it."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def time_left(ends: datetime, current: datetime) -> str:
    minutes = max(0, int((ends - current).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
