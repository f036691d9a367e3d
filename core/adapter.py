"""The base class every platform adapter implements (one module per platform in ``adapters/``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from core.agent import Agent
    from core.config import Config, Secrets
    from core.replies import Responder


class ChannelUnavailable(Exception):
    """The bot cannot post in a channel: it is gone, unknown, or the bot lacks permission."""


#: The largest profile picture an adapter downloads (platforms serve them at a few hundred kB).
MAX_PICTURE_BYTES = 10 * 2**20


class ProfilePictureUnavailable(Exception):
    """A member's profile picture can't be had: the platform has none, or the download failed.
    The message says why, in words for the member."""


class Adapter(ABC):
    """Translates one platform's events into ``core.events`` and ``core.replies`` back.

    An adapter holds no feature logic: it hands every event to the agent and
    sends whatever the plugins answer in the platform's native form.
    """

    platform: ClassVar[str]

    def __init__(self, agent: Agent) -> None:
        self.agent = agent

    @classmethod
    def missing_settings(cls, secrets: Secrets, config: Config) -> list[str]:
        """Environment variables this adapter needs but doesn't have (which may depend on
        ``config``, e.g. Slack's mode); empty when ready."""
        return []

    @classmethod
    def refused_settings(cls, secrets: Secrets, config: Config) -> str:
        """Why the settings this adapter was given are unsafe to run with (a token too short to
        resist guessing); empty when there is nothing to refuse. ``mouthpiece run`` then stops."""
        return ""

    @abstractmethod
    async def run(self) -> None:
        """Serve until the platform connection ends or ``stop`` is called."""

    async def stop(self) -> None:
        """Ask ``run`` to return."""

    async def open_channel(self, channel_id: str, *, server_id: str | None = None) -> Responder:
        """A responder that posts into ``channel_id`` unprompted (announcements, welcome
        clips, contest results); raises ``ChannelUnavailable`` if the bot can't post there.

        With ``server_id`` (the server a setting or event belongs to), a channel the platform
        shows to be in another server is refused too: an admin of one server must never
        make the bot post into another server it is in."""
        raise ChannelUnavailable(f"{self.platform} cannot post outside a conversation")

    async def open_direct(self, user_id: str) -> Responder:
        """A responder that writes to the user privately (a direct message), for what only they
        may see (a sign-in link); raises ``ChannelUnavailable`` if the platform won't let the bot."""
        raise ChannelUnavailable(f"{self.platform} cannot send direct messages")

    async def profile_picture(self, user_id: str, folder: Path, *, server_id: str) -> Path | None:
        """Download member ``user_id``'s own profile picture (as shown in ``server_id``, where a
        platform lets a member have one per server) into ``folder``, at most ``MAX_PICTURE_BYTES``.
        None when the member has set none: a platform's stand-in for "no picture" is not a face.
        Raises ``ProfilePictureUnavailable`` when the platform can't give it."""
        raise ProfilePictureUnavailable(f"there are no profile pictures on the {self.platform}")
