from __future__ import annotations

import asyncio
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.cache import cache_key
from engine.engine import (
    CancelToken,
    JobStatus,
    Priority,
    Progress,
    ProgressFn,
    RenderEngine,
    current_priority,
)
from engine.errors import AudioInputError, EngineBusyError, RenderCancelled, TextInputError
from engine.settings import EngineSettings
from engine.types import RenderRequest, RenderResult

WAIT = 10  # seconds: only a safety net, every wait below ends on an event


class FakeRender:
    """Stands in for the pipeline: writes a small file; can hold until ``gate`` is set."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.started = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        self.error: Exception | None = None

    def __call__(self, request: RenderRequest, path: Path, report: ProgressFn, token: CancelToken) -> RenderResult:
        self.calls.append(request.text or "")
        self.started.set()
        report("frames", 0, 4)
        while not self.gate.wait(0.01):
            token.raise_if_cancelled()
        for done in range(1, 5):
            token.raise_if_cancelled()
            report("frames", done, 4)
        if self.error is not None:
            raise self.error
        path.write_bytes(b"mp4 of " + (request.text or "").encode())
        return RenderResult(path, request.persona, 1.0, 25, request.width, request.height, request.fps, "phonemes", 0.5)

    def hold(self) -> None:
        self.gate.clear()
        self.started.clear()


def key(request: RenderRequest) -> str:
    return cache_key(request, "persona-v1", "engine-test")


def req(text: str) -> RenderRequest:
    return RenderRequest(persona="ada", text=text)


@pytest.fixture
def fake() -> FakeRender:
    return FakeRender()


@pytest.fixture
def make_engine(tmp_path: Path, fake: FakeRender) -> Iterator[Callable[..., RenderEngine]]:
    engines: list[RenderEngine] = []

    def make(**settings: object) -> RenderEngine:
        engine = RenderEngine(EngineSettings(cache_dir=tmp_path / "cache", **settings), fake, key)
        engine.start()
        engines.append(engine)
        return engine

    yield make
    fake.gate.set()
    for engine in engines:
        engine.close(cancel_running=True, timeout=WAIT)


def cache_files(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "cache").iterdir())


def test_renders_into_the_cache(make_engine: Callable[..., RenderEngine], fake: FakeRender, tmp_path: Path) -> None:
    engine = make_engine()
    result = engine.render(req("hello"))
    assert result.path == tmp_path / "cache" / f"{key(req('hello'))}.mp4"
    assert result.path.read_bytes() == b"mp4 of hello"
    assert not result.cached and fake.calls == ["hello"]
    assert cache_files(tmp_path) == sorted([result.path.name, result.path.with_suffix(".json").name])


def test_interactive_runs_before_batch(make_engine: Callable[..., RenderEngine], fake: FakeRender) -> None:
    engine = make_engine(workers=1)
    fake.hold()
    first = engine.submit(req("first"), Priority.BATCH)
    assert fake.started.wait(WAIT)
    batch = [engine.submit(req(f"batch {n}"), Priority.BATCH) for n in range(2)]
    interactive = engine.submit(req("interactive"), Priority.INTERACTIVE)
    assert interactive.status is JobStatus.QUEUED and first.status is JobStatus.RUNNING
    fake.gate.set()
    for job in [first, *batch, interactive]:
        job.result(WAIT)
    assert fake.calls == ["first", "interactive", "batch 0", "batch 1"]
    assert interactive.status is JobStatus.DONE


def test_full_queue_says_busy(make_engine: Callable[..., RenderEngine], fake: FakeRender) -> None:
    engine = make_engine(workers=1, queue_size=2)
    fake.hold()
    engine.submit(req("running"))
    assert fake.started.wait(WAIT)
    engine.submit(req("one"))
    engine.submit(req("two"))
    with pytest.raises(EngineBusyError, match="busy.*try again in a minute"):
        engine.submit(req("three"))
    assert engine.submit(req("one")).status is JobStatus.QUEUED  # joining a queued render takes no place


def test_cancel_pending_job(make_engine: Callable[..., RenderEngine], fake: FakeRender, tmp_path: Path) -> None:
    engine = make_engine(workers=1)
    fake.hold()
    running = engine.submit(req("running"))
    assert fake.started.wait(WAIT)
    pending = engine.submit(req("pending"))
    assert pending.cancel()
    assert pending.status is JobStatus.CANCELLED
    with pytest.raises(RenderCancelled):
        pending.result(WAIT)
    fake.gate.set()
    running.result(WAIT)
    engine.submit(req("after")).result(WAIT)  # the worker has moved past the cancelled job
    assert fake.calls == ["running", "after"]
    assert not (tmp_path / "cache" / f"{key(req('pending'))}.mp4").exists()
    assert not pending.cancel()  # already cancelled


def test_cancel_running_job(make_engine: Callable[..., RenderEngine], fake: FakeRender, tmp_path: Path) -> None:
    engine = make_engine(workers=1)
    fake.hold()
    job = engine.submit(req("doomed"))
    assert fake.started.wait(WAIT)
    assert job.status is JobStatus.RUNNING
    job.cancel()
    with pytest.raises(RenderCancelled):
        job.result(WAIT)
    fake.gate.set()
    engine.submit(req("next")).result(WAIT)  # returns once the worker has given up the cancelled render
    assert fake.calls == ["doomed", "next"]
    names = cache_files(tmp_path)
    assert not any(n.startswith(key(req("doomed"))) for n in names)
    assert not any(n.endswith(".part.mp4") for n in names)


def test_cache_hit_skips_rendering(make_engine: Callable[..., RenderEngine], fake: FakeRender) -> None:
    engine = make_engine()
    first = engine.render(req("again"))
    job = engine.submit(req("again"))
    assert job.future.done() and job.status is JobStatus.DONE  # no queueing at all
    second = job.result()
    assert second.cached and second.elapsed == 0.0 and not first.cached
    assert second.path == first.path and second.frames == first.frames
    assert fake.calls == ["again"]
    # A restarted engine finds the same file.
    assert RenderEngine(engine.settings, fake, key).submit(req("again")).result().cached


def test_a_cache_hit_makes_the_file_young_again(make_engine: Callable[..., RenderEngine]) -> None:
    """Housekeeping deletes by age: a video just served from the cache must not count as old."""
    engine = make_engine()
    path = engine.render(req("kept")).path
    week_ago = time.time() - 7 * 86400
    os.utime(path, (week_ago, week_ago))
    assert engine.render(req("kept")).cached
    assert path.stat().st_mtime > time.time() - 60


def test_identical_requests_share_one_render(make_engine: Callable[..., RenderEngine], fake: FakeRender) -> None:
    engine = make_engine(workers=2)
    fake.hold()
    first = engine.submit(req("same"))
    assert fake.started.wait(WAIT)
    second = engine.submit(req("same"), Priority.BATCH)
    assert second.id != first.id
    fake.gate.set()
    assert first.result(WAIT).path == second.result(WAIT).path
    assert fake.calls == ["same"]


def test_cancelling_one_of_two_shared_jobs_keeps_the_render(
    make_engine: Callable[..., RenderEngine], fake: FakeRender
) -> None:
    engine = make_engine(workers=1)
    fake.hold()
    first = engine.submit(req("shared"))
    assert fake.started.wait(WAIT)
    second = engine.submit(req("shared"))
    first.cancel()
    fake.gate.set()
    assert second.result(WAIT).path.exists()
    assert first.status is JobStatus.CANCELLED and fake.calls == ["shared"]


def test_progress_reports_queue_position_then_stages(
    make_engine: Callable[..., RenderEngine], fake: FakeRender
) -> None:
    engine = make_engine(workers=1)
    fake.hold()
    blocker = engine.submit(req("blocker"))
    assert fake.started.wait(WAIT)
    seen: list[Progress] = []
    job = engine.submit(req("watched"), on_progress=seen.append)
    fake.gate.set()
    blocker.result(WAIT)
    job.result(WAIT)
    assert (seen[0].stage, seen[0].position) == ("queued", 1)
    frames = [p for p in seen if p.stage == "frames"]
    assert [p.done for p in frames] == [0, 1, 2, 3, 4] and {p.total for p in frames} == {4}
    assert {p.job_id for p in seen} == {job.id}


def test_eta_comes_from_elapsed_over_done(tmp_path: Path, fake: FakeRender) -> None:
    ticks = itertools.count()  # each reading of the clock is one second later
    engine = RenderEngine(EngineSettings(cache_dir=tmp_path), fake, key, clock=lambda: float(next(ticks)))
    engine.start()
    seen: list[Progress] = []
    engine.render(req("timed"), on_progress=seen.append)
    assert [p.eta_seconds for p in seen if p.stage == "frames"] == [None, 3.0, 2.0, 1.0, 0.0]
    # Once a render has been timed, a queued job is told roughly how long it waits.
    fake.hold()
    engine.submit(req("blocker"))
    assert fake.started.wait(WAIT)
    queued: list[Progress] = []
    engine.submit(req("queued"), on_progress=queued.append)
    assert queued[0].stage == "queued" and queued[0].eta_seconds is not None and queued[0].eta_seconds > 0
    engine.close(cancel_running=True, timeout=WAIT)


def test_a_failed_render_leaves_nothing_and_is_not_cached(
    make_engine: Callable[..., RenderEngine], fake: FakeRender, tmp_path: Path
) -> None:
    engine = make_engine()
    fake.error = TextInputError("That text has nothing I can say.")
    with pytest.raises(TextInputError, match="nothing I can say"):
        engine.render(req("bad"))
    assert cache_files(tmp_path) == []
    fake.error = None
    assert not engine.render(req("bad")).cached
    assert fake.calls == ["bad", "bad"]


@pytest.mark.asyncio
async def test_await_job(make_engine: Callable[..., RenderEngine]) -> None:
    engine = make_engine()
    result = await engine.submit(req("async"))
    assert result.path.read_bytes() == b"mp4 of async"


@pytest.mark.asyncio
async def test_cancelling_the_awaiting_task_cancels_the_job(
    make_engine: Callable[..., RenderEngine], fake: FakeRender
) -> None:
    engine = make_engine()
    fake.hold()
    job = engine.submit(req("abandoned"))
    waiter = asyncio.ensure_future(_await(job))
    await asyncio.to_thread(fake.started.wait, WAIT)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert job.status is JobStatus.CANCELLED
    assert job._task is not None and job._task.token.cancelled


async def _await(job: object) -> RenderResult:
    return await job  # type: ignore[misc]


def test_close_cancels_pending_and_lets_running_finish(tmp_path: Path, fake: FakeRender) -> None:
    engine = RenderEngine(EngineSettings(cache_dir=tmp_path, workers=1), fake, key)
    engine.start()
    fake.hold()
    running = engine.submit(req("running"))
    assert fake.started.wait(WAIT)
    pending = engine.submit(req("pending"))
    closer = threading.Thread(target=engine.close)
    closer.start()
    assert isinstance(pending.future.exception(WAIT), RenderCancelled)
    fake.gate.set()
    closer.join(WAIT)
    assert not closer.is_alive()
    assert running.result(WAIT).path.exists()
    assert fake.calls == ["running"]
    with pytest.raises(EngineBusyError):
        engine.submit(req("late"))


def test_close_can_cancel_running_jobs(tmp_path: Path, fake: FakeRender) -> None:
    engine = RenderEngine(EngineSettings(cache_dir=tmp_path, workers=1), fake, key)
    engine.start()
    fake.hold()
    running = engine.submit(req("running"))
    assert fake.started.wait(WAIT)
    engine.close(cancel_running=True, timeout=WAIT)
    assert isinstance(running.future.exception(WAIT), RenderCancelled)
    assert not any(tmp_path.glob("*.mp4"))


def test_default_cache_key_hashes_audio_content(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.ogg", tmp_path / "b.ogg", tmp_path / "c.ogg"
    a.write_bytes(b"voice" * 1000)
    b.write_bytes(b"voice" * 1000)
    c.write_bytes(b"other" * 1000)
    keyed = lambda path, fingerprint="p1": cache_key(  # noqa: E731
        RenderRequest(persona="ada", audio_path=path), fingerprint, "1"
    )
    assert keyed(a) == keyed(b)  # same bytes, different name
    assert len({keyed(a), keyed(c), keyed(a, "p2"), key(req("hi"))}) == 4
    with pytest.raises(AudioInputError, match="couldn't read"):
        keyed(tmp_path / "missing.ogg")


def test_interactive_request_lifts_a_shared_batch_render(
    make_engine: Callable[..., RenderEngine], fake: FakeRender
) -> None:
    engine = make_engine(workers=1)
    fake.hold()
    engine.submit(req("blocker"))
    assert fake.started.wait(WAIT)
    jobs = [engine.submit(req("x"), Priority.BATCH), engine.submit(req("y"), Priority.BATCH)]
    jobs.append(engine.submit(req("y"), Priority.INTERACTIVE))
    fake.gate.set()
    for job in jobs:
        job.result(WAIT)
    assert fake.calls == ["blocker", "y", "x"]


def test_a_refusal_is_one_quiet_line_and_a_fault_has_its_traceback(
        make_engine: Callable[..., RenderEngine], fake: FakeRender, caplog: pytest.LogCaptureFixture) -> None:
    engine = make_engine()
    fake.error = AudioInputError("The clip is silent — there is nothing to lip-sync.")
    with caplog.at_level("INFO", logger="engine.engine"), pytest.raises(AudioInputError):
        engine.render(req("silence"))
    [refused] = caplog.records
    assert refused.levelname == "INFO" and refused.exc_info is None
    assert refused.getMessage().endswith("refused: The clip is silent — there is nothing to lip-sync.")
    caplog.clear()
    fake.error = ZeroDivisionError("a bug of ours")
    with caplog.at_level("INFO", logger="engine.engine"), pytest.raises(ZeroDivisionError):
        engine.render(req("bug"))
    [fault] = caplog.records
    assert fault.levelname == "ERROR" and fault.exc_info is not None


def test_partial_files_of_dead_renders_are_removed_at_start(tmp_path: Path, fake: FakeRender) -> None:
    from engine.cache import RenderCache

    cache = tmp_path / "cache"
    cache.mkdir()
    ours = RenderCache(cache).part_path("a" * 64)
    dead_pid = max(int(p) for p in os.listdir("/proc") if p.isdigit()) + 100_000  # beyond any live process
    left = [cache / f".{'b' * 64}.{dead_pid}-0123abcd-89abcdef.part.mp4.1234abcd.part",  # the encoder's own
            cache / f"{'c' * 64}.{dead_pid}-0123abcd-89abcdef.part.mp4",
            cache / f"{'d' * 64}.json.{dead_pid}-0123abcd-89abcdef.part",
            cache / f"{'e' * 64}.1a2b3c4d.part.mp4",  # named before parts were named for their process
            cache / f"{'f' * 64}.{os.getpid()}-0123abcd-89abcdef.part.mp4"]  # an earlier life of our pid
    alive = [ours, cache / f"{'9' * 64}.{os.getppid()}-0123abcd-89abcdef.part.mp4", cache / f"{'8' * 64}.mp4"]
    for path in (*left, *alive):
        path.write_bytes(b"partial")
    engine = RenderEngine(EngineSettings(cache_dir=cache), fake, key)
    engine.start()
    engine.close()
    assert cache_files(tmp_path) == sorted(p.name for p in alive)


def test_a_fifo_swapped_in_after_the_checks_is_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "clip.wav"
    os.mkfifo(fifo)  # opening it to read would wait for a writer forever
    with pytest.raises(AudioInputError, match="'clip.wav' is not a regular file"):
        cache_key(RenderRequest(persona="ada", audio_path=fifo), "persona-v1", "engine-test")


def test_the_render_fn_knows_its_jobs_priority(make_engine: Callable[..., RenderEngine], fake: FakeRender) -> None:
    seen: list[Priority] = []

    def recording(request: RenderRequest, path: Path, report: ProgressFn, token: CancelToken) -> RenderResult:
        seen.append(current_priority())
        return fake(request, path, report, token)

    engine = RenderEngine(make_engine().settings, recording, key)
    engine.start()
    try:
        engine.submit(req("for a chat")).result(WAIT)
        engine.submit(req("for later"), priority=Priority.BATCH).result(WAIT)
    finally:
        engine.close()
    assert seen == [Priority.INTERACTIVE, Priority.BATCH]
    assert current_priority() == Priority.INTERACTIVE  # outside a render
