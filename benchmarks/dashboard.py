"""The REST API's cost over rendering directly, measured side by side in one run on this machine.

    .venv/bin/python benchmarks/dashboard.py [--repeats 5]

The real agent with its dashboard adapter (uvicorn in the same event loop) on a free
127.0.0.1 port, and an HTTP client over TCP. Prints medians over the repeats, after one
warm-up, of:
  * ``POST /renders`` (text) → its 202 answer;
  * ``GET /renders/{id}`` while the render runs;
  * a sentence through the API (POST, polling every 20 ms, GET the MP4) against the same kind
    of sentence rendered by the engine directly, and their ratio;
  * a 5 s clip uploaded (multipart) → the MP4, against the engine rendering a 5 s clip directly.
Every request differs (text, or the clip's last sample), so the render cache never answers.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx

from adapters.http import HttpAdapter
from benchmarks.common import benchmark_config, five_second_clips
from core.agent import Agent
from tests.dashboard_kit import TOKEN, dashboard_secrets

SENTENCE = "Hello everyone, this is sentence number {n} of the dashboard benchmark."


async def through_api(client: httpx.AsyncClient, figures: dict[str, list[float]], **post: object) -> float:
    started = time.perf_counter()
    created = await client.post("/api/v1/renders", **post)  # type: ignore[arg-type]
    figures["POST ack"].append(time.perf_counter() - started)
    render_id = created.json()["id"]
    while True:
        polled = time.perf_counter()
        status = (await client.get(f"/api/v1/renders/{render_id}")).json()
        figures["GET status"].append(time.perf_counter() - polled)
        if status["status"] != "queued" and status["status"] != "rendering":
            break
        await asyncio.sleep(0.02)
    assert status["status"] == "done", status
    video = await client.get(status["video_url"])
    assert video.status_code == 200 and video.content
    return time.perf_counter() - started


async def directly(agent: Agent, **request: object) -> float:
    started = time.perf_counter()
    await asyncio.to_thread(agent.engine.render, agent.config.engine.request("friendly", **request))  # type: ignore[arg-type]
    return time.perf_counter() - started


async def main(repeats: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        config = benchmark_config(Path(folder))
        config.dashboard.port = 0
        clips = five_second_clips(Path(folder), 2 * (repeats + 1))
        agent = Agent(config, dashboard_secrets())
        async with agent:
            adapter = HttpAdapter(agent)
            serving = asyncio.create_task(adapter.run())
            await adapter.ready.wait()
            figures: dict[str, list[float]] = {"POST ack": [], "GET status": [], "text via API": [],
                                               "text directly": [], "clip via API": [], "clip directly": []}
            async with httpx.AsyncClient(base_url=adapter.base_url, headers={"Authorization": f"Bearer {TOKEN}"},
                                         timeout=120) as client:
                for n in range(repeats + 1):
                    api_text = await through_api(client, figures, json={"text": SENTENCE.format(n=f"{n}a")})
                    direct_text = await directly(agent, text=SENTENCE.format(n=f"{n}b"))
                    with clips[2 * n].open("rb") as clip:
                        api_clip = await through_api(client, figures, files={"clip": ("clip.wav", clip, "audio/wav")})
                    direct_clip = await directly(agent, audio_path=clips[2 * n + 1])
                    if n:  # the first round warms up
                        figures["text via API"].append(api_text)
                        figures["text directly"].append(direct_text)
                        figures["clip via API"].append(api_clip)
                        figures["clip directly"].append(direct_clip)
            await adapter.stop()
            await serving
    median = {name: statistics.median(values) for name, values in figures.items()}
    for name, value in median.items():
        print(f"{name:<14} {value * 1000:8.1f} ms")
    print(f"API / direct: text {median['text via API'] / median['text directly']:.2f}×, "
          f"clip {median['clip via API'] / median['clip directly']:.2f}×")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    asyncio.run(main(parser.parse_args().repeats))
