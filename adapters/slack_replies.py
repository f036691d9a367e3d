"""Replies on Slack: messages in the request's thread, videos through ``files_upload_v2``,
status messages edited with ``chat.update``, polls voted on with number reactions."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from core.adapter import ChannelUnavailable
from core.polls import Polls
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

log = logging.getLogger(__name__)

#: The reactions members vote with, in option order (Slack's names for 1️⃣ … 🔟).
NUMBER_EMOJI = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "keycap_ten")
#: Errors that mean the bot cannot post in the channel at all.
CHANNEL_ERRORS = {"channel_not_found", "not_in_channel", "is_archived", "restricted_action"}


def poll_message_id(channel: str, ts: str) -> str:
    """How a poll's message is known to ``Polls``: a ts is unique only within its channel."""
    return f"{channel}:{ts}"


class SlackResponder(Responder):
    """Answers into one channel, in the thread ``thread_ts`` (top level when None)."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient, polls: Polls, channel: str, thread_ts: str | None = None) -> None:
        self.client, self.polls, self.channel, self.thread_ts = client, polls, channel, thread_ts

    async def send(self, reply: Reply) -> None:
        match reply:
            case TextReply(text=text):
                await self.post(text)
            case VideoReply(path=path, caption=caption) | FileReply(path=path, caption=caption):
                await self.upload(path, caption)
            case PollReply():
                await self._poll(reply)
            case PollTally():
                pass  # Slack shows each reaction's count under the message itself
            case _:
                raise TypeError(f"unknown reply {reply!r}")

    async def status(self, text: str) -> StatusMessage:
        return SlackStatus(self, await self.post(text))

    async def post(self, text: str) -> str:
        """Post ``text``; returns the message's ts."""
        try:
            response = await self.client.chat_postMessage(channel=self.channel, text=plain(text),
                                                          thread_ts=self.thread_ts)
        except SlackApiError as error:
            if error.response.get("error") in CHANNEL_ERRORS:
                reason = error.response["error"]
                raise ChannelUnavailable(f"cannot post in Slack channel {self.channel}: {reason}") from error
            raise
        return str(response["ts"])

    async def upload(self, path: Path, caption: str) -> bool:
        """Upload a file into the thread; a failure is told to the member and logged, not raised."""
        try:
            await self.client.files_upload_v2(channel=self.channel, thread_ts=self.thread_ts, file=str(path),
                                              filename=path.name, title=caption or path.name,
                                              initial_comment=plain(caption) or None)
            return True
        except (SlackClientError, aiohttp.ClientError, OSError) as error:
            reason = error.response.get("error") if isinstance(error, SlackApiError) else str(error)
            log.warning("upload of %s to Slack channel %s failed: %s", path.name, self.channel, reason)
            await self.post(f"I made the video, but Slack refused the upload ({reason}). Please try again in a moment.")
            return False

    async def _poll(self, poll: PollReply) -> None:
        if poll.video is not None and not await self.upload(poll.video, poll.text):
            return
        options = poll.options[:len(NUMBER_EMOJI)]
        if len(poll.options) > len(options):
            log.warning("poll %s has %d options; Slack reactions offer the first %d", poll.poll_id,
                        len(poll.options), len(options))
        lines = [poll.text, *(f":{emoji}: {option.label}" for emoji, option in zip(NUMBER_EMOJI, options))]
        ts = await self.post("\n".join(lines))
        self.polls.remember_message(self.platform, poll_message_id(self.channel, ts), poll)
        for emoji in NUMBER_EMOJI[:len(options)]:
            await self.client.reactions_add(channel=self.channel, timestamp=ts, name=emoji)


def plain(text: str) -> str:
    """``text`` shown as typed: what members wrote (a caption, a name) can't become a
    ``<!channel>`` ping or a link, as Slack's formatting rules ask of app messages."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackStatus(StatusMessage):
    """A posted message edited in place; the result replaces it."""

    def __init__(self, responder: SlackResponder, ts: str) -> None:
        self.responder, self.ts = responder, ts

    async def update(self, text: str) -> None:
        try:
            await self.responder.client.chat_update(channel=self.responder.channel, ts=self.ts, text=plain(text))
        except SlackClientError as error:
            log.warning("could not edit a status message in Slack channel %s: %s", self.responder.channel, error)

    async def finish(self, reply: Reply | None = None) -> None:
        if isinstance(reply, TextReply):
            await self.responder.client.chat_update(channel=self.responder.channel, ts=self.ts,
                                                    text=plain(reply.text))
            return
        if reply is not None:
            await self.responder.send(reply)  # a file can't be put into an existing message: post it, then remove this
        await self.responder.client.chat_delete(channel=self.responder.channel, ts=self.ts)
