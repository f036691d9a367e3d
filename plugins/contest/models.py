"""A contest, its entries and final standings: rows in the agent's database.

Votes are not kept here: each contest is one poll of ``core.polls`` (``contest-ID``)
whose options are its entries, so a member has one vote per contest, moved by
voting for another entry. An option id names the entry and its revision
(``ENTRY.REVISION``): a replaced recording is a new option, and the old one's votes
are cleared.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy import Index, UniqueConstraint, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select

from core.events import User
from core.polls import Polls
from core.storage import Storage, utcnow

POLL_PREFIX = "contest-"


class Status:
    OPEN = "open"  # taking entries and votes
    CLOSED = "closed"  # tallied; the result is still to be posted
    ANNOUNCED = "announced"
    UNDELIVERED = "undelivered"  # the result could not be posted, even after retries


RUNNING = f"status = '{Status.OPEN}'"


class Contest(SQLModel, table=True):
    # at most one running contest per server, whichever process starts it
    __table_args__ = (Index("uq_contest_running", "platform", "server_id", unique=True,
                            sqlite_where=text(RUNNING), postgresql_where=text(RUNNING)),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(index=True)
    server_id: str = Field(index=True)
    channel_id: str
    theme: str
    personas_csv: str  # the personas performing every entry, in order
    ends_at: datetime
    started_by: str
    status: str = Field(default=Status.OPEN, index=True)
    closed_at: datetime | None = None
    standings_json: str = "[]"  # the final standings, written when the contest closes
    announce_attempts: int = 0

    @property
    def poll_id(self) -> str:
        return f"{POLL_PREFIX}{self.id}"

    @property
    def persona_names(self) -> list[str]:
        return self.personas_csv.split(",")

    @property
    def ends(self) -> datetime:
        return _aware(self.ends_at)

    @property
    def file_owner(self) -> str:
        """The name under which the contest keeps its entries' videos from housekeeping."""
        return f"contest:{self.id}"

    def final_standings(self) -> list[Standing]:
        return [Standing(**{**row, "video": EntryVideo(**row["video"])}) for row in json.loads(self.standings_json)]


class ContestEntry(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("contest_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = Field(foreign_key="contest.id", index=True)
    user_id: str
    user_name: str
    revision: int = 1
    entered_at: datetime = Field(default_factory=utcnow)
    videos_json: str  # [EntryVideo, ...], one per persona of the contest

    @property
    def option(self) -> str:
        return f"{self.id}.{self.revision}"

    @property
    def videos(self) -> list[EntryVideo]:
        return [EntryVideo(**video) for video in json.loads(self.videos_json)]


@dataclass(frozen=True)
class EntryVideo:
    persona: str
    path: str
    duration: float


@dataclass(frozen=True)
class Standing:
    entry_id: int
    user_id: str
    name: str
    votes: int
    video: EntryVideo


def contest_of_poll(poll_id: str) -> int | None:
    number = poll_id.removeprefix(POLL_PREFIX)
    return int(number) if poll_id.startswith(POLL_PREFIX) and number.isdigit() else None


def get(storage: Storage, contest_id: int) -> Contest | None:
    with storage.session() as session:
        return session.get(Contest, contest_id)


def open_in(storage: Storage, platform: str, server_id: str) -> Contest | None:
    """The server's running contest (there is at most one)."""
    with storage.session() as session:
        return session.exec(select(Contest).where(
            Contest.platform == platform, Contest.server_id == server_id, Contest.status == Status.OPEN)).first()


def latest_in(storage: Storage, platform: str, server_id: str) -> Contest | None:
    with storage.session() as session:
        return session.exec(select(Contest).where(Contest.platform == platform, Contest.server_id == server_id)
                            .order_by(col(Contest.id).desc())).first()


def unfinished(storage: Storage) -> list[Contest]:
    """Contests still running, or closed with the result not yet posted."""
    with storage.session() as session:
        return list(session.exec(select(Contest).where(col(Contest.status).in_([Status.OPEN, Status.CLOSED]))))


def entries(storage: Storage, contest_id: int) -> list[ContestEntry]:
    with storage.session() as session:
        return list(session.exec(select(ContestEntry).where(ContestEntry.contest_id == contest_id)
                                 .order_by(col(ContestEntry.id))))


def entry_for_option(storage: Storage, contest_id: int, option: str) -> ContestEntry | None:
    """The entry an option id names, if it is that entry's current recording."""
    return next((e for e in entries(storage, contest_id) if e.option == option), None)


def start(storage: Storage, contest: Contest) -> bool:
    """Store a new running contest; False when its server already has one (the database
    decides, so two processes starting one at once can't both succeed)."""
    try:
        storage.add(contest)
    except IntegrityError:
        return False
    return True


def save_entry(storage: Storage, contest_id: int, user: User,
               videos: list[EntryVideo]) -> tuple[ContestEntry, str | None]:
    """Add the member's entry, or replace their recording in the same slot; returns the
    entry and, for a replacement, the option id of the recording it replaced."""
    try:
        return _save_entry(storage, contest_id, user, videos)
    except IntegrityError:  # another process stored the member's first entry meanwhile: replace it
        return _save_entry(storage, contest_id, user, videos)


def _save_entry(storage: Storage, contest_id: int, user: User,
                videos: list[EntryVideo]) -> tuple[ContestEntry, str | None]:
    with storage.session() as session:
        entry = session.exec(select(ContestEntry).where(
            ContestEntry.contest_id == contest_id, ContestEntry.user_id == user.id)).first()
        new = entry is None
        if entry is None:
            entry = ContestEntry(contest_id=contest_id, user_id=user.id, user_name=user.name, videos_json="[]")
        else:  # counted by the database, so two replacements at once get two revisions
            entry.revision = ContestEntry.revision + 1
        entry.user_name = user.name
        entry.videos_json = json.dumps([asdict(v) for v in videos])
        session.add(entry)
        session.commit()
        session.refresh(entry)
        return entry, None if new else f"{entry.id}.{entry.revision - 1}"


def standings(polls: Polls, contest: Contest, contest_entries: list[ContestEntry]) -> list[Standing]:
    """Entries by votes, most first; equal votes keep the order of entry."""
    tally = polls.tally(contest.platform, contest.poll_id)
    rows = [Standing(e.id or 0, e.user_id, e.user_name, tally.get(e.option, 0), e.videos[0]) for e in contest_entries]
    return sorted(rows, key=lambda s: -s.votes)


def close(storage: Storage, polls: Polls, contest_id: int, at: datetime) -> Contest | None:
    """Tally and close a running contest; None if it is not running (already closed)."""
    contest = get(storage, contest_id)
    if contest is None or contest.status != Status.OPEN:
        return None
    final = standings(polls, contest, entries(storage, contest_id))
    with storage.session() as session:  # only one closing wins, whichever process runs it
        closed = session.exec(update(Contest).where(col(Contest.id) == contest_id, col(Contest.status) == Status.OPEN)
                              .values(status=Status.CLOSED, closed_at=at,
                                      standings_json=json.dumps([asdict(s) for s in final])))
        session.commit()
    return get(storage, contest_id) if closed.rowcount == 1 else None


def set_status(storage: Storage, contest: Contest, status: str) -> Contest:
    contest.status = status
    return _save(storage, contest)


def count_attempt(storage: Storage, contest: Contest) -> Contest:
    contest.announce_attempts += 1
    return _save(storage, contest)


def _save(storage: Storage, contest: Contest) -> Contest:
    saved = storage.add(contest)
    assert isinstance(saved, Contest)
    return saved


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; every one stored here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
