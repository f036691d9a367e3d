"""One Wav2Lip forward pass for the face crops of every running render.

Each render submits its frames (mel window + 6-channel face crop) as a request; one worker
thread takes the waiting frames of all requests, most urgent request first, into a batch of
up to ``max_batch`` (waiting a few milliseconds for more when the batch is not full), runs the
network once and hands each request its own mouths back in order. A cancelled request's frames
are dropped before they reach the network. Submitting blocks while ``max_pending`` frames are
already waiting (backpressure), so a burst of renders cannot pile up crops without bound.

Precision: fp16 on CUDA; on the CPU bf16 in channels_last when it matches fp32 closely on a
probe batch (about twice as fast where the CPU has bf16 instructions), else fp32.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from engine.errors import RenderCancelled
from engine.models.lipsync.model import Wav2Lip

log = logging.getLogger(__name__)

MAX_BATCH = 128
WAIT_SECONDS = 0.004  # how long a part-filled batch waits for other renders' frames
MAX_PENDING = 1024
HISTORY = 1000  # recent batches remembered, for benchmarks and logs
BF16_TOLERANCE = 4 / 255  # largest output difference from fp32 on the probe batch for bf16 to be used


@dataclass(eq=False)
class Ticket:
    """One render's frames in the batcher; ``result()`` blocks for its mouths."""

    priority: int
    order: int
    mels: np.ndarray  # (n, 1, 80, 16) float32
    faces: np.ndarray  # (n, 96, 96, 6) uint8: lower-half-masked crop, then the reference crop, BGR
    out: np.ndarray = field(init=False)  # (n, 96, 96, 3) uint8 BGR
    taken: int = 0  # frames handed to the network so far
    done: int = 0
    cancelled: bool = False
    finished: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def __post_init__(self) -> None:
        self.out = np.empty((len(self.faces), 96, 96, 3), np.uint8)

    def result(self) -> np.ndarray:
        self.finished.wait()
        if self.error is not None:
            raise self.error
        return self.out


class LipSyncBatcher:
    def __init__(self, model: Wav2Lip, device: torch.device, *, precision: str = "auto",
                 max_batch: int = MAX_BATCH, wait: float = WAIT_SECONDS, max_pending: int = MAX_PENDING) -> None:
        self.device, self.max_batch, self.wait, self.max_pending = device, max_batch, wait, max(max_pending, max_batch)
        self.dtype, self.channels_last = _precision(model, device, precision)
        model = model.to(device=device, dtype=self.dtype)
        self.model = _channels_last(model) if self.channels_last else model
        self._waiting: list[Ticket] = []
        self._pending = 0  # frames submitted and not yet taken
        self._orders = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._paused = False
        #: Sizes of the latest forward passes, and the tickets they served (by ``order``), oldest first.
        self.batches: deque[int] = deque(maxlen=HISTORY)
        self.served: deque[int] = deque(maxlen=HISTORY)
        self.groups: deque[tuple[int, ...]] = deque(maxlen=HISTORY)  # each pass's tickets (by ``order``)
        log.info("lip-sync model on %s in %s (channels_last: %s)", device, self.dtype, self.channels_last)

    @property
    def pending(self) -> int:
        """Frames queued and not yet taken into a forward pass."""
        with self._cond:
            return self._pending

    @property
    def precision(self) -> str:
        return str(self.dtype).removeprefix("torch.")

    def submit(self, mels: np.ndarray, faces: np.ndarray, *, priority: int = 0) -> Ticket:
        """Queue a render's frames (lower ``priority`` is served first, as the engine's ``Priority``: someone
        waiting in a chat before batch work); blocks while the queue is full."""
        ticket = Ticket(priority, next(self._orders), mels, faces)
        if not len(faces):
            ticket.finished.set()
            return ticket
        with self._cond:
            while self._pending and self._pending + len(faces) > self.max_pending:
                self._cond.wait()
            self._waiting.append(ticket)
            self._waiting.sort(key=lambda t: (t.priority, t.order))
            self._pending += len(faces)
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="lipsync-batcher", daemon=True)
                self._thread.start()
            self._cond.notify_all()
        return ticket

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No forward pass starts inside this block (frames still queue): for draining, and for tests that
        queue several renders before any is served."""
        with self._cond:
            self._paused = True
        try:
            yield
        finally:
            with self._cond:
                self._paused = False
                self._cond.notify_all()

    def cancel(self, ticket: Ticket) -> None:
        """Drop the ticket's frames not yet taken; its ``result()`` raises ``RenderCancelled``."""
        with self._cond:
            if ticket.finished.is_set():
                return
            ticket.cancelled = True
            if ticket in self._waiting:
                self._waiting.remove(ticket)
                self._pending -= len(ticket.faces) - ticket.taken
            ticket.error = RenderCancelled("The render was cancelled.")
            if ticket.done == ticket.taken:
                ticket.finished.set()
            self._cond.notify_all()

    def infer(self, mels: np.ndarray, faces: np.ndarray, *, priority: int = 0) -> np.ndarray:
        return self.submit(mels, faces, priority=priority).result()

    def _serve(self) -> None:
        while True:
            with self._cond:
                while not self._pending or self._paused:
                    self._cond.wait()
                if self._pending < self.max_batch:
                    self._cond.wait(self.wait)  # others' frames may be on their way
                spans = [] if self._paused else self._take()
                self._cond.notify_all()  # room in the queue
            if not spans:
                continue
            self.batches.append(sum(b - a for _, a, b in spans))
            group = tuple(dict.fromkeys(t.order for t, _, _ in spans))
            self.served.extend(group)
            self.groups.append(group)
            failure: BaseException | None = None
            try:
                mouths = self._forward(np.concatenate([t.mels[a:b] for t, a, b in spans]),
                                       np.concatenate([t.faces[a:b] for t, a, b in spans]))
            except Exception as error:  # an unexpected failure must reach the renders, not kill the worker
                log.exception("lip-sync forward pass failed")
                mouths, failure = None, error
            with self._cond:
                at = 0
                for ticket, start, stop in spans:
                    if mouths is None:
                        ticket.error = ticket.error or failure
                    elif not ticket.cancelled:
                        ticket.out[start:stop] = mouths[at : at + stop - start]
                    at += stop - start
                    ticket.done += stop - start
                    if ticket.done == len(ticket.faces) or (ticket.cancelled and ticket.done == ticket.taken) \
                            or mouths is None:
                        self._drop(ticket)
                        ticket.finished.set()

    def _take(self) -> list[tuple[Ticket, int, int]]:
        """Frames for one batch, most urgent ticket first: (ticket, start, stop) spans."""
        spans, room = [], self.max_batch
        for ticket in list(self._waiting):
            if not room:
                break
            count = min(room, len(ticket.faces) - ticket.taken)
            spans.append((ticket, ticket.taken, ticket.taken + count))
            ticket.taken += count
            room -= count
            self._pending -= count
            if ticket.taken == len(ticket.faces):
                self._waiting.remove(ticket)
        return spans

    def _drop(self, ticket: Ticket) -> None:
        if ticket in self._waiting:
            self._waiting.remove(ticket)
            self._pending -= len(ticket.faces) - ticket.taken

    def _forward(self, mels: np.ndarray, faces: np.ndarray) -> np.ndarray:
        """Mouths (n, 96, 96, 3) uint8 BGR; on CUDA out of memory, the batch size halves and it retries."""
        while True:
            try:
                return np.concatenate([run(self.model, mels[i : i + self.max_batch], faces[i : i + self.max_batch],
                                           self.device, self.dtype, self.channels_last)
                                       for i in range(0, len(faces), self.max_batch)])
            except torch.cuda.OutOfMemoryError:
                if self.max_batch == 1:
                    raise
                torch.cuda.empty_cache()
                self.max_batch //= 2
                log.warning("lip-sync batch too big for the GPU: now at most %d frames", self.max_batch)


