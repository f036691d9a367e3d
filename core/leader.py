"""Which process runs the scheduled jobs when several bot processes share one database.

Every process keeps its APScheduler on the shared job store, so any of them can schedule or
cancel a job, but only the leader's scheduler runs: the leader is the process holding a
PostgreSQL advisory lock on a connection of its own. The lock belongs to that connection, so
when the leader dies (or loses its connection) the server releases it and the next process to
ask takes over. A SQLite database serves one process, which always leads.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, text

from core.storage import Storage

log = logging.getLogger(__name__)

#: pg_try_advisory_lock key naming "the scheduler" (any constant shared by every process)
LOCK_KEY = 0x6D6F7574_68736368 & 0x7FFFFFFFFFFFFFFF


class Leadership:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.shared = not storage.is_sqlite
        self._connection: Connection | None = None
        self.held = False

    def try_acquire(self) -> bool:
        """Become the leader if nobody is; True when this process leads (now or already)."""
        if self.held:
            return True
        if not self.shared:
            self.held = True
            return True
        try:
            connection = self.storage.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except Exception as error:  # the database is unreachable: stay a follower and try again later
            log.warning("can't reach the database to ask for the scheduler lock: %s", type(error).__name__)
            return False
        if connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar():
            self._connection, self.held = connection, True
        else:
            connection.close()
        return self.held

    def still_held(self) -> bool:
        """False (and no longer leader) when the lock's connection is gone: the server has released it."""
        if not self.held or self._connection is None:
            return self.held
        try:
            self._connection.execute(text("SELECT 1"))
            return True
        except Exception:
            log.warning("lost the connection holding the scheduler lock; another process may take over")
            self._drop()
            return False

    def release(self) -> None:
        self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            # closing the server session releases the lock; the connection never returns to the pool
            self._connection.invalidate()
            self._connection.close()
        self._connection, self.held = None, False
