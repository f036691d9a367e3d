"""Answering a slash command (built in ``adapters/discord_commands.py``).

The command line it stands for is handed to the agent like any message, so both
paths run the same plugin code. The interaction is acknowledged at once ("… is thinking"); that placeholder then
becomes the status message and finally the answer, the video attached. The
interaction's token lasts 15 minutes: whatever is answered later (a long render
in a busy queue) is posted in the channel instead.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING

import discord
from discord.utils import utcnow

from adapters.discord_replies import (
    EDIT_INTERVAL,
    MESSAGE_LIMIT,
    ChannelResponder,
    upload_file,
    upload_refused,
)
from core.events import MessageEvent
from core.replies import (
    FileReply,
    PollReply,
    PollTally,
    Reply,
    Responder,
    StatusMessage,
    TextReply,
    VideoReply,
)
from engine.errors import RenderError

if TYPE_CHECKING:
    from pathlib import Path

    from adapters.discord import DiscordAdapter

log = logging.getLogger(__name__)

#: Answers this close to the token's end go to the channel: an upload may take that long.
TOKEN_MARGIN = timedelta(seconds=30)
INVALID_WEBHOOK_TOKEN = 50027  # Discord's error code for an expired interaction token


async def run_slash(adapter: DiscordAdapter, interaction: discord.Interaction, line: str,
                    files: list[discord.Attachment]) -> None:
    """Acknowledge at once, then let the agent answer ``line`` (the command line without its
    prefix) with ``files`` attached, or else a link in the line, as for a typed message."""
    from adapters.discord import channel_of, discord_attachment

    await interaction.response.defer(thinking=True)
    channel = interaction.channel
    if not isinstance(channel, discord.abc.Messageable):  # slash commands are only offered in text channels
        await interaction.followup.send("I can only answer in a text channel.")
        return
    link = None if files else adapter.link_attachment(line)
    event = MessageEvent(
        platform=adapter.platform, user=adapter.user(interaction.user, interaction.guild),
        channel=channel_of(channel), text=adapter.agent.commands.prefix + line,
        attachments=tuple(discord_attachment(f) for f in files) or ((link,) if link else ()),
        message_id=str(interaction.id),
    )
    responder = InteractionResponder(interaction, ChannelResponder(channel, adapter.agent.polls))
    try:
        await adapter.agent.handle_message(event, responder)
    finally:
        await responder.close()


class InteractionResponder(Responder):
    """Answers a slash command: the first answer fills the acknowledgement, later ones follow it."""

    def __init__(self, interaction: discord.Interaction, channel: ChannelResponder) -> None:
        self.interaction, self.channel = interaction, channel
        self.original_used = False
        self.token_lost = False  # Discord refused the token before its time

    def expired(self) -> bool:
        """Whether the interaction's token is spent (15 minutes), or about to be."""
        return self.token_lost or utcnow() >= self.interaction.expires_at - TOKEN_MARGIN

    async def send(self, reply: Reply) -> None:
        if self.expired():
            await self.channel.send(reply)
            return
        try:
            await self._send(reply)
        except discord.HTTPException as error:
            if error.code != INVALID_WEBHOOK_TOKEN:
                raise
            self.token_lost = True
            await self.channel.send(reply)

    async def _send(self, reply: Reply) -> None:
        match reply:
            case TextReply(text=text):
                await self._post(text[:MESSAGE_LIMIT])
            case VideoReply(path=path, caption=caption) | FileReply(path=path, caption=caption):
                await self._post_file(path, caption)
            case PollReply():
                await self.channel.send_poll(reply)  # reactions go on a normal channel message
            case PollTally():
                pass
            case _:
                raise TypeError(f"unknown reply {reply!r}")

    async def status(self, text: str) -> StatusMessage:
        if self.expired():
            return await self.channel.status(text)
        try:
            if not self.original_used:
                self.original_used = True
                await self.interaction.edit_original_response(content=text)
                return InteractionStatus(self, None)
            return InteractionStatus(self, await self.interaction.followup.send(text, wait=True))
        except discord.HTTPException as error:
            if error.code != INVALID_WEBHOOK_TOKEN:
                raise
            self.token_lost = True
            return await self.channel.status(text)

    async def close(self) -> None:
        """Remove the "thinking" placeholder if nothing ever filled it (a poll went to the channel)."""
        if not self.original_used and not self.expired():
            try:
                await self.interaction.delete_original_response()
            except discord.HTTPException as error:
                log.warning("could not remove an unanswered slash-command placeholder: %s", error)

    async def _post(self, text: str, file: discord.File | None = None) -> None:
        attachments = [file] if file else []
        if not self.original_used:
            self.original_used = True
            await self.interaction.edit_original_response(content=text or None, attachments=attachments)
        elif file is not None:
            await self.interaction.followup.send(text or discord.utils.MISSING, file=file)
        else:
            await self.interaction.followup.send(text)

    async def _post_file(self, path: Path, caption: str) -> None:
        try:
            async with upload_file(path, self.interaction.filesize_limit) as file:
                try:
                    await self._post(caption[:MESSAGE_LIMIT], file)
                except discord.HTTPException as error:
                    raise upload_refused(error) from None
        except RenderError as error:
            await self._post(str(error))


class InteractionStatus(StatusMessage):
    """The acknowledgement (``message`` None) or a follow-up, edited, then turned into the answer."""

    def __init__(self, responder: InteractionResponder, message: discord.WebhookMessage | None) -> None:
        self.responder, self.message = responder, message
        self.finished = False
        self.edited_at = time.monotonic()

    async def update(self, text: str) -> None:
        if self.finished or self.responder.expired() or time.monotonic() - self.edited_at < EDIT_INTERVAL:
            return
        self.edited_at = time.monotonic()
        try:
            await self._edit(content=text)
        except discord.HTTPException as error:
            log.warning("could not edit a slash-command status: %s", error)

    async def finish(self, reply: Reply | None = None) -> None:
        self.finished = True
        if self.responder.expired():  # the status can't be touched any more: answer in the channel
            if reply is not None:
                await self.responder.channel.send(reply)
            return
        try:
            await self._finish(reply)
        except discord.HTTPException as error:
            if error.code != INVALID_WEBHOOK_TOKEN:
                raise
            self.responder.token_lost = True
            if reply is not None:
                await self.responder.channel.send(reply)

    async def _finish(self, reply: Reply | None) -> None:
        match reply:
            case TextReply(text=text):
                await self._edit(content=text[:MESSAGE_LIMIT])
            case VideoReply(path=path, caption=caption) | FileReply(path=path, caption=caption):
                try:
                    async with upload_file(path, self.responder.interaction.filesize_limit) as file:
                        try:
                            await self._edit(content=caption[:MESSAGE_LIMIT] or None, attachments=[file])
                        except discord.HTTPException as error:
                            raise upload_refused(error) from None
                except RenderError as error:
                    await self._edit(content=str(error))
            case None:
                await self._delete()
            case _:
                await self._delete()
                await self.responder.send(reply)

    async def _edit(self, **fields: object) -> None:
        if self.message is None:
            await self.responder.interaction.edit_original_response(**fields)  # type: ignore[arg-type]
        else:
            await self.message.edit(**fields)  # type: ignore[arg-type]

    async def _delete(self) -> None:
        try:
            if self.message is None:
                await self.responder.interaction.delete_original_response()
            else:
                await self.message.delete()
        except discord.HTTPException as error:
            log.warning("could not remove a slash-command status: %s", error)