@torch.inference_mode()
def run(model: Wav2Lip, mels: np.ndarray, faces: np.ndarray, device: torch.device, dtype: torch.dtype,
        channels_last: bool = False) -> np.ndarray:
    """One forward pass: uint8 (n, 96, 96, 6) crops and (n, 1, 80, 16) mels → uint8 (n, 96, 96, 3) mouths."""
    face = torch.from_numpy(np.ascontiguousarray(faces)).to(device).permute(0, 3, 1, 2).to(dtype) / 255
    mel = torch.from_numpy(np.ascontiguousarray(mels)).to(device=device, dtype=dtype)
    if channels_last:
        face = face.contiguous(memory_format=torch.channels_last)
    out = model(mel, face).float().permute(0, 2, 3, 1) * 255
    return out.round_().clamp_(0, 255).to(torch.uint8).cpu().numpy()


def _precision(model: Wav2Lip, device: torch.device, wanted: str) -> tuple[torch.dtype, bool]:
    if wanted == "fp32":
        return torch.float32, False
    if device.type == "cuda":
        return torch.float16, False
    if wanted == "bf16":
        return torch.bfloat16, True
    if not torch.backends.mkldnn.is_available() or not _bf16_supported():
        return torch.float32, False
    generator = np.random.default_rng(0)
    mels = generator.uniform(-4, 4, (4, 1, 80, 16)).astype(np.float32)
    faces = generator.integers(0, 256, (4, 96, 96, 6), dtype=np.uint8)
    reference = run(model, mels, faces, device, torch.float32)
    low = run(_channels_last(model.to(torch.bfloat16)), mels, faces, device, torch.bfloat16, True)
    model.to(torch.float32)
    gap = np.abs(reference.astype(int) - low).max() / 255
    log.info("lip-sync bf16 probe: largest difference from fp32 %.4f", gap)
    return (torch.bfloat16, True) if gap <= BF16_TOLERANCE else (torch.float32, False)


def _channels_last(model: Wav2Lip) -> Wav2Lip:
    return model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # the stubs lack the keyword


def _bf16_supported() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False
