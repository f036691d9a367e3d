"""The console adapter: the embedded default when no platform token is set.

Each line typed is a message from the local operator (an admin), or from a member
after ``mouthpiece run --as NAME`` or ``:as NAME``. A word that is a file path stands
for an attachment, the console's way of sending a clip: ``!avatar clips/hello.ogg
--style anime``. Only files inside the configured ``[console] allowed_dir`` can be
read. Lines starting with ``:`` are the console's own commands (``:help``): they stand
for what a platform's members do without typing, such as joining or voting.
"""

from __future__ import annotations

import asyncio
import getpass
import shutil
import sys
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.markup import escape

from adapters.console_commands import CONSOLE_HELP, ConsoleCommands
from adapters.console_replies import ConsoleBoard, ConsoleResponder
from core.adapter import Adapter
from core.agent import Agent
from core.events import Attachment, Channel, MessageEvent, User
from core.replies import Responder, TextReply


def _login_name() -> str:
    try:
        return getpass.getuser().capitalize() or "Operator"
    except OSError:  # no login name in some containers
        return "Operator"


#: The operator at the terminal, by their login name (personas greet them by it).
LOCAL_USER = User(id="local", name=_login_name(), is_admin=True)
MEDIA_SUFFIXES = {".wav", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".flac", ".webm", ".mp4", ".mkv",
                  ".png", ".jpg"}
QUIT_WORDS = {"quit", "exit", ":q"}


class PathNotAllowedError(ValueError):
    pass


class ConsoleAdapter(Adapter):
    platform = "console"

    def __init__(self, agent: Agent, *, stdin: TextIO | None = None, console: Console | None = None,
                 user: User | None = None) -> None:
        super().__init__(agent)
        self.stdin = stdin or sys.stdin
        self.console = console or Console()
        self.allowed_dir = agent.config.console.allowed_dir.resolve()
        #: Who is typing: the operator (an admin) or a member (``--as NAME``, ``:as NAME``).
        self.user = user or LOCAL_USER
        #: One local server, named after the agent: "Welcome to Mouthpiece, Ada!"
        self.channel = Channel(id="console", server_id="console", name="console",
                               server_name=agent.config.agent.name, is_direct=True)
        self.board = ConsoleBoard(agent.config.engine.output_dir)
        self.commands = ConsoleCommands(self)
        self._stopping = False
        self._count = 0

    async def run(self) -> None:
        prefix = self.agent.config.agent.prefix
        who = "as the operator (an admin)" if self.user.is_admin else f"as {self.user.name} (a member)"
        self.console.print(f"[bold]{escape(self.agent.config.agent.name)}[/] on the console, {escape(who)}. "
                           f"Try {prefix}help, {prefix}say Hello!, or {prefix}avatar PATH-TO-CLIP; "
                           f"{escape(CONSOLE_HELP)}. Ctrl-D or 'quit' leaves.")
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
        return ConsoleResponder(self.console, self.board, prefix=f"[#{channel_id}] ")

    def responder(self) -> ConsoleResponder:
        return ConsoleResponder(self.console, self.board)

    async def open_direct(self, user_id: str) -> Responder:
        return ConsoleResponder(self.console, self.board, prefix="[direct message] ")

    async def handle_line(self, line: str) -> None:
        if line.startswith(":"):
            await self.commands.run(line)
            return
        responder = self.responder()
        try:
            text, attachments = self._split_attachments(line)
        except PathNotAllowedError as error:
            await responder.send(TextReply(str(error)))
            return
        self._count += 1
        event = MessageEvent(platform=self.platform, user=self.user, channel=self.channel,
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

        return Attachment(filename=path.name, size=path.stat().st_size, content_type=None, download=download,
                          local=True)


def _looks_like_path(word: str) -> bool:
    if word.startswith(("--", "!")):
        return False
    return Path(word).suffix.lower() in MEDIA_SUFFIXES or Path(word).expanduser().is_file()
