"""The "ray" executor against the local one, side by side in one run on this machine.

    .venv/bin/python benchmarks/ray_throughput.py [--jobs 8] [--small 6]    # as root, with the ray extra

Starts a Ray head (one render slot) in a private network namespace, like the tests, then adds a
second node (one more slot) and prints:
  * throughput, in seconds of video per wall-clock second, for ``--jobs`` renders of ~5 s of speech
    at 512×512, 25 fps: local executor with 1 and 2 render threads, Ray with 1 and 2 nodes;
  * the overhead per job of the Ray executor: ``--small`` short renders (~1 s, 256×256) one after
    another, mean wall time per job with Ray minus with local threads (workers already warm).
On one machine both nodes share its cores: the 2-node figure shows that renders spread, not what
two machines would give.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

INSIDE = "MOUTHPIECE_BENCH_INSIDE"
SENTENCE = "This is render number {n} of the throughput benchmark, about five seconds of speech long."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--small", type=int, default=6)
    args = parser.parse_args()
    if os.environ.get(INSIDE):
        measure(Path(os.environ[INSIDE]), args.jobs, args.small)
        return
    import secrets

    folder = tempfile.mkdtemp(prefix="mp-bench-")  # short: Ray's socket paths go under it
    env = {**os.environ, INSIDE: folder, "RAY_AUTH_TOKEN": secrets.token_hex(32), "PYTHONPATH": str(REPO)}
    command = ["unshare", "--net", "--pid", "--fork", "--mount-proc", "--kill-child", sys.executable, __file__,
               "--jobs", str(args.jobs), "--small", str(args.small)]
    try:
        code = subprocess.call(command, env=env, cwd=REPO)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    sys.exit(code)


def measure(folder: Path, jobs: int, small: int) -> None:
    from tests import raycluster

    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    texts = [SENTENCE.format(n=n) for n in range(jobs)]
    shorts = [f"Short one, number {n}." for n in range(small)]
    rows = []
    for workers in (1, 2):
        rows.append((f"local, {workers} thread{'s' * (workers > 1)}",
                     throughput(engine(folder, "local", workers), texts, f"local{workers}")))
    raycluster.start_node(folder, head=True)
    ray_engine = engine(folder, "ray", 2)
    warm(ray_engine, 1)
    rows.append(("ray, 1 node", throughput(ray_engine, texts, "ray1")))
    raycluster.start_node(folder, head=False)
    warm(ray_engine, 2)
    rows.append(("ray, 2 nodes", throughput(ray_engine, texts, "ray2")))
    print(f"throughput: {jobs} renders of ~5 s at 512x512, 25 fps (seconds of video per wall second)")
    for name, value in rows:
        print(f"  {name:<18} {value:6.2f}   ({value / rows[0][1]:.2f}x local, 1 thread)")
    local_job = per_job(engine(folder, "local", 1), shorts, "small-local")
    ray_job = per_job(engine(folder, "ray", 1), shorts, "small-ray")
    print(f"per job, {small} renders of ~1 s at 256x256 one after another:")
    print(f"  local {local_job * 1000:7.0f} ms   ray {ray_job * 1000:7.0f} ms   "
          f"overhead {(ray_job - local_job) * 1000:+.0f} ms per job")


def engine(folder: Path, executor: str, workers: int):  # type: ignore[no-untyped-def]
    """A started engine over the default pipeline; each its own cache, so nothing is answered from one."""
    from core.cluster import build_backends, ray_executor
    from core.config import Config
    from core.plugins import build_plugin_manager
    from engine.engine import RenderEngine, RenderFn
    from engine.pipeline import Pipeline
    from engine.settings import EngineSettings
    from personas.registry import PersonaRegistry
    from tests import raycluster

    cache = Path(tempfile.mkdtemp(prefix=f"{executor}-", dir=folder))
    address = raycluster.HEAD if executor == "ray" else None
    config = Config(engine=EngineSettings(executor=executor, ray_address=address, cache_dir=cache, workers=workers))
    pipeline = Pipeline(config.engine, PersonaRegistry(), build_backends(config, build_plugin_manager())[1])
    render_fn: RenderFn = ray_executor(config, pipeline) if executor == "ray" else pipeline
    started = RenderEngine(config.engine, render_fn, pipeline.cache_key)
    started.start()
    return started


def warm(engine, count: int) -> None:  # type: ignore[no-untyped-def]
    """One render per node first: a worker process starts and imports the engine once."""
    jobs = [engine.submit(engine.settings.request("friendly", text=f"Warming up node {n}.")) for n in range(count)]
    for job in jobs:
        job.result(600)


def throughput(engine, texts: list[str], tag: str) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    jobs = [engine.submit(engine.settings.request("friendly", text=f"{text} {tag}.")) for text in texts]
    seconds = sum(job.result(600).duration for job in jobs)
    return seconds / (time.perf_counter() - started)


def per_job(engine, texts: list[str], tag: str) -> float:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    def one(text: str) -> float:
        request = replace(engine.settings.request("friendly", text=f"{text} {tag}"), width=256, height=256)
        started = time.perf_counter()
        engine.submit(request).result(600)
        return time.perf_counter() - started

    one("warm-up")
    return statistics.mean(one(text) for text in texts)


if __name__ == "__main__":
    main()
