"""APScheduler, keeping its jobs in the agent's SQLite database so they survive a restart."""

from __future__ import annotations

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.storage import Storage

JOBS_TABLE = "scheduled_jobs"


def build_scheduler(storage: Storage, timezone: str = "UTC") -> AsyncIOScheduler:
    """A scheduler whose job store is the ``scheduled_jobs`` table of ``storage``'s database.

    Job functions must be importable module-level callables (the store pickles a
    reference to them), as APScheduler requires of persistent jobs.
    """
    store = SQLAlchemyJobStore(engine=storage.engine, tablename=JOBS_TABLE)
    return AsyncIOScheduler(jobstores={"default": store}, timezone=timezone)
