"""Housekeeping: a retention job over rendered files, and ``!cleanup`` to run it now.

Every ``[housekeeping] every_minutes`` the job deletes rendered files in the engine's
output folder and render cache that are older than ``max_age_days``; if the folders
still hold more than ``max_folder_mb``, the oldest go first until they fit. A cache
entry (``KEY.mp4`` with its ``KEY.json``) goes as one. The render records stay in the
database, marked with ``deleted_at``.

Files still needed are protected: whoever needs a rendered file later (an entry of a
running contest, a video made in advance for a scheduled post) registers it with
``agent.storage.keep_files(owner, paths, until=...)`` and releases it with
``agent.storage.release_files(owner)``. Renders still being written (``.part``) are
only ever deleted for age, never to make room.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import col, select

from core.commands import Command
from core.context import Context
from core.events import ParsedCommand
from core.plugins import hookimpl
from core.scheduler import running_agent
from core.storage import RenderRecord, Storage, utcnow

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from core.agent import Agent

log = logging.getLogger(__name__)

JOB_ID = "housekeeping-retention"
_MB = 1024 * 1024


@dataclass
class SweepReport:
    deleted: list[Path] = field(default_factory=list)
    freed_bytes: int = 0
    kept: int = 0  # files due for deletion but protected
    remaining_bytes: int = 0


@dataclass
class _Unit:
    """Files that live and die together: a video and its metadata, or a render in progress."""

    sizes: dict[Path, int]
    mtime: float  # of its newest file

    @property
    def size(self) -> int:
        return sum(self.sizes.values())

    @property
    def in_progress(self) -> bool:
        return any(".part" in f.name for f in self.sizes)

    def protected_by(self, protected: set[Path]) -> bool:
        return any(f.resolve() in protected for f in self.sizes)


def sweep(folders: Iterable[Path], *, max_age: timedelta, max_bytes: int, protected: set[Path],
          now: float) -> SweepReport:
    """Delete what is older than ``max_age``, then the oldest until at most ``max_bytes`` remain;
    never a file in ``protected`` (resolved paths). ``now`` is a Unix time, as file times are."""
    report = SweepReport()
    cutoff = now - max_age.total_seconds()
    survivors = []
    for unit in _units(folders):
        if unit.mtime >= cutoff:
            survivors.append(unit)
        elif unit.protected_by(protected):
            report.kept += len(unit.sizes)
            survivors.append(unit)
        else:
            _delete(unit, report)
    total = sum(u.size for u in survivors)
    for unit in sorted(survivors, key=lambda u: u.mtime):
        if total <= max_bytes:
            break
        if not unit.in_progress and not unit.protected_by(protected):
            total -= _delete(unit, report)
    report.remaining_bytes = total
    return report


async def run_retention(agent: Agent) -> SweepReport:
    """One sweep with the agent's settings; marks the render records of deleted files."""
    settings, engine = agent.config.housekeeping, agent.config.engine
    started = utcnow()
    report = await asyncio.to_thread(
        sweep, [engine.output_dir, engine.cache_dir], max_age=timedelta(days=settings.max_age_days),
        max_bytes=int(settings.max_folder_mb * _MB), protected=agent.storage.kept_paths(started),
        now=started.timestamp())
    _mark_deleted(agent.storage, report.deleted, started)
    if report.deleted:
        log.info("housekeeping deleted %d files (%.1f MB)", len(report.deleted), report.freed_bytes / _MB)
    return report


async def retention_job() -> None:
    """The scheduled job."""
    await run_retention(running_agent())


async def cleanup(ctx: Context, command: ParsedCommand) -> None:
    """Admins: run the retention job now and say what it freed."""
    report = await run_retention(ctx.agent)
    cap = ctx.agent.config.housekeeping.max_folder_mb
    kept = f" {report.kept} old file(s) are kept for pending posts." if report.kept else ""
    await ctx.reply(f"Housekeeping: deleted {len(report.deleted)} file(s), "
                    f"freed {report.freed_bytes / _MB:.1f} MB.{kept} "
                    f"The render folders now hold {report.remaining_bytes / _MB:.1f} MB (cap {cap:g} MB).")


@hookimpl
def register_jobs(scheduler: BaseScheduler, agent: Agent) -> None:
    every = timedelta(minutes=agent.config.housekeeping.every_minutes)
    existing = scheduler.get_job(JOB_ID)
    if existing is not None and getattr(existing.trigger, "interval", None) == every:
        return  # keep its next run: restarting must not push the sweep further away each time
    scheduler.add_job(retention_job, IntervalTrigger(seconds=every.total_seconds()), id=JOB_ID,
                      replace_existing=True, coalesce=True, misfire_grace_time=None)


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    register(Command("cleanup", "delete old rendered files now and say what was freed", cleanup,
                     admin_only=True, plugin="housekeeping"))


def _units(folders: Iterable[Path]) -> list[_Unit]:
    groups: dict[Path, dict[Path, os.stat_result]] = defaultdict(dict)
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            try:
                stat = path.lstat()
            except OSError:
                continue  # deleted meanwhile
            if stat.st_mode & 0o170000 == 0o100000:  # a regular file, not a link or a folder
                groups[path.with_suffix("")][path] = stat  # KEY.mp4 and KEY.json group as KEY
    return [_Unit({p: s.st_size for p, s in files.items()}, max(s.st_mtime for s in files.values()))
            for files in groups.values()]


def _delete(unit: _Unit, report: SweepReport) -> int:
    """Delete the unit's files; returns the bytes freed."""
    freed = 0
    for path, size in unit.sizes.items():
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            log.warning("housekeeping could not delete %s: %s", path, error)
            continue
        report.deleted.append(path)
        freed += size
    report.freed_bytes += freed
    return freed


def _mark_deleted(storage: Storage, paths: list[Path], at: datetime) -> None:
    names = sorted({str(p) for p in paths} | {str(p.resolve()) for p in paths})
    with storage.session() as session:
        for start in range(0, len(names), 500):  # SQLite caps the parameters of one statement
            query = select(RenderRecord).where(col(RenderRecord.path).in_(names[start:start + 500]),
                                               col(RenderRecord.deleted_at).is_(None))
            for record in session.exec(query):
                record.deleted_at = at
                session.add(record)
        session.commit()
