"""What a persona remembers of the people it talks to, per persona × platform × scope × user.

The scope is the server the conversation happened in, so what a member says in one
community never reaches another; a persona the operator marks global remembers a
member under ``GLOBAL_SCOPE`` everywhere. Each row holds the recent turns word for
word (bounded), a summary of the older ones, the facts learned, and when the member
was first and last seen.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, UniqueConstraint, col, select

from core.storage import Storage, utcnow
from personas.facts import merge_facts

_SENTENCE_END = re.compile(r"(?<=.{10}[.!?])(\s|$)")

#: Memory of a persona marked global is shared across servers under this scope.
GLOBAL_SCOPE = "*"

Turn = dict[str, str]  # {"role": "user" | "persona", "text": ...}
#: Folds turns that no longer fit into the summary: ``(summary so far, turns, member's name) -> summary``.
Summarizer = Callable[[str, list[Turn], str], str]


class PersonaMemory(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("persona", "platform", "scope", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    persona: str = Field(index=True)
    platform: str
    scope: str  # the server the memory belongs to, or GLOBAL_SCOPE
    user_id: str = Field(index=True)
    user_name: str = ""
    turns_json: str = "[]"  # recent turns: [{"role": "user"|"persona", "text": ...}]
    facts_json: str = "[]"  # things learned: ["likes jazz", ...]
    summary: str = ""  # condensed older turns
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    #: Raised by each update, so an update made from a stale read is refused (``MemoryStore.record``).
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})

    @property
    def turns(self) -> list[Turn]:
        return json.loads(self.turns_json)

    @property
    def facts(self) -> list[str]:
        return json.loads(self.facts_json)

    def seen_ago(self, now: datetime | None = None) -> float:
        """Seconds since the member was last seen."""
        last = self.last_seen if self.last_seen.tzinfo else self.last_seen.replace(tzinfo=UTC)  # SQLite drops it
        return ((now or utcnow()) - last).total_seconds()


@dataclass(frozen=True)
class MemoryKey:
    """Whose memory of whom: one row of ``PersonaMemory``."""

    persona: str
    platform: str
    scope: str
    user_id: str


@dataclass(frozen=True)
class Forgotten:
    """What ``MemoryStore.forget`` deleted."""

    places: int = 0
    facts: int = 0
    turns: int = 0
    summaries: int = 0


def recall(storage: Storage, persona: str, platform: str, scope: str, user_id: str) -> PersonaMemory | None:
    with storage.session() as session:
        return session.exec(_row(MemoryKey(persona, platform, scope, user_id))).first()


class MemoryStore:
    """Reads and updates persona memory in the agent's database; bounded by the ``[chat]`` limits."""

    def __init__(self, storage: Storage, *, max_turns: int, max_facts: int, max_summary_chars: int) -> None:
        self.storage = storage
        self.max_turns = max_turns
        self.max_facts = max_facts
        self.max_summary_chars = max_summary_chars
        # One read-modify-write per member at a time, so two quick messages both land; a slow
        # summary of one member's talk doesn't hold up anyone else's.
        self._locks: dict[MemoryKey, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._conversations: weakref.WeakValueDictionary[MemoryKey, asyncio.Lock] = weakref.WeakValueDictionary()

    def conversation(self, key: MemoryKey) -> asyncio.Lock:
        """Held while a member's message is answered, so their next message waits for this
        exchange to be remembered (replies in order, and a ``!forget me`` not undone by a
        reply still in the making); gone once nobody holds it."""
        lock = self._conversations.get(key)
        if lock is None:
            lock = self._conversations[key] = asyncio.Lock()
        return lock

    def recall(self, key: MemoryKey) -> PersonaMemory | None:
        return recall(self.storage, key.persona, key.platform, key.scope, key.user_id)

    def record(self, key: MemoryKey, *, user_name: str, user_text: str, reply_text: str,
               facts: list[str], summarize: Summarizer | None = None) -> PersonaMemory:
        """Add one exchange (the member's message and the persona's reply) and what it taught.

        Turns past ``max_turns`` are folded into the summary by ``summarize`` (the
        extractive ``digest`` when None); blocking, so call it from a worker thread when
        ``summarize`` runs a model.
        """
        with self._lock_of(key):
            while True:  # another process may write the same row between our read and our write: redo it
                memory = self.recall(key) or PersonaMemory(
                    persona=key.persona, platform=key.platform, scope=key.scope, user_id=key.user_id)
                turns = [*memory.turns, {"role": "user", "text": user_text}, {"role": "persona", "text": reply_text}]
                overflow, turns = turns[:-self.max_turns], turns[-self.max_turns:]
                if overflow:
                    fold = summarize or digest
                    memory.summary = _bounded(fold(memory.summary, overflow, user_name), self.max_summary_chars)
                memory.turns_json = json.dumps(turns, ensure_ascii=False)
                memory.facts_json = json.dumps(merge_facts(memory.facts, facts, limit=self.max_facts),
                                               ensure_ascii=False)
                memory.user_name = user_name
                memory.last_seen = utcnow()
                if self._write(memory):
                    return memory

    def _write(self, memory: PersonaMemory) -> bool:
        """Insert a new row, or update the row as it was read (its ``version``); False when
        another writer got there first."""
        with self.storage.session() as session:
            if memory.id is None:
                try:
                    session.add(memory)
                    session.commit()
                except IntegrityError:
                    return False
                session.refresh(memory)
                return True
            read = memory.version
            memory.version = read + 1
            changed = session.exec(update(PersonaMemory).where(
                col(PersonaMemory.id) == memory.id, col(PersonaMemory.version) == read,
            ).values({name: getattr(memory, name) for name in _WRITTEN}))
            session.commit()
            return changed.rowcount == 1

    def forget(self, persona: str, platform: str, user_id: str) -> Forgotten:
        """Delete everything ``persona`` remembers of the member on ``platform``, in every scope."""
        query = select(PersonaMemory).where(PersonaMemory.persona == persona, PersonaMemory.platform == platform,
                                            PersonaMemory.user_id == user_id)
        with self.storage.session() as session:
            rows = list(session.exec(query))
            for row in rows:
                session.delete(row)
            session.commit()
        return Forgotten(places=len(rows), facts=sum(len(r.facts) for r in rows),
                         turns=sum(len(r.turns) for r in rows), summaries=sum(1 for r in rows if r.summary))

    def _lock_of(self, key: MemoryKey) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())


