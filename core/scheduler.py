"""APScheduler, keeping its jobs in the agent's database so they survive a restart."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.storage import Storage

if TYPE_CHECKING:
    from core.agent import Agent

JOBS_TABLE = "scheduled_jobs"


def build_scheduler(storage: Storage, timezone: str = "UTC") -> AsyncIOScheduler:
    """A scheduler whose job store is the ``scheduled_jobs`` table of ``storage``'s database
    (made by the migrations; only the leader process runs its jobs, see ``core.leader``).

    Job functions must be importable module-level callables (the store pickles a
    reference to them), as APScheduler requires of persistent jobs, with plain
    arguments (ids, not objects); they reach the live agent through ``running_agent()``.
    """
    store = SQLAlchemyJobStore(engine=storage.engine, tablename=JOBS_TABLE)
    return AsyncIOScheduler(jobstores={"default": store}, timezone=timezone)


_running: Agent | None = None


def set_running_agent(agent: Agent | None) -> None:
    global _running
    _running = agent


def running_agent() -> Agent:
    """The agent of this process, for scheduled jobs (one agent runs per process)."""
    if _running is None:
        raise RuntimeError("no agent is running")
    return _running
