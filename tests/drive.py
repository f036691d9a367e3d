"""What plugin tests need of a platform driver beyond a member's actions: another channel
in the test server, what the bot delivered while other work ran (a scheduled job driven
by ``core.testing.testbot.advance``), and the videos it uploaded, checked as MP4s.

Works with every driver of ``core/testing/fakes`` (``platform_driver``)::

    news = add_channel(platform_driver, "news")
    posts = await delivered_during(platform_driver, advance(platform_driver.agent, due))
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import discord.ext.test as dpytest
from discord.ext.test import backend

from core.testing.fakes import slack, telegram
from core.testing.fakes.telegram_api import GROUP
from core.testing.platforms import Delivered
from tests.media import assert_valid_mp4

_telegram_chat_ids = itertools.count(GROUP["id"] - 1, -1)


def add_channel(driver: Any, name: str) -> str:
    """A new channel of the test server that the bot may post in; returns its id.
    (On Telegram, where a group is the server, the group's linked channel, the bot an admin there.)"""
    if driver.platform == "discord":
        return str(backend.make_text_channel(name, driver.guild).id)
    if driver.platform == "telegram":
        chat_id = next(_telegram_chat_ids)
        driver.api.chats[chat_id] = {"id": chat_id, "type": "channel", "title": name, "linked_chat_id": GROUP["id"]}
        driver.api.set_status(chat_id, driver.api.bot["id"], "administrator")
        return str(chat_id)
    channel_id = f"C0{name.upper()}"
    driver.fake.add_channel(channel_id, name)
    return channel_id


async def delivered_during(driver: Any, work: Awaitable[object]) -> list[Delivered]:
    """Await ``work``; return what the bot posted or changed on the platform meanwhile."""
    if driver.platform == "discord":
        before = driver.snapshot()
        await work
        await dpytest.run_all_events()
        return list(driver.delivered_since(before))
    if driver.platform == "telegram":
        since = driver.api.changes
        await work
        return [telegram.delivered(m) for m in driver.api.bot_messages(since)]
    since = driver.fake.change
    await work
    return [slack.delivered(driver.fake, m) for m in driver.fake.bot_messages(since)]


def videos(delivered: list[Delivered]) -> list[Delivered]:
    return [d for d in delivered if d.kind in ("video", "video_note")]


def texts(delivered: list[Delivered]) -> list[str]:
    return [d.text for d in delivered if d.kind == "message"]


def checked_video(post: Delivered, folder: Path, *, size: int, fps: int) -> bytes:
    """The MP4 uploaded with ``post``, checked with PyAV: H.264 and AAC, ``size`` square, ``fps``."""
    [(name, data)] = post.files
    path = folder / f"{post.channel_id.lstrip('-')}-{post.message_id}-{Path(name).name}"
    path.write_bytes(data)
    assert_valid_mp4(path, width=size, height=size, fps=fps)
    return data
