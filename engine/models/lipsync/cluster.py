"""The lip-sync model of a Ray cluster: one actor per GPU (one in all where the cluster has none).

Each actor holds the same ``LipSyncBatcher`` a bot uses in-process, so the face crops of every
render worker's jobs share its forward passes. A worker's ``wav2lip`` renderer talks to it
through ``ClusterBatcher``, which has the batcher's ``submit``/``cancel``: each submission is
one actor call that waits in a thread of the actor for its mouths; priority and cancelling
pass through. Actors are detached and named after the checkpoint (path, size, time, precision),
so every worker finds the same one and a replaced checkpoint gets a new one.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections import OrderedDict
from contextlib import ExitStack
from typing import Any

import numpy as np

from engine.errors import ModelError, RenderCancelled
from engine.models.lipsync.batcher import HISTORY, Ticket
from engine.settings import ModelSettings

PREFIX = "mouthpiece-lipsync"
#: Submissions one actor takes at once, each waiting in a thread (the batcher's queue bounds the frames).
CALLS = 64
LOST = "The lip-sync model's process on the render cluster stopped; please try again."


class LipSyncActor:
    """The Ray actor: the in-process batcher, behind calls keyed by the client's ticket."""

    def __init__(self, settings: ModelSettings) -> None:
        from engine.models import LIPSYNC, ModelHub

        batcher = ModelHub(settings).get(LIPSYNC)
        if batcher is None:
            raise ModelError("[models] lipsync is not set where the lip-sync actor runs.")
        self.batcher = batcher
        self._lock = threading.Lock()
        self._tickets: dict[str, Ticket] = {}
        self._cancelled: OrderedDict[str, bool] = OrderedDict()  # cancels that came before their submission
        self._labels: OrderedDict[int, str] = OrderedDict()  # ticket order → the submitting client's label
        self._paused: ExitStack | None = None

    def infer(self, key: str, label: str, mels: np.ndarray, faces: np.ndarray, priority: int) -> np.ndarray:
        with self._lock:
            if self._cancelled.pop(key, False):
                raise RenderCancelled("The render was cancelled.")
        ticket = self.batcher.submit(mels, faces, priority=priority)  # blocks while the batcher's queue is full
        with self._lock:
            self._labels[ticket.order] = label
            while len(self._labels) > HISTORY:
                self._labels.popitem(last=False)
            if self._cancelled.pop(key, False):
                self.batcher.cancel(ticket)
            else:
                self._tickets[key] = ticket
        try:
            return ticket.result()
        finally:
            with self._lock:
                self._tickets.pop(key, None)

    def cancel(self, key: str) -> None:
        with self._lock:
            ticket = self._tickets.get(key)
            if ticket is None:  # calls to a threaded actor may overtake each other
                self._cancelled[key] = True
                while len(self._cancelled) > HISTORY:
                    self._cancelled.popitem(last=False)
                return
        self.batcher.cancel(ticket)

    def pause(self) -> None:
        """No forward pass starts until ``resume`` (crops still queue): for draining, and for tests."""
        with self._lock:
            if self._paused is None:
                self._paused = ExitStack()
                self._paused.enter_context(self.batcher.paused())

    def resume(self) -> None:
        with self._lock:
            if self._paused is not None:
                self._paused.close()
                self._paused = None

    def stats(self) -> dict[str, Any]:
        """The clients' labels of the crops waiting and of each recent forward pass, and the passes' sizes."""
        with self._lock:
            labels = dict(self._labels)
            waiting = sorted({labels.get(t.order, "?") for t in self._tickets.values() if not t.finished.is_set()})
        return {"waiting": waiting, "batches": list(self.batcher.batches),
                "groups": [sorted({labels.get(order, "?") for order in group}) for group in self.batcher.groups]}


class RemoteTicket:
    def __init__(self, key: str, ref: Any) -> None:
        self.key, self.ref = key, ref

    def result(self) -> np.ndarray:
        import ray
        from ray.exceptions import RayError, RayTaskError

        try:
            mouths: np.ndarray = ray.get(self.ref)
            return mouths
        except RayTaskError as exc:  # the batcher's own error (cancelled, a failed pass): raised as it is
            if isinstance(exc.cause, Exception) and not isinstance(exc.cause, RayError):
                raise exc.cause from None
            raise ModelError(LOST) from exc
        except RayError as exc:
            raise ModelError(LOST) from exc


class ClusterBatcher:
    """A render worker's client of the cluster's lip-sync actor (for its node's GPU, or the one actor)."""

    def __init__(self, settings: ModelSettings) -> None:
        import ray

        self.label = f"{ray.get_runtime_context().get_node_id()}:{os.getpid()}"
        self.actor = actor(settings)

    def submit(self, mels: np.ndarray, faces: np.ndarray, *, priority: int = 0) -> RemoteTicket:
        key = uuid.uuid4().hex
        return RemoteTicket(key, self.actor.infer.remote(key, self.label, mels, faces, int(priority)))

    def cancel(self, ticket: RemoteTicket) -> None:
        self.actor.cancel.remote(ticket.key)  # not waited for: a render stopping doesn't wait on the model


def actor(settings: ModelSettings) -> Any:
    """The actor this process's renders use: on a node with GPUs, one of that node's (a GPU each, chosen by
    process); elsewhere the cluster's one CPU actor. Created by whichever worker asks first."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    name = f"{PREFIX}-{model_key(settings)}"
    options: dict[str, Any] = {"num_cpus": 0}
    node = ray.get_runtime_context().get_node_id()
    gpus = int(next((n["Resources"].get("GPU", 0) for n in ray.nodes() if n["NodeID"] == node), 0))
    if gpus and settings.device != "cpu":
        name += f"-{node[:16]}-gpu{os.getpid() % gpus}"
        options.update(num_gpus=1, scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False))
    remote = ray.remote(LipSyncActor).options(name=name, lifetime="detached", get_if_exists=True,
                                              max_concurrency=CALLS, max_restarts=-1, **options)
    try:
        return remote.remote(settings)
    except ValueError:  # another worker created it at the same moment
        return ray.get_actor(name)


def model_key(settings: ModelSettings) -> str:
    path = settings.lipsync
    stat = path.stat() if path is not None and path.is_file() else None
    described = f"{path}:{stat and stat.st_size}:{stat and stat.st_mtime_ns}:{settings.lipsync_precision}"
    return hashlib.sha256(described.encode()).hexdigest()[:12]
