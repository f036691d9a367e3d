"""Platform-neutral replies a plugin answers with, and the responder that sends them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

#: What a member is told when their request hit a fault on our side (the log has the details).
SORRY = "Sorry, something went wrong on my side. The admins can find the details in the log."


@dataclass(frozen=True)
class TextReply:
    text: str


@dataclass(frozen=True)
class VideoReply:
    path: Path
    caption: str = ""
    duration: float = 0.0


@dataclass(frozen=True)
class FileReply:
    path: Path
    caption: str = ""


@dataclass(frozen=True)
class VoteOption:
    id: str
    label: str


@dataclass(frozen=True)
class PollReply:
    """A message members vote on (buttons or reactions, as the platform does it)."""

    poll_id: str
    text: str
    options: tuple[VoteOption, ...]
    video: Path | None = None


@dataclass(frozen=True)
class PollTally:
    """The current vote counts of a poll the bot posted, for platforms that show them
    on the poll itself (Telegram's button labels); others may ignore it."""

    poll_id: str
    counts: dict[str, int]


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, broken at line ends where possible,
    for platforms that cap the length of one message."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > 0 else limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*pieces, text] if text or not pieces else pieces


Reply = TextReply | VideoReply | FileReply | PollReply | PollTally


class StatusMessage(ABC):
    """A message that is edited as long work goes on, then replaced by the result."""

    @abstractmethod
    async def update(self, text: str) -> None:
        """Show ``text`` instead; never called after ``finish``."""

    @abstractmethod
    async def finish(self, reply: Reply | None = None) -> None:
        """Replace the status with ``reply`` (or just remove it)."""


class Responder(ABC):
    """Sends replies to where an event came from; each adapter implements one."""

    @abstractmethod
    async def send(self, reply: Reply) -> None: ...

    @abstractmethod
    async def status(self, text: str) -> StatusMessage: ...
