"""Telegram in tests: the real agent and the real ``TelegramAdapter``, through python-telegram-bot,
against the fake Bot API of ``core.testing.fakes.telegram_api`` on 127.0.0.1.

Add ``pytest_plugins = ["core.testing.fakes.telegram"]`` to your ``conftest.py`` (this project's does),
then act as a member would and look at what the bot left in the chat::

    from core.testing.testbot import MEMBER

    async def test_hello_on_telegram(telegram_driver):
        [answer] = await telegram_driver.send("/hello", user=MEMBER)
        assert answer.text == "Hello, Ada!"

Fixtures: ``telegram_api`` (the fake server alone) and ``telegram_driver`` (a running bot on it,
a ``core.testing.platforms.PlatformDriver``). To run your own plugin, or another config, use
``running_telegram(api, config, plugins=[my_plugin])`` as an async context manager.
"""

from __future__ import annotations

import asyncio
import itertools
import mimetypes
import zlib
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from pydantic import SecretStr
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from adapters.telegram import TelegramAdapter
from core.agent import Agent
from core.config import Config, Secrets
from core.events import User
from core.testing.fakes.telegram_api import GROUP, FakeTelegramAPI, StoredMessage
from core.testing.platforms import Delivered

__all__ = ["FakeTelegramAPI", "TelegramDriver", "running_telegram", "voice_recording"]

#: A handler group after the adapter's: PTB runs it once the adapter has handled the update.
_AFTER_ADAPTER = 1000
_VOICE_SUFFIXES = {".ogg", ".oga", ".opus"}
_AUDIO_SUFFIXES = {".mp3", ".m4a", ".wav", ".flac", ".aac"}
_PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


