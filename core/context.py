"""What a plugin's handler gets: the event, a way to answer, and the shared services."""

from __future__ import annotations

import asyncio
import concurrent.futures
import tempfile
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, AsyncIterator

from core.adapter import ProfilePictureUnavailable
from core.commands import CommandError
from core.events import Attachment, Event
from core.replies import Reply, Responder, StatusMessage, TextReply
from engine.errors import AudioInputError, RenderError

if TYPE_CHECKING:
    from core.agent import Agent
    from engine.engine import Priority, Progress
    from engine.types import RenderRequest, RenderResult


#: Seconds between two edits of a status message (platforms rate-limit edits).
STATUS_EDIT_INTERVAL = 1.0


@dataclass
class Context:
    agent: Agent
    event: Event
    responder: Responder
    _workdir: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    @property
    def prefix(self) -> str:
        """The command prefix, for messages that name a command (``f"{ctx.prefix}say"``)."""
        return self.agent.commands.prefix

    @property
    def is_admin(self) -> bool:
        return self.agent.is_admin(self.event)

    async def reply(self, reply: Reply | str) -> None:
        await self.responder.send(TextReply(reply) if isinstance(reply, str) else reply)

    async def status(self, text: str) -> StatusMessage:
        return await self.responder.status(text)

    async def download(self, attachment: Attachment) -> Path:
        """Fetch an attachment into this request's scratch folder, enforcing the size cap."""
        cap = self.agent.config.engine.max_audio_bytes
        if attachment.size is not None and attachment.size > cap:
            raise AudioInputError(
                f"{attachment.filename} is {attachment.size / 2**20:.1f} MB; the limit is {cap / 2**20:.0f} MB. "
                "Send a shorter or more compressed clip."
            )
        return await attachment.download(self._scratch())

    async def sender_picture(self) -> Path:
        """The sender's own profile picture, fetched through their platform's client into this
        request's scratch folder. Only ever the sender's: nobody can make another member's face
        talk. ``CommandError`` with a clear message when they have none or it can't be had."""
        adapter = self.agent.adapters.get(self.event.platform)
        if adapter is None:
            raise CommandError("I can't fetch profile pictures here. Attach a photo of a face instead.")
        try:
            picture = await adapter.profile_picture(self.event.user.id, self._scratch(),
                                                    server_id=self.event.channel.server_id)
        except ProfilePictureUnavailable as error:
            raise CommandError(f"I couldn't get your profile picture: {error}. "
                               "Attach a photo of a face instead.") from None
        if picture is None:
            raise CommandError(f"You have no profile picture on {self.event.platform.capitalize()}. Set one, "
                               "or attach a photo of a face instead.")
        return picture

    def _scratch(self) -> Path:
        if self._workdir is None:
            self._workdir = tempfile.TemporaryDirectory(prefix="mouthpiece-")
        return Path(self._workdir.name)

    async def render(self, request: RenderRequest, *, priority: Priority | None = None,
                     status: StatusMessage | None = None, label: str = "") -> RenderResult:
        """Render on the shared engine, showing progress on ``status``, and record the result."""
        from engine.engine import Priority

        edits = _StatusEdits(status, label, asyncio.get_running_loop())
        # submit() hashes the audio for the cache key: keep that off the event loop.
        job = await asyncio.to_thread(self.agent.engine.submit, request, priority or Priority.INTERACTIVE,
                                      edits.on_progress)
        try:
            result = await job
        finally:
            await edits.settle()  # no edit may land after the caller replaces the status
        self.agent.record_render(self.event, result)
        return result

    @asynccontextmanager
    async def working(self, text: str) -> AsyncIterator[StatusMessage]:
        """A status message for long work: a render error replaces it with its message,
        anything else removes it before the error travels on."""
        status = await self.status(text)
        try:
            yield status
        except RenderError as error:
            await status.finish(TextReply(str(error)))
        except BaseException:
            await status.finish(None)
            raise

    def cleanup(self) -> None:
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None


class _StatusEdits:
    """Turns the engine's progress reports (from its threads, one per frame) into status edits:
    a new stage is shown at once, progress within a stage at most once a second."""

    def __init__(self, status: StatusMessage | None, label: str, loop: asyncio.AbstractEventLoop) -> None:
        self.status, self.label, self.loop = status, label, loop
        self.stage: str | None = None
        self.sent_at = 0.0
        self.pending: list[concurrent.futures.Future[None]] = []

    def on_progress(self, progress: Progress) -> None:
        now = time.monotonic()
        if self.status is None or (progress.stage == self.stage and now - self.sent_at < STATUS_EDIT_INTERVAL):
            return
        self.stage, self.sent_at = progress.stage, now
        edit = self.status.update(_progress_text(progress, self.label))
        self.pending.append(asyncio.run_coroutine_threadsafe(edit, self.loop))

    async def settle(self) -> None:
        await asyncio.gather(*(asyncio.wrap_future(f) for f in self.pending), return_exceptions=True)


def _progress_text(progress: Progress, label: str) -> str:
    prefix = f"{label} · " if label else ""
    if progress.stage == "queued":
        return f"{prefix}waiting in the queue (position {progress.position})"
    percent = 100 * progress.done // max(progress.total, 1)
    eta = f" · ~{progress.eta_seconds:.0f} s left" if progress.eta_seconds is not None else ""
    return f"{prefix}{progress.stage} {percent}%{eta}"
