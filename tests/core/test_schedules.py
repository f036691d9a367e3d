"""Crontab schedules across daylight-saving changes: once per wall-clock time, never stuck."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.commands import CommandError
from core.schedules import cron_trigger


def fire_times(crontab: str, zone: str, start: datetime, end: datetime) -> list[datetime]:
    """The trigger's fire times from ``start`` to ``end``, asked as the scheduler asks (the
    previous fire time and a moment just after it); bounded, so a stuck trigger can't hang."""
    trigger = cron_trigger(crontab, zone, start)
    fires: list[datetime] = []
    following = trigger.get_next_fire_time(None, start)
    while following is not None and following <= end and len(fires) < 200:
        fires.append(following.astimezone(UTC))
        following = trigger.get_next_fire_time(following, following + timedelta(microseconds=1))
    return fires


def wall_clock_reference(hour: int | None, minute: int, zone: str, start: datetime, end: datetime) -> list[datetime]:
    """Every minute from ``start`` to ``end`` whose wall-clock time matches, each wall time once."""
    local_zone, seen, fires = ZoneInfo(zone), set(), []
    moment = start
    while moment <= end:
        local = moment.astimezone(local_zone)
        wall = local.replace(tzinfo=None, fold=0)
        if local.minute == minute and hour in (None, local.hour) and wall not in seen:
            seen.add(wall)
            fires.append(moment)
        moment += timedelta(minutes=1)
    return fires


@pytest.mark.parametrize(("zone", "start"), [
    ("Europe/Berlin", datetime(2031, 10, 22, 12, tzinfo=UTC)),  # clocks go back on Sun 26 Oct 2031
    ("America/New_York", datetime(2031, 10, 29, 12, tzinfo=UTC)),  # and on Sun 2 Nov 2031
])
@pytest.mark.parametrize(("hour", "minute"), [(2, 30), (1, 0), (None, 0), (None, 45)])
def test_when_the_clocks_go_back_a_time_in_the_repeated_hour_fires_once(
        zone: str, start: datetime, hour: int | None, minute: int) -> None:
    end = start + timedelta(days=6)
    fires = fire_times(f"{minute} {'*' if hour is None else hour} * * *", zone, start, end)
    assert fires == wall_clock_reference(hour, minute, zone, start, end)


def test_when_the_clocks_go_forward_a_daily_time_in_the_skipped_hour_still_fires_that_day() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    fires = fire_times("30 2 * * *", "Europe/Berlin", datetime(2031, 3, 27, 12, tzinfo=UTC),
                       datetime(2031, 4, 2, 12, tzinfo=UTC))
    assert [f.astimezone(berlin).date().day for f in fires] == [28, 29, 30, 31, 1, 2]
    assert all(earlier < later for earlier, later in zip(fires, fires[1:]))


def test_a_daily_schedule_in_the_repeated_hour_is_accepted_just_before_the_clocks_go_back() -> None:
    trigger = cron_trigger("30 2 * * *", "Europe/Berlin", datetime(2031, 10, 22, 12, tzinfo=UTC))
    first = trigger.get_next_fire_time(None, datetime(2031, 10, 22, 12, tzinfo=UTC))
    assert first == datetime(2031, 10, 23, 0, 30, tzinfo=UTC)


def test_a_day_of_the_month_and_a_weekday_together_are_refused() -> None:
    now = datetime(2031, 1, 1, tzinfo=UTC)
    with pytest.raises(CommandError, match="not both"):
        cron_trigger("0 9 1 * MON", "UTC", now)
    assert cron_trigger("0 9 1 * *", "UTC", now) is not None
    assert cron_trigger("0 9 * * MON", "UTC", now) is not None