class TelegramDriver:
    """Acts as members of one group chat (or in private chats) and reports what the bot delivered."""

    platform = "telegram"

    def __init__(self, api: FakeTelegramAPI, agent: Agent, adapter: TelegramAdapter) -> None:
        self.api, self.agent, self.adapter = api, agent, adapter
        self.chat = api.chats[GROUP["id"]]
        self._handled: set[int] = set()
        self._handled_changed = asyncio.Condition()
        self._query_ids = itertools.count(1)
        adapter.application.add_handler(TypeHandler(Update, self._mark_handled), group=_AFTER_ADAPTER)

    # -- PlatformDriver ------------------------------------------------------------------

    async def send(self, text: str, *, user: User, files: Sequence[Path] = (), reply_to: dict[str, Any] | None = None,
                   kind: str | None = None, claimed_size: int | None = None, private: bool = False) -> list[Delivered]:
        """Post ``text`` (the caption, with a file) as ``user``; ``kind`` ("voice", "audio",
        "document", "video", "video_note", "photo") overrides the guess from the file's suffix, ``claimed_size``
        the size Telegram reports for it."""
        message = self.message(text, user=user, files=files, reply_to=reply_to, kind=kind,
                               claimed_size=claimed_size, private=private)
        return await self.deliver({"message": message})

    async def join(self, user: User) -> list[Delivered]:
        member = self.telegram_user(user)
        message = self.api.member_message(self.chat, member, new_chat_members=[member])
        return await self.deliver({"message": message})

    async def vote(self, poll: Delivered, option: int, *, user: User, added: bool = True) -> list[Delivered]:
        if not added:
            pytest.skip("Telegram's vote buttons cannot take a vote back")
        message = self.api.messages[(int(poll.channel_id), int(poll.message_id))].data
        button = message["reply_markup"]["inline_keyboard"][option][0]
        query = {"id": str(next(self._query_ids)), "from": self.telegram_user(user), "chat_instance": "1",
                 "message": message, "data": button["callback_data"]}
        return await self.deliver({"callback_query": query})

    def set_picture(self, user: User, picture: Path | None) -> None:
        self.api.set_profile_photo(self.telegram_user(user)["id"], picture.read_bytes() if picture else None)

    # -- building blocks ---------------------------------------------------------------------

    def telegram_user(self, user: User) -> dict[str, Any]:
        """The Telegram account standing for ``user``; an admin is an administrator of the group."""
        # The same account for the same id in every test and across restarts of the bot.
        user_id = int(user.id) if user.id.isdigit() else 10_000 + zlib.crc32(user.id.encode())
        self.api.set_status(self.chat["id"], user_id, "administrator" if user.is_admin else "member")
        return {"id": user_id, "is_bot": user.is_bot, "first_name": user.name}

    def message(self, text: str, *, user: User, files: Sequence[Path] = (), reply_to: dict[str, Any] | None = None,
                kind: str | None = None, claimed_size: int | None = None, private: bool = False) -> dict[str, Any]:
        """A member's message, stored in the fake (not delivered yet)."""
        if len(files) > 1:
            raise ValueError("a Telegram message carries one file; send the others as messages of their own")
        member = self.telegram_user(user)
        chat = {"id": member["id"], "type": "private", "first_name": user.name} if private else self.chat
        self.api.chats.setdefault(chat["id"], chat)
        fields: dict[str, Any] = {}
        if files:
            fields.update(self._media(files[0], kind, claimed_size))
        if text:
            fields["caption" if files else "text"] = text
            if text.startswith("/"):
                command = {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
                fields["caption_entities" if files else "entities"] = [command]
        if reply_to is not None:
            fields["reply_to_message"] = reply_to
        return self.api.member_message(chat, member, **fields)

    async def deliver(self, update: dict[str, Any]) -> list[Delivered]:
        """Push one update and wait until the adapter has handled it; what the bot posted or changed."""
        since = self.api.changes
        update_id = await self.api.push(update)
        async with self._handled_changed:
            await asyncio.wait_for(self._handled_changed.wait_for(lambda: update_id in self._handled), 20)
        return [delivered(m) for m in self.api.bot_messages(since)]

    @property
    def last_toast(self) -> str:
        """The text of the bot's latest answer to a button press."""
        return str(self.api.callback_answers[-1].get("text", ""))

    def _media(self, path: Path, kind: str | None, claimed_size: int | None) -> dict[str, Any]:
        suffix = path.suffix.lower()
        kind = kind or ("voice" if suffix in _VOICE_SUFFIXES else "audio" if suffix in _AUDIO_SUFFIXES
                        else "photo" if suffix in _PHOTO_SUFFIXES else "document")
        media = self.api.add_file(path.read_bytes(), f"{kind}/{path.name}", size=claimed_size)
        if kind == "photo":  # Telegram re-encodes a photo as JPEG in several sizes; the file is the largest
            thumbnail = self.api.add_file(b"thumbnail", f"photo/thumb-{path.name}")
            return {"photo": [{**thumbnail, "width": 90, "height": 90}, {**media, "width": 640, "height": 640}]}
        if kind in ("voice", "audio", "video", "video_note"):
            media["duration"] = 1  # whole seconds as the sender's app measured it; nothing here reads it
        if kind == "video_note":  # always a square MP4: Telegram sends its side, no type or name
            media["length"] = 240
            return {kind: media}
        if kind == "video":
            media.update(width=240, height=240)
        media["mime_type"] = ("audio/ogg" if kind == "voice"
                              else mimetypes.guess_type(path.name)[0] or "application/octet-stream")
        if kind != "voice":
            media["file_name"] = path.name
        return {kind: media}

    async def _mark_handled(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        async with self._handled_changed:
            self._handled.add(update.update_id)
            self._handled_changed.notify_all()


def delivered(message: StoredMessage) -> Delivered:
    return Delivered(channel_id=str(message.chat_id), message_id=str(message.message_id), text=message.text,
                     files=list(message.files), options=message.buttons, kind=message.kind)


@asynccontextmanager
async def running_telegram(api: FakeTelegramAPI, config: Config, *, plugins: Iterable[object] = (),
                           secrets: Secrets | None = None) -> AsyncIterator[TelegramDriver]:
    """A real agent with the Telegram adapter connected to ``api``, until the block ends."""
    config.telegram.api_url, config.telegram.file_url = api.api_url, api.file_url
    # The fake has no per-group flood limit, and a test must not wait 3 s per message past the
    # first 20 in its group; the overall limit (30 a second) and the retries stay as configured.
    config.telegram.group_messages_per_minute = 100_000
    secrets = secrets or Secrets(telegram_token=SecretStr(api.token))
    async with Agent(config, secrets, extra_plugins=plugins) as agent:
        adapter = TelegramAdapter(agent)
        driver = TelegramDriver(api, agent, adapter)
        running = asyncio.create_task(adapter.run())
        ready = asyncio.create_task(adapter.ready.wait())
        await asyncio.wait({running, ready}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            await adapter.stop()
            await running  # raises why it could not start
            raise RuntimeError("the Telegram adapter did not start")
        try:
            yield driver
        finally:
            await adapter.stop()
            await running


def round_video_note(wav: Path, mp4: Path, *, side: int = 240, fps: int = 10) -> Path:
    """``wav`` as Telegram clients record round video notes: a square H.264 picture with AAC sound in MP4."""
    with av.open(str(wav)) as source, av.open(str(mp4), "w", format="mp4") as target:
        audio = target.add_stream("aac", rate=48000, layout="mono")
        video = target.add_stream("libx264", rate=fps)
        video.width = video.height = side
        video.pix_fmt = "yuv420p"
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=48000)
        seconds = 0.0
        for frame in (*source.decode(audio=0), None):
            for resampled in resampler.resample(frame):
                seconds += resampled.samples / 48000
                target.mux(audio.encode(resampled))
        target.mux(audio.encode(None))
        picture = np.full((side, side, 3), 128, np.uint8)
        for _ in range(max(1, round(seconds * fps))):
            target.mux(video.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        target.mux(video.encode(None))
    return mp4


def voice_recording(wav: Path, ogg: Path) -> Path:
    """``wav`` as Telegram clients record voice messages: Opus in Ogg, mono, 48 kHz."""
    with av.open(str(wav)) as source, av.open(str(ogg), "w", format="ogg") as target:
        stream = target.add_stream("libopus", rate=48000, layout="mono")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        for frame in source.decode(audio=0):
            for resampled in resampler.resample(frame):
                target.mux(stream.encode(resampled))
        for resampled in resampler.resample(None):
            target.mux(stream.encode(resampled))
        target.mux(stream.encode(None))
    return ogg


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


@pytest.fixture
async def telegram_driver(telegram_api: FakeTelegramAPI, bot_config: Config) -> AsyncIterator[TelegramDriver]:
    async with running_telegram(telegram_api, bot_config) as driver:
        yield driver
