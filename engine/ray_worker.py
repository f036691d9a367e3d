"""A Ray worker's side of the "ray" executor: the bot's own ``Pipeline``, fed with what the bot sent.

``render_stream`` runs as a streaming Ray task. It writes the request's files and the persona's
folder where this machine can read them, checks that this machine would make the video the cache
key describes, runs the pipeline in a thread and yields, in order: ``("started", node_id, pid)``,
``("progress", stage, done, total)`` (a few a second at most) and ``("done", result_fields, mp4)``.
Cancelling the task (``ray.cancel``) stops the pipeline at its next frame.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.engine import CancelToken
from engine.errors import ModelError
from engine.shipping import ShippedFile, unpack_files, unpack_folder

if TYPE_CHECKING:
    from engine.backends import Backends
    from engine.pipeline import Pipeline
    from engine.settings import EngineSettings
    from engine.types import RenderRequest, RenderResult
    from personas.model import Persona

#: The custom Ray resource a render takes: a node offers as many as it runs renders at once.
RENDER_RESOURCE = "mouthpiece_render"
#: Progress reports sent back per second, at most (plus every change of stage and the last frame).
REPORTS_PER_SECOND = 5
#: How long a cancelled render may take to reach its next frame before the task ends anyway.
STOP_WAIT_SECONDS = 30.0
#: Where a machine keeps the persona folders the bot sent, one per persona version.
PERSONA_COPIES = Path(tempfile.gettempdir()) / "mouthpiece-worker" / "personas"
#: A persona copy no render has used for this long is deleted (each use renews it): personas change
#: and servers add their own, and nothing else would ever remove the old versions.
PERSONA_COPY_DAYS = 7

Event = tuple[Any, ...]


@dataclass(frozen=True)
class WorkerSetup:
    """How a worker process builds its pipeline: the bot's engine settings and a picklable factory of
    its backends (the default ones, the neural voices, the plugins'). ``key`` names the setup."""

    key: str
    settings: EngineSettings
    backends: Callable[[], Backends]


@dataclass(frozen=True)
class RemoteJob:
    setup: WorkerSetup
    request: RenderRequest  # its persona is the persona's name; its Path fields are in ``files``
    files: dict[str, ShippedFile]
    persona_fingerprint: str
    persona_folder: list[Any]  # [ObjectRef of the packed folder]: in a list, so it is fetched only when needed
    fingerprints: dict[str, str]  # the bot's (``Pipeline.fingerprints``)


# One pipeline per setup and the personas already loaded, for the life of this worker process.
_pipelines: dict[str, Pipeline] = {}
_personas: dict[str, Persona] = {}
_state_lock = threading.Lock()


def render_stream(job: RemoteJob) -> Iterator[Event]:
    import ray

    pipeline = _pipeline(job.setup)
    with tempfile.TemporaryDirectory(prefix="mouthpiece-render-") as tmp:
        folder = Path(tmp)
        request = unpack_files(job.request, job.files, folder / "in")
        pipeline.personas.add(_persona(pipeline, job))
        check_fingerprints(pipeline, request, job.fingerprints)
        yield ("started", ray.get_runtime_context().get_node_id(), os.getpid())
        out = folder / "out.mp4"
        result = yield from _run(pipeline, request, out)
        fields = {**dataclasses.asdict(result), "path": ""}
        yield ("done", fields, out.read_bytes())


def _pipeline(setup: WorkerSetup) -> Pipeline:
    from engine.pipeline import Pipeline
    from personas.registry import PersonaRegistry

    with _state_lock:
        if setup.key not in _pipelines:
            backends = setup.backends()  # plugins' renderers check the assets of their personas as they load
            _pipelines[setup.key] = Pipeline(setup.settings, PersonaRegistry(renderers=backends.renderer), backends)
        return _pipelines[setup.key]


def _persona(pipeline: Pipeline, job: RemoteJob) -> Persona:
    """The request's persona, from its folder as the bot sent it (written once per machine)."""
    import ray

    fingerprint, name = job.persona_fingerprint, job.request.persona
    copy = PERSONA_COPIES / fingerprint
    with _state_lock:
        cached = _personas.get(fingerprint)
    try:
        os.utime(copy)  # renewed first: a copy just used is never pruned
        here = (copy / name).is_dir()
    except FileNotFoundError:
        here = False
    if here and cached is not None:
        return cached
    if not here:  # new on this machine, or pruned after a week unused
        unpack_folder(ray.get(job.persona_folder[0]), copy / name)
        prune_persona_copies(PERSONA_COPIES, keep=copy)
    persona = pipeline.personas.load(copy / name)
    if persona.fingerprint != fingerprint:
        raise ModelError(f"The persona {name} arrived damaged on a render worker; please try again.")
    with _state_lock:
        _personas[fingerprint] = persona
    return persona


def prune_persona_copies(folder: Path, keep: Path, now: float | None = None) -> list[Path]:
    """Delete the persona copies in ``folder`` unused for ``PERSONA_COPY_DAYS`` (never ``keep``); returns them."""
    cutoff = (time.time() if now is None else now) - PERSONA_COPY_DAYS * 86400
    removed = []
    for copy in folder.iterdir():
        try:
            if copy != keep and copy.stat().st_mtime < cutoff:
                shutil.rmtree(copy)
                removed.append(copy)
        except OSError:  # another worker of this machine removed or renewed it first
            continue
    return removed


def check_fingerprints(pipeline: Pipeline, request: RenderRequest, bots: dict[str, str]) -> None:
    """This machine must make the video the bot's cache key stands for: same voice models, same engine."""
    mine = pipeline.fingerprints(request)
    differ = sorted(part for part in mine.keys() | bots.keys() if mine.get(part) != bots.get(part))
    if differ:
        raise ModelError(
            f"A render worker is set up differently from the bot ({', '.join(differ)} differ), so its videos "
            "would not match the bot's: install the same mouthpiece version and the same [models] folders on "
            "every machine of the render cluster."
        )


def _run(pipeline: Pipeline, request: RenderRequest, out: Path) -> Generator[Event, None, RenderResult]:
    """Run the pipeline in a thread and pass its progress on; returns (as the generator's value) its result."""
    events: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
    token = CancelToken()
    outcome: dict[str, Any] = {}
    last_stage, last_at = "", 0.0

    def report(stage: str, done: int, total: int) -> None:
        nonlocal last_stage, last_at
        now = time.monotonic()
        if stage != last_stage or done >= total or now - last_at >= 1 / REPORTS_PER_SECOND:
            last_stage, last_at = stage, now
            events.put(("progress", stage, done, total))

    def work() -> None:
        try:
            outcome["result"] = pipeline(request, out, report, token)
        except BaseException as exc:  # handed to the task's thread, which raises it to the bot
            outcome["error"] = exc
        finally:
            events.put(None)

    thread = threading.Thread(target=work, name="render", daemon=True)
    thread.start()
    try:
        while True:
            try:
                event = events.get(timeout=0.1)  # wakes up often, so a cancel is seen at once
            except queue.Empty:
                continue
            if event is None:
                break
            yield event
    except BaseException:  # the task was cancelled: stop the render before giving the worker back
        token.cancel()
        thread.join(STOP_WAIT_SECONDS)
        raise
    if "error" in outcome:
        raise outcome["error"]
    result: RenderResult = outcome["result"]
    return result
