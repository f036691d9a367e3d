"""The console adapter: the embedded default when no platform token is set.

Each line typed is a message from the local operator (an admin). A word that is a
file path stands for an attachment, the console's way of sending a clip:
``!avatar clips/hello.ogg --style anime``. Only files inside the configured
``[console] allowed_dir`` can be read.
"""

from __future__ import annotations

import asyncio
import getpass
import shutil
import sys
from pathlib import Path
from typing import TextIO

from rich.console import Console

from core.adapter import Adapter
from core.agent import Agent
from core.events import Attachment, Channel, MessageEvent, User
from core.replies import FileReply, PollReply, PollTally, Reply, Responder, StatusMessage, TextReply, VideoReply


def _login_name() -> str:
    try:
        return getpass.getuser().capitalize() or "Operator"
    except OSError:  # no login name in some containers
        return "Operator"


#: The operator at the terminal, by their login name (personas greet them by it).
LOCAL_USER = User(id="local", name=_login_name(), is_admin=True)
LOCAL_CHANNEL = Channel(id="console", server_id="console", name="console", server_name="this computer", is_direct=True)
MEDIA_SUFFIXES = {".wav", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".flac", ".webm", ".mp4", ".mkv",
                  ".png", ".jpg"}
QUIT_WORDS = {"quit", "exit", ":q"}


class PathNotAllowedError(ValueError):
    pass


class ConsoleAdapter(Adapter):
    platform = "console"

    def __init__(self, agent: Agent, *, stdin: TextIO | None = None, console: Console | None = None) -> None:
        super().__init__(agent)
        self.stdin = stdin or sys.stdin
        self.console = console or Console()
        self.allowed_dir = agent.config.console.allowed_dir.resolve()
        self._stopping = False
        self._count = 0

    async def run(self) -> None:
        prefix = self.agent.config.agent.prefix
        self.console.print(f"[bold]{self.agent.config.agent.name}[/] on the console. Try {prefix}help, "
                           f"{prefix}say Hello!, or {prefix}avatar PATH-TO-CLIP. Ctrl-D or 'quit' leaves.")
        while not self._stopping:
            line = await asyncio.to_thread(self.stdin.readline)
            if not line or line.strip().lower() in QUIT_WORDS:
                break
            if line.strip():
                await self.handle_line(line.strip())

    async def stop(self) -> None:
        self._stopping = True

    async def open_channel(self, channel_id: str, *, server_id: str | None = None) -> Responder:
        # Everything lands in this terminal (one local server); the prefix says where it would have gone.
        return ConsoleResponder(self.console, prefix=f"[#{channel_id}] ")

    async def open_direct(self, user_id: str) -> Responder:
        return ConsoleResponder(self.console, prefix="[direct message] ")

    async def handle_line(self, line: str) -> None:
        responder = ConsoleResponder(self.console)
        try:
            text, attachments = self._split_attachments(line)
        except PathNotAllowedError as error:
            await responder.send(TextReply(str(error)))
            return
        self._count += 1
        event = MessageEvent(platform=self.platform, user=LOCAL_USER, channel=LOCAL_CHANNEL,
                             text=text, attachments=attachments, message_id=str(self._count))
        await self.agent.handle_message(event, responder)

    def _split_attachments(self, line: str) -> tuple[str, tuple[Attachment, ...]]:
        words, attachments = [], []
        for word in line.split():
            if _looks_like_path(word):
                attachments.append(self._attachment(word))
            else:
                words.append(word)
        return " ".join(words), tuple(attachments)

    def _attachment(self, word: str) -> Attachment:
        path = Path(word).expanduser().resolve()
        if not path.is_relative_to(self.allowed_dir):
            raise PathNotAllowedError(
                f"{word} is outside the folder I may read ({self.allowed_dir}). "
                "Copy the clip into it, or change [console] allowed_dir in the config."
            )
        if not path.is_file():
            raise PathNotAllowedError(f"There is no file {word}. Check the path (it is relative to {Path.cwd()}).")

        async def download(folder: Path) -> Path:
            return Path(shutil.copy(path, folder / path.name))

        return Attachment(filename=path.name, size=path.stat().st_size, content_type=None, download=download)


def _looks_like_path(word: str) -> bool:
    if word.startswith(("--", "!")):
        return False
    return Path(word).suffix.lower() in MEDIA_SUFFIXES or Path(word).expanduser().is_file()


class ConsoleResponder(Responder):
    def __init__(self, console: Console, prefix: str = "") -> None:
        self.console = console
        self.prefix = prefix

    async def send(self, reply: Reply) -> None:
        self.console.print(self.prefix + describe(reply), markup=False, highlight=False)

    async def status(self, text: str) -> StatusMessage:
        return ConsoleStatus(self, text)


class ConsoleStatus(StatusMessage):
    def __init__(self, responder: ConsoleResponder, text: str) -> None:
        self.responder = responder
        responder.console.print(f"[dim]… {text}[/]", highlight=False)

    async def update(self, text: str) -> None:
        self.responder.console.print(f"[dim]… {text}[/]", highlight=False)

    async def finish(self, reply: Reply | None = None) -> None:
        if reply is not None:
            await self.responder.send(reply)


def describe(reply: Reply) -> str:
    """How a reply reads in a terminal."""
    match reply:
        case TextReply(text=text):
            return text
        case VideoReply(path=path, caption=caption, duration=duration):
            return f"🎬 {caption}: {path} ({duration:.1f} s)"
        case FileReply(path=path, caption=caption):
            return f"📎 {caption}: {path}"
        case PollReply(text=text, options=options, video=video):
            choices = " | ".join(o.label for o in options)
            return f"🗳 {text} [{choices}]" + (f" {video}" if video else "")
        case PollTally(counts=counts):
            return "votes: " + (", ".join(f"{option} {n}" for option, n in sorted(counts.items())) or "none")
    raise TypeError(f"unknown reply {reply!r}")
