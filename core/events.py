"""Platform-neutral events an adapter hands to the agent.

Adapters translate their platform's native events into these; plugins see only
these. Identifiers are strings because platforms disagree on their type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Awaitable, Callable

if TYPE_CHECKING:
    from core.options import Value


@dataclass(frozen=True)
class User:
    id: str
    name: str  # display name as the community sees it
    is_admin: bool = False  # a platform admin of the place the event came from
    is_bot: bool = False


@dataclass(frozen=True)
class Channel:
    id: str
    server_id: str  # guild / group chat / workspace; equals ``id`` for direct messages
    name: str = ""
    server_name: str = ""
    is_direct: bool = False


@dataclass(frozen=True)
class Attachment:
    """A file that came with a message; ``download`` stores it locally on demand."""

    filename: str
    size: int | None
    content_type: str | None
    download: Callable[[Path], Awaitable[Path]]  # writes into the given folder, returns the file
    local: bool = False  # already on this machine (the console): "reading", not "downloading"


@dataclass(frozen=True)
class Event:
    platform: str
    user: User
    channel: Channel


@dataclass(frozen=True)
class MessageEvent(Event):
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    message_id: str = ""
    mentions_bot: bool = False
    replies_to_bot: bool = False  # an answer to one of the bot's own messages


@dataclass(frozen=True)
class MemberJoinEvent(Event):
    pass


@dataclass(frozen=True)
class VoteEvent(Event):
    """A member chose (``added``) or withdrew an option of a poll the bot posted."""

    poll_id: str = ""
    option: str = ""
    added: bool = True


@dataclass
class ParsedCommand:
    name: str
    args: list[str] = field(default_factory=list)
    #: Every declared option and argument given, converted to its kind (``core.options.Value``).
    options: dict[str, Value] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The words that weren't options, as one text."""
        return " ".join(self.args)