_WRITTEN = ("turns_json", "facts_json", "summary", "user_name", "last_seen", "version")


def digest(summary: str, turns: list[Turn], user_name: str) -> str:
    """The summary without a model: what the member said, most recent last (the facts are kept apart)."""
    said = [_first_sentence(t["text"]) for t in turns if t["role"] == "user" and t["text"].strip()]
    if not said:
        return summary
    addition = f"{user_name or 'They'} said: " + "; ".join(f"“{s}”" for s in said)
    return f"{summary} {addition}".strip()


def _first_sentence(text: str, limit: int = 120) -> str:
    line = " ".join(text.split())
    match = _SENTENCE_END.search(line)
    sentence = line[:match.end()].rstrip() if match else line
    return sentence if len(sentence) <= limit else sentence[:limit - 1].rstrip() + "…"


def _bounded(summary: str, limit: int) -> str:
    """The newest ``limit`` characters of a summary, cut at a word."""
    summary = " ".join(summary.split())
    if len(summary) <= limit:
        return summary
    cut = summary[-(limit - 1):]
    return "…" + cut[cut.find(" ") + 1:] if " " in cut else "…" + cut


def _row(key: MemoryKey):  # type: ignore[no-untyped-def]
    return select(PersonaMemory).where(
        PersonaMemory.persona == key.persona, PersonaMemory.platform == key.platform,
        PersonaMemory.scope == key.scope, PersonaMemory.user_id == key.user_id,
    )
