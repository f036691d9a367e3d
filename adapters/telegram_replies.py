"""Replies in Telegram's native forms: videos or round video notes, inline-keyboard polls whose
button labels show the counts, and a status message that is edited, then replaced."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)
from telegram.constants import MessageLimit
from telegram.error import BadRequest, RetryAfter, TelegramError

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
    split_text,
)
from engine.encode import probe

log = logging.getLogger(__name__)

PLATFORM = "telegram"
#: Telegram's limits for round video notes.
NOTE_MAX_SIDE = 640
NOTE_MAX_SECONDS = 60
VOTE_DATA = re.compile(r"^vote:(\d+)$")
_COUNTED_LABEL = re.compile(r"^(.*) · \d+$", re.DOTALL)


def poll_key(chat_id: int, message_id: int) -> str:
    """Message ids are per chat on Telegram, so a poll message is known by both."""
    return f"{chat_id}:{message_id}"


class TelegramResponder(Responder):
    """Answers in one chat, as a reply to ``reply_to`` when there is one."""

    def __init__(self, bot: Bot, chat_id: int, polls: Polls, *, reply_to: int | None = None,
                 thread_id: int | None = None, as_note: bool = False, poll_message: Message | None = None) -> None:
        self.bot, self.chat_id, self.polls = bot, chat_id, polls
        self.reply_to, self.thread_id, self.as_note = reply_to, thread_id, as_note
        self.poll_message = poll_message  # the poll a vote came from, whose labels a tally updates

    @property
    def _where(self) -> dict[str, Any]:
        reply = ReplyParameters(self.reply_to, allow_sending_without_reply=True) if self.reply_to else None
        return {"chat_id": self.chat_id, "reply_parameters": reply, "message_thread_id": self.thread_id}

    async def send(self, reply: Reply) -> None:
        match reply:
            case TextReply(text=text):
                await self.send_text(text)
            case VideoReply():
                await self._upload(self._send_video(reply), "video")
            case FileReply(path=path, caption=caption):
                await self._upload(self._send_file(path, caption), "file")
            case PollReply():
                await self._upload(self._send_poll(reply), "poll")
            case PollTally():
                await self._show_tally(reply)

    async def status(self, text: str) -> StatusMessage:
        return TelegramStatus(self, await self.bot.send_message(text=text, **self._where))

    async def send_text(self, text: str) -> Message:
        chunks = split_text(text, MessageLimit.MAX_TEXT_LENGTH)
        for chunk in chunks[:-1]:
            await self.bot.send_message(text=chunk, **self._where)
        return await self.bot.send_message(text=chunks[-1], **self._where)

    async def _upload(self, sending: Any, what: str) -> None:
        """Send a media reply; when Telegram refuses it or the connection drops, say so and log it."""
        try:
            await sending
        except TelegramError as error:
            log.exception("telegram: could not upload a %s to chat %s", what, self.chat_id)
            try:
                await self.send_text(f"The {what} is ready, but Telegram refused the upload ({error.message}). "
                                     "Please try again in a moment.")
            except TelegramError:
                log.exception("telegram: could not report the failed upload to chat %s", self.chat_id)

    async def _send_video(self, reply: VideoReply) -> None:
        info = await asyncio.to_thread(probe, reply.path)
        duration = reply.duration or info.get("duration") or 0.0
        note_problem = _note_problem(info, duration) if self.as_note else None
        with reply.path.open("rb") as video:
            if self.as_note and note_problem is None:
                await self.bot.send_video_note(video_note=video, length=info["width"], duration=round(duration),
                                               **self._where)
                if reply.caption.strip():  # a video note takes no caption: it follows as a message
                    await self.send_text(reply.caption.strip())
                return
            caption, rest = _caption_and_rest(reply.caption + (f"\n({note_problem})" if note_problem else ""))
            await self.bot.send_video(video=video, caption=caption.strip() or None, supports_streaming=True,
                                      width=info.get("width"), height=info.get("height"),
                                      duration=round(duration) or None, filename=reply.path.name, **self._where)
        if rest:
            await self.send_text(rest)

    async def _send_file(self, path: Path, caption: str) -> None:
        caption, rest = _caption_and_rest(caption)
        with path.open("rb") as document:
            await self.bot.send_document(document=document, caption=caption or None, filename=path.name,
                                         **self._where)
        if rest:
            await self.send_text(rest)

    async def _send_poll(self, poll: PollReply) -> None:
        keyboard = _keyboard([o.label for o in poll.options], {})
        if poll.video is not None:
            caption, rest = _caption_and_rest(poll.text)
            with poll.video.open("rb") as video:
                message = await self.bot.send_video(video=video, caption=caption, reply_markup=keyboard,
                                                    supports_streaming=True, filename=poll.video.name, **self._where)
            if rest:
                await self.send_text(rest)
        else:
            message = await self.bot.send_message(text=poll.text, reply_markup=keyboard, **self._where)
        # The buttons name an option by its place; the message maps it back to the poll, across restarts.
        self.polls.remember_message(PLATFORM, poll_key(message.chat_id, message.message_id), poll)

    async def _show_tally(self, tally: PollTally) -> None:
        message = self.poll_message
        if message is None or message.reply_markup is None:
            return  # not a vote on a message we can see: nothing shows the counts
        known = self.polls.poll_for_message(PLATFORM, poll_key(message.chat_id, message.message_id))
        if known is None or known[0] != tally.poll_id:
            return
        labels = [_base_label(row[0].text) for row in message.reply_markup.inline_keyboard]
        counts = {i: tally.counts.get(option_id, 0) for i, option_id in enumerate(known[1])}
        try:
            await self.bot.edit_message_reply_markup(chat_id=message.chat_id, message_id=message.message_id,
                                                     reply_markup=_keyboard(labels, counts))
        except BadRequest as error:
            if "not modified" not in error.message.lower():
                raise


class TelegramStatus(StatusMessage):
    """A message edited with progress; a text result replaces its text, a video replaces the message."""

    def __init__(self, responder: TelegramResponder, message: Message) -> None:
        self.responder, self.message = responder, message
        self.text = message.text or ""
        self.finished = False

    async def update(self, text: str) -> None:
        if self.finished or text == self.text:
            return
        self.text = text
        try:
            await self.message.edit_text(text)
        except RetryAfter:
            log.debug("telegram: skipped a status edit (flood control)")  # the next one will come
        except BadRequest as error:
            if "not modified" not in error.message.lower():
                log.warning("telegram: could not edit a status message: %s", error.message)
        except TelegramError as error:
            log.warning("telegram: could not edit a status message: %s", error.message)

    async def finish(self, reply: Reply | None = None) -> None:
        if self.finished:
            return
        self.finished = True
        if isinstance(reply, TextReply) and len(reply.text) <= MessageLimit.MAX_TEXT_LENGTH:
            try:
                await self.message.edit_text(reply.text)
                return
            except TelegramError as error:
                log.warning("telegram: could not edit a status into its answer: %s", error)
        if reply is not None:
            await self.responder.send(reply)
        try:
            await self.message.delete()
        except TelegramError as error:
            log.warning("telegram: could not delete a status message: %s", error)


def _note_problem(info: dict[str, Any], duration: float) -> str | None:
    """Why the video can't be a round video note, or None when it can."""
    width, height = info.get("width"), info.get("height")
    if width != height:
        return f"sent as a normal video: round video notes must be square, and this one is {width}×{height}"
    if width is None or width > NOTE_MAX_SIDE:
        return f"sent as a normal video: round video notes are at most {NOTE_MAX_SIDE} px wide"
    if duration > NOTE_MAX_SECONDS:
        return (f"sent as a normal video: round video notes last at most {NOTE_MAX_SECONDS} s, "
                f"and this one is {duration:.0f} s")
    return None


def _keyboard(labels: list[str], counts: dict[int, int]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(f"{label} · {counts[i]}" if counts.get(i) else label, callback_data=f"vote:{i}")]
        for i, label in enumerate(labels)
    ])


def _base_label(text: str) -> str:
    """The option's own label, without the count we appended (see ``_keyboard``)."""
    match = _COUNTED_LABEL.match(text)
    return match.group(1) if match else text


def _caption_and_rest(text: str) -> tuple[str, str]:
    """A caption within Telegram's limit (cut at a line break or space), and the rest of ``text``,
    which follows the media as a message: Telegram refuses the upload of a longer caption."""
    limit = MessageLimit.CAPTION_LENGTH
    if len(text) <= limit:
        return text, ""
    cut = max(text.rfind("\n", 0, limit + 1), text.rfind(" ", 0, limit + 1))
    cut = cut if cut > 0 else limit
    return text[:cut].rstrip(), text[cut:].strip()

