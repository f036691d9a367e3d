"""The render engine: one per process, shared by every plugin.

Requests are queued by priority (interactive before batch, FIFO within one),
bounded, rendered by a small pool of worker threads, cancellable, report progress,
and are cached by content: an identical request is answered from the cache, or
shares the render already under way.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Generator
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from pathlib import Path
from typing import Any

from engine.cache import RenderCache
from engine.errors import EngineBusyError, InputError, RenderCancelled, RenderError
from engine.settings import EngineSettings
from engine.types import RenderRequest, RenderResult

log = logging.getLogger(__name__)

_ETA_SMOOTHING = 0.3  # weight of the newest render in the average render time


class Priority(IntEnum):
    INTERACTIVE = 0  # someone is waiting for it in a chat
    BATCH = 1  # scheduled announcements, welcome clips, …


class JobStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Progress:
    """A progress report. Stage "queued" has ``position`` (1 = next to start)."""

    job_id: str
    stage: str
    done: int
    total: int
    eta_seconds: float | None  # queued: until it starts; otherwise: until the stage ends
    position: int | None = None


#: What render_fn calls to report: ``report(stage, done, total)``.
ProgressFn = Callable[[str, int, int], None]
#: What a submitter passes as ``on_progress``.
ProgressListener = Callable[[Progress], None]


_rendering = threading.local()  # the task a worker thread is rendering


def current_priority() -> Priority:
    """The priority of the render the calling thread runs (``INTERACTIVE`` outside one), so the
    pipeline can tell renderers that share a device which work is most urgent."""
    return getattr(_rendering, "priority", Priority.INTERACTIVE)


class CancelToken:
    """Set when nobody wants the render any more; render_fn checks it between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise RenderCancelled("The render was cancelled.")


#: The pipeline: renders the request into the given path (it must write exactly there),
#: calls the ProgressFn as it goes and checks the token between steps.
RenderFn = Callable[[RenderRequest, Path, ProgressFn, CancelToken], RenderResult]


@dataclass(eq=False)
class _Task:
    """One render; several jobs (identical requests) may wait on it."""

    key: str
    request: RenderRequest
    priority: Priority
    seq: int
    jobs: list[RenderJob] = field(default_factory=list)
    token: CancelToken = field(default_factory=CancelToken)
    running: bool = False
    stage: str = ""
    stage_started: float = 0.0


class RenderJob:
    """A submitted request: ``await job`` or ``job.result()`` gives the ``RenderResult``."""

    def __init__(self, engine: RenderEngine, task: _Task | None, on_progress: ProgressListener | None) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.future: Future[RenderResult] = Future()
        self._engine = engine
        self._task = task
        self._on_progress = on_progress
        self._position: int | None = None  # last queue position reported
        # Cancelling the future (or an asyncio task awaiting it) cancels the job.
        self.future.add_done_callback(lambda f: self.cancel() if f.cancelled() else None)

    @property
    def status(self) -> JobStatus:
        if self.future.done():
            if self.future.cancelled() or isinstance(self.future.exception(), RenderCancelled):
                return JobStatus.CANCELLED
            return JobStatus.FAILED if self.future.exception() else JobStatus.DONE
        return JobStatus.RUNNING if self._task is not None and self._task.running else JobStatus.QUEUED

    def cancel(self) -> bool:
        """Cancel this job; False if it had already finished."""
        return self._engine._cancel(self)

    def result(self, timeout: float | None = None) -> RenderResult:
        return self.future.result(timeout)

    def __await__(self) -> Generator[Any, None, RenderResult]:
        import asyncio  # only awaiting needs it; a one-shot render from the CLI starts faster without

        return asyncio.wrap_future(self.future).__await__()

    def _notify(self, progress: Progress) -> None:
        if self._on_progress is None:
            return
        try:
            self._on_progress(progress)
        except Exception:  # a broken listener must not break the render
            log.exception("progress listener of job %s failed", self.id)


