"""``testbot.advance`` drives scheduled jobs without waiting on the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from core.scheduler import running_agent

fired: list[tuple[str, str]] = []


async def note(label: str) -> None:
    fired.append((label, running_agent().config.agent.name))


async def test_advance_runs_due_jobs_in_order_and_reschedules_cron_jobs(testbot) -> None:  # type: ignore[no-untyped-def]
    fired.clear()
    start = datetime.now(UTC) + timedelta(days=30)
    scheduler = testbot.agent.scheduler
    scheduler.add_job(note, DateTrigger(start + timedelta(hours=2)), args=["once"], id="once")
    scheduler.add_job(note, CronTrigger(hour=9, minute=0, timezone="UTC", start_date=start), args=["daily"], id="daily")
    assert await testbot.advance(start) == []
    ran = await testbot.advance(start + timedelta(days=2))
    assert sorted(ran) == ["daily", "daily", "once"]
    assert [label for label, _ in fired].count("daily") == 2
    assert all(name == "Mouthpiece" for _, name in fired)
    assert scheduler.get_job("once") is None
    assert scheduler.get_job("daily").next_run_time > start + timedelta(days=2)
