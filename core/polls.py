"""Votes on polls the bot posted: one vote per member per poll, changeable, kept in the database.

The agent records every ``VoteEvent`` here before plugins see it, so no platform can
count a member twice (a second button press, a second reaction) and a restart loses
nothing. A plugin with its own rules (no voting for oneself) calls ``withdraw``, or
``revert`` to give the member back the choice they had before the refused vote.
Adapters that must map their own message ids back to a poll (reactions) use
``remember_message`` and ``poll_for_message``.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

from sqlalchemy import UniqueConstraint, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select

from core.events import VoteEvent
from core.replies import PollReply
from core.storage import Storage, utcnow


class PollVote(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "poll_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(index=True)
    poll_id: str = Field(index=True)
    user_id: str
    option: str
    at: datetime = Field(default_factory=utcnow)
    previous: str | None = None  # the option chosen before the last change, for ``revert``


class PollMessage(SQLModel, table=True):
    """Which posted message carries which poll (for platforms whose votes name the message)."""

    __table_args__ = (UniqueConstraint("platform", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str
    message_id: str
    poll_id: str
    options_json: str  # the option ids in the order they were shown


class Polls:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def record(self, event: VoteEvent) -> bool:
        """Apply a vote or its withdrawal; True when the member's choice changed.

        The unique constraint counts a member once however many processes see their vote at
        the same moment: the one whose insert loses reads the winner's row and starts over."""
        try:
            return self._record(event)
        except IntegrityError:
            return self._record(event)

    def _record(self, event: VoteEvent) -> bool:
        with self.storage.session() as session:
            current = session.exec(select(PollVote).where(
                PollVote.platform == event.platform, PollVote.poll_id == event.poll_id,
                PollVote.user_id == event.user.id)).first()
            if event.added:
                if current is not None and current.option == event.option:
                    return False
                if current is None:
                    current = PollVote(platform=event.platform, poll_id=event.poll_id, user_id=event.user.id,
                                       option=event.option)
                else:
                    current.option, current.previous, current.at = event.option, current.option, utcnow()
                session.add(current)
            else:
                if current is None or current.option != event.option:
                    return False
                session.delete(current)
            session.commit()
            return True

    def withdraw(self, platform: str, poll_id: str, user_id: str) -> None:
        with self.storage.session() as session:
            for vote in session.exec(select(PollVote).where(
                    PollVote.platform == platform, PollVote.poll_id == poll_id, PollVote.user_id == user_id)):
                session.delete(vote)
            session.commit()

    def revert(self, platform: str, poll_id: str, user_id: str) -> str | None:
        """Undo a member's last vote: back to their previous option, or no vote if there
        was none; returns the option they are back on."""
        with self.storage.session() as session:
            vote = session.exec(select(PollVote).where(
                PollVote.platform == platform, PollVote.poll_id == poll_id, PollVote.user_id == user_id)).first()
            if vote is None:
                return None
            restored = vote.previous
            if restored is None:
                session.delete(vote)
            else:
                vote.option, vote.previous, vote.at = restored, None, utcnow()
                session.add(vote)
            session.commit()
            return restored

    def clear_option(self, platform: str, poll_id: str, option: str) -> int:
        """Remove every vote for ``option`` (an option that changed, so its votes no longer
        apply) and forget it as anyone's previous choice; returns how many votes went."""
        with self.storage.session() as session:
            in_poll = select(PollVote).where(PollVote.platform == platform, PollVote.poll_id == poll_id)
            removed = 0
            for vote in session.exec(in_poll.where(or_(col(PollVote.option) == option,
                                                       col(PollVote.previous) == option))):
                if vote.option == option:
                    session.delete(vote)
                    removed += 1
                else:
                    vote.previous = None
                    session.add(vote)
            session.commit()
            return removed

    def choice(self, platform: str, poll_id: str, user_id: str) -> str | None:
        with self.storage.session() as session:
            vote = session.exec(select(PollVote).where(
                PollVote.platform == platform, PollVote.poll_id == poll_id, PollVote.user_id == user_id)).first()
            return vote.option if vote else None

    def tally(self, platform: str, poll_id: str) -> dict[str, int]:
        with self.storage.session() as session:
            votes = session.exec(select(PollVote.option).where(
                PollVote.platform == platform, PollVote.poll_id == poll_id))
            return dict(Counter(votes))

    def remember_message(self, platform: str, message_id: str, poll: PollReply) -> None:
        self.storage.add(PollMessage(platform=platform, message_id=message_id, poll_id=poll.poll_id,
                                     options_json=json.dumps([o.id for o in poll.options])))

    def poll_for_message(self, platform: str, message_id: str) -> tuple[str, list[str]] | None:
        """The poll id and its option ids, in order, for a message the bot posted."""
        with self.storage.session() as session:
            row = session.exec(select(PollMessage).where(
                PollMessage.platform == platform, PollMessage.message_id == message_id)).first()
            return (row.poll_id, json.loads(row.options_json)) if row else None
