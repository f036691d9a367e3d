"""Through the Discord fake (dpytest): time from a member's ``!avatar`` with a 5 s clip to the
acknowledgement (the status message), and to the delivered video. Prints medians.

    .venv/bin/python benchmarks/latency_discord.py [--runs 7]

Each run sends a different clip (a fresh render, never the cache) at the configured
video size (512×512, 25 fps), through the real agent, adapter and discord.py.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import discord.ext.test as dpytest
import pytest
from discord.ext.test import callbacks

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.discord import DiscordAdapter
from benchmarks.common import benchmark_config, five_second_clips
from core.agent import Agent
from core.config import Secrets
from core.testing.fakes.discord import DiscordDriver, connect_to_dpytest
from core.testing.testbot import MEMBER


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        tmp = Path(folder)
        patch.chdir(tmp)  # dpytest writes uploads into the working folder
        async with Agent(benchmark_config(tmp), Secrets(discord_token="dpytest")) as agent:  # type: ignore[arg-type]
            adapter = DiscordAdapter(agent)
            await connect_to_dpytest(adapter, patch)
            driver = DiscordDriver(agent, adapter)
            acks, videos = [], []
            sent_at = 0.0
            first_reply: list[float] = []

            async def on_send(message: object) -> None:
                if not first_reply:
                    first_reply.append(time.perf_counter() - sent_at)

            callbacks.set_callback(on_send, "send_message")
            for run, clip in enumerate(five_second_clips(tmp, runs + 1)):  # run 0 warms up the encoder
                first_reply.clear()
                sent_at = time.perf_counter()
                delivered = await driver.send("!avatar", user=MEMBER, files=[clip])
                total = time.perf_counter() - sent_at
                assert [d.kind for d in delivered] == ["video"], delivered
                if run:
                    acks.append(first_reply[0])
                    videos.append(total)
            print(f"Discord (dpytest), {runs} runs, 5 s clip at {agent.config.engine.width}x"
                  f"{agent.config.engine.height}, {agent.config.engine.fps} fps:")
            print(f"  command → acknowledgement: median {statistics.median(acks) * 1000:.0f} ms "
                  f"(max {max(acks) * 1000:.0f} ms; target ≤ 300 ms)")
            print(f"  command → delivered video: median {statistics.median(videos):.2f} s "
                  f"(max {max(videos):.2f} s; target ≤ 1.5 s)")
            await dpytest.empty_queue()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    asyncio.run(main(parser.parse_args().runs))
