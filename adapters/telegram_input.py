"""What a Telegram message gives the agent (command text in the registry's form, and its clips),
and the command menu it shows."""

from __future__ import annotations

import mimetypes
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from telegram import Audio, BotCommand, Document, Message, PhotoSize, Video, VideoNote, Voice
from telegram.error import BadRequest, NetworkError

from core.commands import Command, CommandRegistry, usage
from core.events import Attachment
from engine.errors import AudioInputError

#: ``/name``, ``/name@botname`` and the rest of the line (Telegram's command syntax).
_TELEGRAM_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]+))?(?=\s|$)(.*)$", re.DOTALL)
#: Adapter options: how the answer is shown on Telegram, so the command layer never sees them.
NOTE_OPTIONS = {"--note": True, "--no-note": False}
#: Telegram's limits on the command menu.
MENU_NAME = re.compile(r"[a-z0-9_]{1,32}")
MENU_SIZE = 100
MENU_DESCRIPTION = 256


def command_menu(registry: CommandRegistry) -> list[tuple[BotCommand, Command]]:
    """The registered commands Telegram can list (their names fit), each described by its summary
    and, when there is room, what follows the name (``a persona reads your text… — TEXT [+ a photo]``)."""
    menu = []
    for command in registry.all():
        if not MENU_NAME.fullmatch(command.name):
            continue
        described = f"{command.summary} — {usage(command)}" if usage(command) else command.summary
        if len(described) > MENU_DESCRIPTION:
            described = command.summary[:MENU_DESCRIPTION]
        menu.append((BotCommand(command.name, described or command.name), command))
    return menu[:MENU_SIZE]


@dataclass(frozen=True)
class CommandLine:
    text: str  # in the registry's form, e.g. "!say hello"
    as_note: bool | None = None  # --note / --no-note; None: as configured


def command_line(text: str, registry: CommandRegistry, *, bot_username: str,
                 is_private: bool) -> CommandLine | None:
    """Translate ``/cmd@bot args`` into ``!cmd args`` and take out ``--note``/``--no-note``.

    ``None`` when the message is not for this bot: a command addressed to another bot,
    or, in a group, an unknown ``/command`` without our name (it belongs to another bot).
    Text that is not a command passes through unchanged.
    """
    match = _TELEGRAM_COMMAND.match(text.strip())
    if match:
        name, addressee, rest = match.group(1).lower(), match.group(2), match.group(3)
        if addressee and addressee.lower() != bot_username.lower():
            return None
        if name == "start" and registry.get("start") is None:
            name = "help"  # what Telegram sends when someone opens the bot: show what it can do
        if registry.get(name) is None and not (addressee or is_private):
            return None
        text = f"{registry.prefix}{name}{rest}"
    if not registry.is_command(text):
        return CommandLine(text)
    return _take_note_option(text)


def _take_note_option(text: str) -> CommandLine:
    try:
        words = shlex.split(text)
    except ValueError:
        return CommandLine(text)  # the registry explains the unclosed quote
    chosen = [NOTE_OPTIONS[w] for w in words[1:] if w in NOTE_OPTIONS]
    if not chosen:
        return CommandLine(text)
    kept = [w for w in words[1:] if w not in NOTE_OPTIONS]
    return CommandLine(" ".join([words[0], shlex.join(kept)]).rstrip(), as_note=chosen[-1])


def attachments(message: Message, *, max_bytes: int) -> tuple[Attachment, ...]:
    """The file on the message, then the one on the message it replies to: a voice message, a round
    video note, an audio file, a video, a photo or a document (the engine takes the sound of a video).
    A Telegram message carries one file, so a photo sent as the reply to a voice message brings both."""
    found = [_media(message)]
    if message.reply_to_message is not None:
        found.append(_media(message.reply_to_message))
    return tuple(_attachment(media, max_bytes) for media in found if media is not None)


Media = Voice | VideoNote | Audio | Video | Document | PhotoSize


def _media(message: Message) -> Media | None:
    # Of a photo Telegram sends several sizes: the largest is the one to animate.
    photo = max(message.photo, key=lambda size: size.width * size.height) if message.photo else None
    return message.voice or message.video_note or message.audio or message.video or photo or message.document


def _attachment(media: Media, max_bytes: int) -> Attachment:
    filename = _filename(media)
    size = media.file_size

    async def download(folder: Path) -> Path:
        if size is not None and size > max_bytes:
            raise AudioInputError(_too_big(filename, size, max_bytes))
        try:
            file = await media.get_file()
            return await file.download_to_drive(folder / filename)
        except BadRequest as error:
            if "too big" in error.message.lower():
                raise AudioInputError(_too_big(filename, size, max_bytes)) from None
            raise AudioInputError(f"Telegram wouldn't give me {filename} ({error.message}). "
                                  "Please send it again.") from None
        except NetworkError:
            raise AudioInputError(f"The connection to Telegram dropped while I fetched {filename}. "
                                  "Please send it again.") from None

    return Attachment(filename=filename, size=size, content_type=_mime_type(media), download=download)


def _mime_type(media: Media) -> str | None:
    # Round video notes are always MP4 and photos JPEG; Telegram gives neither a MIME type.
    if isinstance(media, PhotoSize):
        return "image/jpeg"
    return "video/mp4" if isinstance(media, VideoNote) else media.mime_type


def _filename(media: Media) -> str:
    name = getattr(media, "file_name", None) or ""
    if not name:
        stem = {Voice: "voice", VideoNote: "video_note", PhotoSize: "photo"}.get(type(media), "clip")
        mime_type = _mime_type(media) or ""
        suffix = ({"audio/ogg": ".ogg", "audio/mpeg": ".mp3", "video/mp4": ".mp4", "image/jpeg": ".jpg"}.get(mime_type)
                  or mimetypes.guess_extension(mime_type) or "")
        name = stem + (suffix or ".ogg")
    safe = re.sub(r"[^\w.\- ]", "_", Path(name).name).strip(". ")
    return safe or "clip"


def _too_big(filename: str, size: int | None, max_bytes: int) -> str:
    actual = f" is {size / 2**20:.1f} MB, but" if size else " is too big:"
    return (f"{filename}{actual} Telegram only lets bots download files up to {max_bytes / 2**20:.0f} MB. "
            "Send a shorter clip, or record it as a voice message, which is much smaller.")
