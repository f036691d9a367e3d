"""The database, side by side in one run.

    .venv/bin/python benchmarks/storage.py [--repeats 9] [--votes 400]

Prints the median time to open a new SQLite database by the Alembic revisions against
``create_all`` (how version 0.1 made it), the time to open one that is already up to date
(the start-up check), and votes recorded per second on SQLite (one process) and on
PostgreSQL (two engines, as two bot processes, 8 threads), each member's vote seen by both.
PostgreSQL runs on a temporary server of Debian's ``postgresql`` (skipped where it's missing).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import SQLModel

from core.database import PASSWORD_ENV, database_url, open_engine
from core.events import VoteEvent
from core.plugins import build_plugin_manager
from core.polls import Polls
from core.storage import Storage
from core.testing.testbot import CHANNEL, User
from tests.postgres import PostgresServer, server_programs


def median_ms(work, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def votes_per_second(storages: list[Storage], votes: int) -> float:
    polls = [Polls(storage) for storage in storages]

    def cast(n: int) -> None:
        member = User(id=f"m{n // 2}", name="m")
        polls[n % len(polls)].record(VoteEvent("test", member, CHANNEL, poll_id="bench", option=f"o{n % 3}"))

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(cast, range(votes)))
    elapsed = time.perf_counter() - started
    assert sum(polls[0].tally("test", "bench").values()) == votes // 2
    return votes / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--votes", type=int, default=400)
    args = parser.parse_args()
    build_plugin_manager()  # every built-in plugin's tables
    folder = Path(tempfile.mkdtemp())
    counter = iter(range(10**6))

    def by_create_all() -> None:
        engine = open_engine(database_url(folder / f"old{next(counter)}.db"))
        SQLModel.metadata.create_all(engine)
        engine.dispose()

    def by_migrations() -> None:
        Storage(folder / f"new{next(counter)}.db").close()

    Storage(folder / "current.db").close()
    print(f"open a new database: migrations {median_ms(by_migrations, args.repeats):.1f} ms, "
          f"create_all {median_ms(by_create_all, args.repeats):.1f} ms")
    print(f"open an up-to-date database: "
          f"{median_ms(lambda: Storage(folder / 'current.db').close(), args.repeats):.1f} ms")

    sqlite = Storage(folder / "votes.db")
    print(f"votes/s, SQLite, one process: {votes_per_second([sqlite], args.votes):.0f}")
    sqlite.close()
    programs = server_programs()
    if programs is None:
        print("votes/s, PostgreSQL: skipped (PostgreSQL's server programs are not installed)")
        return
    server = PostgresServer(programs)
    server.start()
    try:
        os.environ[PASSWORD_ENV] = server.password
        url = server.new_database()
        two = [Storage(url), Storage(url)]
        print(f"votes/s, PostgreSQL, two processes' engines: {votes_per_second(two, args.votes):.0f}")
        for storage in two:
            storage.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
