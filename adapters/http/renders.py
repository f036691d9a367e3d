"""Renders asked for over HTTP: queued on the shared engine, followed while they run, kept a while.

Each render holds its place in the rate limits (``[limits]``, as ``!say``/``!avatar`` in chat)
until it ends, so the API and the dashboard are limited exactly as members are. The
engine's progress reports arrive on its threads; they only overwrite plain fields here,
which the event loop reads when a client asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
import tempfile
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from core.events import Channel, Event, ParsedCommand, User
from core.storage import utcnow
from engine.engine import Priority, Progress, RenderJob
from engine.errors import RenderCancelled, RenderError

if TYPE_CHECKING:
    from adapters.http.auth import Principal
    from core.agent import Agent
    from engine.types import RenderRequest

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^\w.-]", re.ASCII)

PLATFORM = "http"
#: Finished renders remembered for ``GET /renders/{id}``; older ones are forgotten first.
KEEP_FINISHED = 200


@dataclass
class RenderState:
    """One render asked for over HTTP, as a client sees it."""

    id: str
    owner: str  # the principal's user id
    server: str | None  # the server the principal is scoped to; None: the operator's token
    persona: str
    source: str  # what is said: the text, or the uploaded file's name
    status: str = "queued"  # queued, rendering, done, failed, cancelled
    stage: str = "queued"
    progress: float = 0.0  # 0..1 within the current stage
    position: int | None = None
    eta_seconds: float | None = None
    error: str = ""
    video: Path | None = None
    duration: float = 0.0
    created_at: datetime = field(default_factory=utcnow)
    job: RenderJob | None = field(default=None, repr=False)

    @property
    def finished(self) -> bool:
        return self.status in {"done", "failed", "cancelled"}

    def on_progress(self, progress: Progress) -> None:
        """Called on the engine's threads."""
        if self.finished:
            return
        self.stage, self.eta_seconds, self.position = progress.stage, progress.eta_seconds, progress.position
        if progress.stage == "queued":
            self.status, self.progress = "queued", 0.0
        else:
            self.status = "rendering"
            self.progress = min(1.0, progress.done / progress.total) if progress.total else 0.0


class Renders:
    """The renders of this process's HTTP clients, by id."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self._states: OrderedDict[str, RenderState] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def get(self, render_id: str) -> RenderState | None:
        return self._states.get(render_id)

    def visible_to(self, principal: Principal) -> list[RenderState]:
        """Newest first: every render for the operator, a scoped session's own server's otherwise."""
        return [s for s in reversed(self._states.values()) if principal.server is None or s.server == principal.server]

    async def start(self, principal: Principal, request: RenderRequest, *, source: str, command: str,
                    scratch: tempfile.TemporaryDirectory[str] | None = None) -> RenderState:
        """Queue ``request`` as ``principal``; raises ``LimitExceeded`` or ``RenderError`` (the queue
        is full) at once. ``scratch`` (an upload) is deleted when the render ends."""
        event = self.event(principal)
        limits = contextlib.ExitStack()
        if scratch is not None:
            limits.callback(scratch.cleanup)
        try:
            limits.enter_context(self.agent.limits.admit(event, ParsedCommand(command), exempt=False))
            state = RenderState(uuid.uuid4().hex[:16], principal.user_id, principal.server, request.persona, source)
            state.job = await asyncio.to_thread(self.agent.engine.submit, request, Priority.INTERACTIVE,
                                                state.on_progress)
        except BaseException:
            limits.close()
            raise
        self._remember(state)
        task = asyncio.create_task(self._follow(state, event, limits), name=f"http-render-{state.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return state

    def cancel(self, state: RenderState) -> bool:
        """False when it had already finished."""
        return state.job is not None and state.job.cancel()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @staticmethod
    def event(principal: Principal) -> Event:
        """The event an HTTP render stands for: limits and render records key on it."""
        server = principal.server or "api"
        return Event(PLATFORM, User(principal.user_id, principal.name), Channel(PLATFORM, server_id=server))

    async def _follow(self, state: RenderState, event: Event, limits: contextlib.ExitStack) -> None:
        assert state.job is not None
        try:
            result = await state.job
        except RenderCancelled:
            state.status, state.error = "cancelled", "The render was cancelled."
        except RenderError as error:
            state.status, state.error = "failed", str(error)
        except asyncio.CancelledError:
            state.job.cancel()
            state.status, state.error = "cancelled", "The server is shutting down."
            raise
        except Exception:
            log.exception("HTTP render %s failed", state.id)
            state.status, state.error = "failed", "Something went wrong on our side; the details are in the log."
        else:
            self.agent.record_render(event, result)
            state.video, state.duration = result.path, result.duration
            state.status, state.stage, state.progress = "done", "done", 1.0
        finally:
            limits.close()

    def _remember(self, state: RenderState) -> None:
        self._states[state.id] = state
        finished = [key for key, s in self._states.items() if s.finished]
        for key in finished[:max(0, len(finished) - KEEP_FINISHED)]:
            del self._states[key]


def scratch_folder() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="mouthpiece-http-")


def save_upload(chunks_folder: tempfile.TemporaryDirectory[str], filename: str, source: BinaryIO) -> Path:
    """Copy an uploaded file object into the scratch folder under a safe name (its suffix kept:
    the decoder's messages name the file)."""
    name = _UNSAFE.sub("_", Path(filename.replace("\\", "/")).name)[-100:].lstrip(".") or "upload"
    path = Path(chunks_folder.name) / name
    with path.open("wb") as out:
        shutil.copyfileobj(source, out)
    return path