class RenderEngine:
    def __init__(
        self,
        settings: EngineSettings,
        render_fn: RenderFn,
        cache_key_fn: Callable[[RenderRequest], str],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._render_fn = render_fn
        self._cache_key_fn = cache_key_fn
        self.cache = RenderCache(settings.cache_dir)
        self._clock = clock
        self._cond = threading.Condition()
        self._heap: list[tuple[int, int, _Task]] = []
        self._inflight: dict[str, _Task] = {}
        self._seq = itertools.count()
        self._workers: list[threading.Thread] = []
        self._closed = False
        self._average_render: float | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            if self._workers or self._closed:
                return
            self.settings.cache_dir.mkdir(parents=True, exist_ok=True)
            if removed := self.cache.remove_orphans():
                log.info("removed %d partial render files left by a render that was killed", removed)
            for n in range(self.settings.workers):
                worker = threading.Thread(target=self._work, name=f"render-{n}", daemon=True)
                worker.start()
                self._workers.append(worker)

    def close(self, *, cancel_running: bool = False, timeout: float | None = None) -> None:
        """Stop: pending jobs are cancelled; running ones finish, or are cancelled too."""
        with self._cond:
            self._closed = True
            pending = [task for task in self._inflight.values() if not task.running]
            running = [task for task in self._inflight.values() if task.running]
            self._heap.clear()
            for task in pending:
                del self._inflight[task.key]
            self._cond.notify_all()
        for task in pending:
            task.token.cancel()
            self._settle(task, error=RenderCancelled("The renderer is shutting down; please try again later."))
        if cancel_running:
            for task in running:
                task.token.cancel()
        for worker in self._workers:
            worker.join(timeout)

    def __enter__(self) -> RenderEngine:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close(cancel_running=True)

    # -- submitting ------------------------------------------------------------

    def submit(
        self,
        request: RenderRequest,
        priority: Priority = Priority.INTERACTIVE,
        on_progress: ProgressListener | None = None,
    ) -> RenderJob:
        """Queue ``request``; raises ``EngineBusyError`` when the queue is full."""
        key = self._cache_key_fn(request)
        self.cache.check_key(key)
        cached = self.cache.lookup(key)
        if cached is not None:
            job = RenderJob(self, None, on_progress)
            job.future.set_result(cached)
            return job
        with self._cond:
            if self._closed:
                raise EngineBusyError("The renderer is shutting down; please try again in a minute.")
            task = self._inflight.get(key)
            if task is None or task.token.cancelled:
                if sum(not t.running for t in self._inflight.values()) >= self.settings.queue_size:
                    raise EngineBusyError("I'm busy rendering other videos right now; please try again in a minute.")
                task = _Task(key, request, priority, next(self._seq))
                self._inflight[key] = task
                heapq.heappush(self._heap, (priority, task.seq, task))
                self._cond.notify()
            elif priority < task.priority and not task.running:
                # An interactive request joining a batch render lifts it.
                task.priority = priority
                heapq.heappush(self._heap, (priority, task.seq, task))
            job = RenderJob(self, task, on_progress)
            task.jobs.append(job)
            updates = self._queue_updates()
        self._send(updates)
        return job

    def render(self, request: RenderRequest, on_progress: ProgressListener | None = None) -> RenderResult:
        """Submit and wait (for the CLI). The engine must be started."""
        if not self._workers:
            raise RuntimeError("RenderEngine.start() was not called")
        return self.submit(request, Priority.INTERACTIVE, on_progress).result()

    # -- queue -----------------------------------------------------------------

    def _next_task(self) -> tuple[_Task | None, list[tuple[RenderJob, Progress]]]:
        with self._cond:
            while True:
                while self._heap:
                    priority, _, task = heapq.heappop(self._heap)
                    # Skip stale entries: cancelled, or superseded by a priority lift.
                    if not task.running and not task.token.cancelled and priority == task.priority:
                        task.running = True
                        return task, self._queue_updates()
                if self._closed:
                    return None, []
                self._cond.wait()

    def _queue_updates(self) -> list[tuple[RenderJob, Progress]]:
        """Queue positions of the waiting jobs whose position changed (call with the lock held)."""
        waiting = sorted((t for t in self._inflight.values() if not t.running), key=lambda t: (t.priority, t.seq))
        updates = []
        for position, task in enumerate(waiting, start=1):
            eta = None
            if self._average_render is not None:
                eta = self._average_render * math.ceil(position / self.settings.workers)
            for job in task.jobs:
                if job._position != position:
                    job._position = position
                    updates.append((job, Progress(job.id, "queued", 0, 0, eta, position)))
        return updates

    @staticmethod
    def _send(updates: list[tuple[RenderJob, Progress]]) -> None:
        for job, progress in updates:
            job._notify(progress)

    # -- rendering -------------------------------------------------------------

    def _work(self) -> None:
        while True:
            task, updates = self._next_task()
            self._send(updates)
            if task is None:
                return
            self._run(task)

    def _run(self, task: _Task) -> None:
        part = self.cache.part_path(task.key)
        started = self._clock()
        try:
            result = self.cache.lookup(task.key)
            if result is None:
                task.token.raise_if_cancelled()
                _rendering.priority = task.priority
                try:
                    rendered = self._render_fn(task.request, part, lambda *a: self._report(task, *a), task.token)
                finally:
                    del _rendering.priority
                task.token.raise_if_cancelled()
                result = self.cache.store(task.key, part, rendered)
                with self._cond:
                    elapsed, average = self._clock() - started, self._average_render
                    self._average_render = (
                        elapsed if average is None else average + _ETA_SMOOTHING * (elapsed - average)
                    )
        except Exception as exc:
            _log_failure(task.key, exc)
            part.unlink(missing_ok=True)
            self._settle(task, error=exc)
        else:
            self._settle(task, result=result)

    def _report(self, task: _Task, stage: str, done: int, total: int) -> None:
        now = self._clock()
        if stage != task.stage:
            task.stage, task.stage_started = stage, now
        eta = None
        if 0 < done <= total:
            eta = (now - task.stage_started) / done * (total - done)
        with self._cond:
            jobs = list(task.jobs)
        for job in jobs:
            job._notify(Progress(job.id, stage, done, total, eta))

    def _settle(
        self, task: _Task, *, result: RenderResult | None = None, error: BaseException | None = None
    ) -> None:
        with self._cond:
            jobs, task.jobs = task.jobs, []
            if self._inflight.get(task.key) is task:
                del self._inflight[task.key]
        for job in jobs:
            _resolve(job.future, result, error)

    def _cancel(self, job: RenderJob) -> bool:
        task = job._task
        with self._cond:
            if task is None or job not in task.jobs:
                return False
            task.jobs.remove(job)
            if not task.jobs:
                # Nobody else waits for this render: stop it (or drop it from the queue).
                task.token.cancel()
                if self._inflight.get(task.key) is task:
                    del self._inflight[task.key]
            updates = self._queue_updates()
        _resolve(job.future, None, RenderCancelled("The render was cancelled."))
        self._send(updates)
        return True


def _log_failure(key: str, error: Exception) -> None:
    """An expected refusal is one line; only a fault of ours gets a traceback."""
    if isinstance(error, RenderCancelled):
        return
    if isinstance(error, InputError):
        log.info("render %s refused: %s", key[:12], error)
    elif isinstance(error, RenderError):
        log.warning("render %s failed: %s", key[:12], error)
    else:
        log.exception("render %s failed", key[:12])


def _resolve(future: Future[RenderResult], result: RenderResult | None, error: BaseException | None) -> None:
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]
    except InvalidStateError:  # the caller cancelled the future itself
        pass
