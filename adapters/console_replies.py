"""How replies read in the terminal: finished videos copied to the output folder under
readable names (the render cache is hash-named and swept after a week), captions on a
line of their own, and the options of a poll numbered for ``:vote N``."""

from __future__ import annotations

import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from core.replies import FileReply, PollReply, PollTally, Reply, Responder, StatusMessage, TextReply, VideoReply

#: Words of a caption that make a file's name ("Welcome to Mouthpiece, Ada!" → welcome-to-mouthpiece-ada).
_NAME_WORDS = 6
_NAME_CHARS = 60
_NOT_A_NAME = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Ballot:
    """One option of a poll shown on the console, as ``:vote NUMBER`` names it."""

    poll_id: str
    option: str
    label: str


@dataclass
class ConsoleBoard:
    """What the console's responders share: the output folder and the poll options shown so far."""

    out_dir: Path
    ballots: list[Ballot] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def keep(self, path: Path, caption: str) -> Path:
        """Copy a finished file into the output folder under a name made from its caption."""
        stem = "-".join(_NOT_A_NAME.sub(" ", caption.lower()).split()[:_NAME_WORDS])[:_NAME_CHARS].strip("-")
        stem = stem or "video"
        with self._lock:  # two replies finishing together must not pick the same name
            self.out_dir.mkdir(parents=True, exist_ok=True)
            target, number = self.out_dir / f"{stem}{path.suffix}", 1
            while target.exists():
                number += 1
                target = self.out_dir / f"{stem}-{number}{path.suffix}"
            target.touch()
        shutil.copyfile(path, target)
        return target

    def add_ballots(self, poll: PollReply) -> list[int]:
        """Number the poll's options; the numbers ``:vote`` takes."""
        with self._lock:
            start = len(self.ballots)
            self.ballots.extend(Ballot(poll.poll_id, o.id, o.label) for o in poll.options)
            return list(range(start + 1, len(self.ballots) + 1))

    def ballot(self, number: int) -> Ballot | None:
        return self.ballots[number - 1] if 0 < number <= len(self.ballots) else None

    def label(self, poll_id: str, option: str) -> str:
        """The label an option was shown with, e.g. "Vote for Ada" (its id if it was never shown)."""
        return next((b.label for b in self.ballots if b.poll_id == poll_id and b.option == option), option)


class ConsoleResponder(Responder):
    def __init__(self, console: Console, board: ConsoleBoard, prefix: str = "") -> None:
        self.console = console
        self.board = board
        self.prefix = prefix

    async def send(self, reply: Reply) -> None:
        # A line with a file's path is left to the terminal to wrap, so the path copies whole.
        self.console.print(self.prefix + self.describe(reply), markup=False, highlight=False,
                           soft_wrap=isinstance(reply, (VideoReply, FileReply, PollReply)))

    async def status(self, text: str) -> StatusMessage:
        return ConsoleStatus(self, text)

    def describe(self, reply: Reply) -> str:
        """How a reply reads in a terminal; files are copied out of the cache first."""
        match reply:
            case TextReply(text=text):
                return text
            case VideoReply(path=path, caption=caption, duration=duration):
                return _with_caption(f"🎬 {self.board.keep(path, caption)} ({duration:.1f} s)", caption)
            case FileReply(path=path, caption=caption):
                return _with_caption(f"📎 {self.board.keep(path, caption)}", caption)
            case PollReply(text=text, options=options, video=video):
                lines = [f"🗳 {text}"]
                if video is not None:
                    lines.append(f"   🎬 {self.board.keep(video, text)}")
                numbers = self.board.add_ballots(reply)
                lines.extend(f"   [{n}] {o.label} (:vote {n})" for n, o in zip(numbers, options))
                return "\n".join(lines)
            case PollTally(poll_id=poll_id, counts=counts):
                shown = sorted((self.board.label(poll_id, option), n) for option, n in counts.items())
                return "votes: " + (", ".join(f"{label} {n}" for label, n in shown) or "none")
        raise TypeError(f"unknown reply {reply!r}")


def _with_caption(line: str, caption: str) -> str:
    return f"{line}\n   {caption}" if caption else line


class ConsoleStatus(StatusMessage):
    def __init__(self, responder: ConsoleResponder, text: str) -> None:
        self.responder = responder
        responder.console.print(f"[dim]… {escape(text)}[/]", highlight=False)

    async def update(self, text: str) -> None:
        self.responder.console.print(f"[dim]… {escape(text)}[/]", highlight=False)

    async def finish(self, reply: Reply | None = None) -> None:
        if reply is not None:
            await self.responder.send(reply)
