"""What every platform fake offers, so one test of a feature runs on every platform.

Each fake in ``core/testing/fakes/`` provides a fixture yielding a ``PlatformDriver``: a real
agent and the real adapter, talking through the platform's real client library to the
fake. A driver acts as a member would and returns what the bot left on the platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Sequence

if TYPE_CHECKING:
    from core.agent import Agent
    from core.events import User


@dataclass
class Delivered:
    """One message the bot posted, as members see it once the bot is done with it
    (a status message that was edited shows its last text)."""

    channel_id: str
    message_id: str
    text: str = ""  # the text, or the caption of an upload
    files: list[tuple[str, bytes]] = field(default_factory=list)  # uploaded files: name, content
    options: list[str] = field(default_factory=list)  # vote buttons or reactions offered, as shown
    kind: str = "message"  # "message", "video", "video_note", "file"


class PlatformDriver(Protocol):
    platform: str
    agent: Agent

    async def send(self, text: str, *, user: User, files: Sequence[Path] = ()) -> list[Delivered]:
        """Post ``text`` (with ``files`` attached) as ``user`` in the test channel; return
        what the bot delivered for it, once the agent has finished handling it."""

    async def join(self, user: User) -> list[Delivered]:
        """``user`` joins the test server; return what the bot posted anywhere because of it."""

    async def vote(self, poll: Delivered, option: int, *, user: User, added: bool = True) -> list[Delivered]:
        """``user`` picks (or withdraws) option number ``option`` of a poll the bot delivered;
        return what the bot posted or edited because of it."""

    def set_picture(self, user: User, picture: Path | None) -> None:
        """``user``'s profile picture on the platform becomes the image file ``picture``;
        ``None``: they have none (the platform shows its stand-in, or nothing)."""
