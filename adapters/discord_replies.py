"""Core replies in Discord's native form: messages, uploads, reaction polls, edited status messages."""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord

from core.replies import (
    FileReply,
    PollReply,
    PollTally,
    Reply,
    Responder,
    StatusMessage,
    TextReply,
    VideoReply,
    split_text,
)
from engine.errors import RenderError
from engine.fit import VideoTooLargeError, fit_to_limit

if TYPE_CHECKING:
    from core.polls import Polls

log = logging.getLogger(__name__)

PLATFORM = "discord"
#: Reactions offered for a poll's options, in order.
OPTION_EMOJI = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟")
MESSAGE_LIMIT = 2000  # characters in one Discord message
#: Discord allows 5 edits of a message per 5 s; one a second leaves room for the final one.
EDIT_INTERVAL = 1.0
_ENTITY_TOO_LARGE = 40005  # Discord's error code for an upload over the limit


class UploadError(RenderError):
    """An upload Discord refused; the message is for the member."""


def upload_limit(guild: discord.Guild | None) -> int:
    """The largest file the bot may upload in ``guild`` (its boost level decides), or in a DM."""
    return guild.filesize_limit if guild is not None else discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES


@asynccontextmanager
async def upload_file(path: Path, limit: int) -> AsyncIterator[discord.File]:
    """``path`` as a ``discord.File`` within ``limit`` bytes: a video over it is re-encoded
    smaller first (in a thread). Raises ``VideoTooLargeError`` or ``UploadError``."""
    with tempfile.TemporaryDirectory(prefix="mouthpiece-fit-") as folder:
        fitted = path
        if path.suffix.lower() == ".mp4":
            fitted = await asyncio.to_thread(fit_to_limit, path, limit, Path(folder))
        elif path.stat().st_size > limit:
            raise UploadError(f"{path.name} is {path.stat().st_size / 2**20:.1f} MB; this server's upload "
                              f"limit is {limit / 2**20:.0f} MB.")
        yield discord.File(fitted, path.name)


def upload_refused(error: discord.HTTPException) -> RenderError:
    """What to tell the member when Discord refused an upload."""
    if error.code == _ENTITY_TOO_LARGE or error.status == 413:
        return VideoTooLargeError("Discord refused the video as too large for this server's upload limit. "
                                  "Try a shorter clip.")
    log.warning("an upload failed: %s", error)
    return UploadError(f"Discord refused the upload ({error.status}: {error.text or 'no reason given'}). "
                       "Try again in a moment.")


async def upload(channel: discord.abc.Messageable, path: Path, caption: str,
                 reference: discord.Message | None = None) -> discord.Message:
    """Post ``path`` with ``caption`` within the upload limit; errors are ``RenderError``s for the member."""
    async with upload_file(path, upload_limit(getattr(channel, "guild", None))) as file:
        try:
            return await channel.send(caption[:MESSAGE_LIMIT] or None, file=file, **replying_to(reference))
        except discord.HTTPException as error:
            raise upload_refused(error) from None


def replying_to(reference: discord.Message | None) -> dict[str, Any]:
    """``send`` keywords that answer ``reference`` (without pinging its author), when there is one."""
    return {"reference": reference, "mention_author": False} if reference is not None else {}


class ChannelResponder(Responder):
    """Answers in a channel, as a reply to the member's message when there is one."""

    def __init__(self, channel: discord.abc.Messageable, polls: Polls,
                 reference: discord.Message | None = None) -> None:
        self.channel, self.polls, self.reference = channel, polls, reference

    async def send(self, reply: Reply) -> None:
        match reply:
            case TextReply(text=text):
                for piece in split_text(text, MESSAGE_LIMIT):
                    await self.channel.send(piece, **replying_to(self.reference))
            case VideoReply(path=path, caption=caption) | FileReply(path=path, caption=caption):
                await self._upload_or_explain(path, caption)
            case PollReply():
                await self.send_poll(reply)
            case PollTally():
                pass  # the reaction counts under the poll already show the tally
            case _:
                raise TypeError(f"unknown reply {reply!r}")

    async def status(self, text: str) -> StatusMessage:
        message = await self.channel.send(text, **replying_to(self.reference))
        return DiscordStatus(self, message)

    async def send_poll(self, poll: PollReply) -> discord.Message:
        """The poll's text and options (with its video, if any), one number reaction per option."""
        if len(poll.options) > len(OPTION_EMOJI):
            raise ValueError(f"a Discord poll takes at most {len(OPTION_EMOJI)} options, got {len(poll.options)}")
        lines = [poll.text, *(f"{emoji} {option.label}" for emoji, option in zip(OPTION_EMOJI, poll.options))]
        text = "\n".join(lines)
        if poll.video is not None:
            message = await upload(self.channel, poll.video, text)
        else:
            message = await self.channel.send(text[:MESSAGE_LIMIT])
        # Remembered before the reactions go on, so no early vote is missed.
        self.polls.remember_message(PLATFORM, str(message.id), poll)
        for emoji in OPTION_EMOJI[:len(poll.options)]:
            await message.add_reaction(emoji)
        return message

    async def _upload_or_explain(self, path: Path, caption: str) -> None:
        try:
            await upload(self.channel, path, caption, self.reference)
        except RenderError as error:
            await self.channel.send(str(error), **replying_to(self.reference))


class DiscordStatus(StatusMessage):
    """One message, edited as the work goes on (at most once a second), then replaced."""

    def __init__(self, responder: ChannelResponder, message: discord.Message) -> None:
        self.responder, self.message = responder, message
        self.text = message.content
        self.edited_at = time.monotonic()
        self.lock = asyncio.Lock()
        self.finished = False

    async def update(self, text: str) -> None:
        async with self.lock:
            if self.finished or text == self.text or time.monotonic() - self.edited_at < EDIT_INTERVAL:
                return
            self.text, self.edited_at = text, time.monotonic()
            try:
                await self.message.edit(content=text)
            except discord.HTTPException as error:
                log.warning("could not edit a status message: %s", error)

    async def finish(self, reply: Reply | None = None) -> None:
        """Text turns the status into the answer; an upload takes its place (posted first,
        then the status goes, so the channel never looks empty in between)."""
        async with self.lock:
            self.finished = True
            match reply:
                case TextReply(text=text) if len(text) <= MESSAGE_LIMIT:
                    await self.message.edit(content=text)
                    return
                case VideoReply(path=path, caption=caption) | FileReply(path=path, caption=caption):
                    try:
                        await upload(self.responder.channel, path, caption, self.responder.reference)
                    except RenderError as error:
                        await self.message.edit(content=str(error))
                        return
                case None:
                    pass
                case _:
                    await self.responder.send(reply)
            await self._delete()

    async def _delete(self) -> None:
        try:
            await self.message.delete()
        except discord.HTTPException as error:
            log.warning("could not remove a status message: %s", error)
