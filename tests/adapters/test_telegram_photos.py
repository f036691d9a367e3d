"""Photos on Telegram: a photo is an attachment (its largest size), and a photo sent as the reply to
a voice message brings both files, since a Telegram message carries only one."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from core.commands import Command
from core.context import Context
from core.events import MessageEvent, ParsedCommand
from core.testing.fakes.telegram import TelegramDriver
from core.testing.testbot import MEMBER


async def _files(ctx: Context, command: ParsedCommand) -> None:
    assert isinstance(ctx.event, MessageEvent)
    lines = []
    for attachment in ctx.event.attachments:
        path = await ctx.download(attachment)
        lines.append(f"{attachment.filename} {attachment.content_type} {path.stat().st_size}")
    await ctx.reply("\n".join(lines) or "none")


def _photo(path: Path) -> Path:
    Image.new("RGB", (32, 32), (180, 120, 90)).save(path)
    return path


async def test_a_photo_is_an_attachment_in_its_largest_size(telegram_driver: TelegramDriver, tmp_path: Path) -> None:
    telegram_driver.agent.commands.register(Command("files", "what came with the message", _files))
    photo = _photo(tmp_path / "face.png")
    [answer] = await telegram_driver.send("/files@mouthpiece_bot", user=MEMBER, files=[photo])
    assert answer.text == f"photo.jpg image/jpeg {photo.stat().st_size}"  # not the 9-byte thumbnail


async def test_a_photo_replying_to_a_voice_message_brings_both(telegram_driver: TelegramDriver,
                                                              tmp_path: Path) -> None:
    telegram_driver.agent.commands.register(Command("files", "what came with the message", _files))
    voice = tmp_path / "hello.ogg"
    voice.write_bytes(b"OggS" + bytes(60))
    clip = telegram_driver.message("", user=MEMBER, files=[voice])
    assert await telegram_driver.deliver({"message": clip}) == []
    photo = _photo(tmp_path / "face.png")
    [answer] = await telegram_driver.send("/files@mouthpiece_bot", user=MEMBER, files=[photo], reply_to=clip)
    assert answer.text.splitlines() == [f"photo.jpg image/jpeg {photo.stat().st_size}", "voice.ogg audio/ogg 64"]
