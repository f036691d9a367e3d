"""The "ray" executor: a ``RenderFn`` that runs the bot's pipeline on a Ray cluster's workers.

The ``RenderEngine`` stays in the bot: its queue, priorities, de-duplication, cache, progress and
cancelling work as with local threads; each of its worker threads hands one render to the cluster
and waits. The request's files and the persona's folder travel as bytes, the MP4 comes back
through Ray's object store, progress streams back while the render runs, ``cancel`` stops the
remote render, and a remote error is raised here as the same error a local render would raise.
A render whose worker dies (the process, or its whole machine) is tried once more; Ray places it
on a node that is still alive.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.engine import CancelToken, ProgressFn
from engine.errors import ClusterError, RenderCancelled
from engine.ray_worker import RENDER_RESOURCE, RemoteJob, WorkerSetup, render_stream
from engine.shipping import pack_files, pack_folder
from engine.types import RenderRequest, RenderResult

if TYPE_CHECKING:
    from engine.pipeline import Pipeline
    from personas.model import Persona

log = logging.getLogger(__name__)

#: Renders tried again after their worker died.
RETRIES = 1
#: Persona folders kept in the object store (by fingerprint), so each is sent once, not per render.
FOLDERS_KEPT = 32
#: How often a waiting render checks whether it was cancelled (seconds).
POLL_SECONDS = 0.1
#: How long a cancelled render is given to stop on its worker.
STOP_WAIT_SECONDS = 30.0


class RayExecutor:
    def __init__(self, pipeline: Pipeline, address: str, setup: WorkerSetup) -> None:
        if os.environ.get("RAY_AUTH_TOKEN"):  # the cluster's shared token: Ray reads the mode when imported
            os.environ.setdefault("RAY_AUTH_MODE", "token")
        try:
            import ray  # noqa: F401
        except ImportError:
            raise RuntimeError('[engine] executor = "ray" needs Ray: pip install "mouthpiece[ray]"') from None
        self.pipeline = pipeline
        self.address = address
        self.setup = setup
        self._lock = threading.Lock()
        self._remote: Any = None
        self._folders: OrderedDict[str, Any] = OrderedDict()

    def connect(self) -> None:
        """Join the cluster (once per process); ``ClusterError`` when it can't be reached."""
        import ray

        with self._lock:
            if self._remote is not None:
                return
            if not ray.is_initialized():
                try:
                    ray.init(address=self.address, namespace="mouthpiece", log_to_driver=False,
                             logging_level=logging.WARNING)
                except Exception as exc:
                    log.error("cannot join the render cluster at %s: %s", self.address, exc)
                    raise ClusterError("The render cluster can't be reached right now; please try again later.") \
                        from exc
            # SPREAD: renders go round the nodes with a free slot instead of filling the bot's own machine first.
            self._remote = ray.remote(num_returns="streaming", max_retries=0, num_cpus=1, scheduling_strategy="SPREAD",
                                      resources={RENDER_RESOURCE: 1})(render_stream)

    def __call__(self, request: RenderRequest, out_path: Path, report: ProgressFn, cancel: CancelToken) -> RenderResult:
        self.connect()
        persona = self.pipeline.personas.get(request.persona)
        request = dataclasses.replace(request, persona=persona.name)  # a style resolves here, as locally
        job = RemoteJob(self.setup, request, pack_files(request), persona.fingerprint, [self._folder(persona)],
                        self.pipeline.fingerprints(request))
        for attempt in range(RETRIES + 1):
            try:
                fields, video = self._attempt(job, report, cancel)
                break
            except _worker_lost() as exc:
                if attempt == RETRIES:
                    log.error("render of %s lost its worker again: %s", request.persona, exc)
                    raise ClusterError("The render worker stopped before finishing the video, twice; "
                                       "please try again in a minute.") from exc
                log.warning("render of %s lost its worker (%s); trying once more", request.persona, exc)
        out_path.write_bytes(video)
        return RenderResult(**{**fields, "path": out_path})

    def _attempt(self, job: RemoteJob, report: ProgressFn, cancel: CancelToken) -> tuple[dict[str, Any], bytes]:
        import ray
        from ray.exceptions import RayError, RayTaskError, TaskCancelledError

        stream = self._remote.remote(job)
        try:
            while True:
                if cancel.cancelled:
                    self._stop(stream, job)
                    raise RenderCancelled("The render was cancelled.")
                ready, _ = ray.wait([stream], timeout=POLL_SECONDS)
                if not ready:
                    continue
                try:
                    event = ray.get(next(stream))
                except StopIteration:
                    raise ClusterError("The render worker ended without a video; please try again.") from None
                if event[0] == "started":
                    log.info("rendering %s on node %s (pid %d)", job.request.persona, event[1], event[2])
                elif event[0] == "progress":
                    report(*event[1:])
                elif event[0] == "done":
                    return event[1], event[2]
        except TaskCancelledError:
            raise RenderCancelled("The render was cancelled.") from None
        except RayTaskError as exc:
            cause = exc.cause
            if isinstance(cause, TaskCancelledError):
                raise RenderCancelled("The render was cancelled.") from None
            if isinstance(cause, Exception) and not isinstance(cause, _worker_lost()):
                raise cause from exc  # the remote error itself: the same class and message as a local render's
            raise
        except _worker_lost():
            raise
        except RayError as exc:  # the cluster itself failed (the head is gone, the object store is full, …)
            log.error("the render cluster failed: %s", exc)
            raise ClusterError("The render cluster failed while making the video; please try again later.") from exc

    @staticmethod
    def _stop(stream: Any, job: RemoteJob) -> None:
        """Cancel the remote render and wait (a bounded time) until it has stopped, so this engine thread
        takes its next render only when the worker is free again."""
        import ray

        ray.cancel(stream)
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        try:
            while time.monotonic() < deadline:
                ready, _ = ray.wait([stream], timeout=POLL_SECONDS)
                if ready and ray.get(next(stream))[0] == "done":
                    log.info("cancelled render of %s had finished already", job.request.persona)
                    return
        except (StopIteration, Exception) as exc:  # the stream ends, with Ray's TaskCancelledError: it has stopped
            log.info("cancelled render of %s stopped on its worker (%s)", job.request.persona, type(exc).__name__)
            return
        log.warning("cancelled render of %s did not stop within %.0f s", job.request.persona, STOP_WAIT_SECONDS)

    def _folder(self, persona: Persona) -> Any:
        """The persona's packed folder in the object store, put there once per fingerprint."""
        import ray

        with self._lock:
            if persona.fingerprint in self._folders:
                self._folders.move_to_end(persona.fingerprint)
                return self._folders[persona.fingerprint]
        ref = ray.put(pack_folder(persona.root))
        with self._lock:
            self._folders[persona.fingerprint] = ref
            while len(self._folders) > FOLDERS_KEPT:
                self._folders.popitem(last=False)
        return ref


def _worker_lost() -> tuple[type[Exception], ...]:
    """Ray's errors for a render whose worker process or node died (not for an error of the render)."""
    from ray.exceptions import NodeDiedError, ObjectLostError, WorkerCrashedError

    return (WorkerCrashedError, NodeDiedError, ObjectLostError)
