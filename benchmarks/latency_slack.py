"""Slack latency through the fake Slack, measured in one run on this machine.

    .venv/bin/python benchmarks/latency_slack.py [--repeats 5]

The real agent and ``SlackAdapter`` (slack-bolt, Socket Mode) against ``core/testing/fakes``'
Web API and Socket Mode server on 127.0.0.1. Prints medians over the repeats, after one
warm-up, of:
  * ``/say`` → its acknowledgement (target ≤ 0.3 s);
  * ``/say`` with a sentence → the uploaded video in the channel;
  * a 5 s voice clip shared with ``!avatar`` → its event acknowledged, and → the uploaded
    video in the thread (target ≤ 1.5 s).
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

from benchmarks.common import benchmark_config, five_second_clips
from core.testing.fakes.slack import SlackDriver, running_driver
from core.testing.fakes.slack_server import FakeSlack
from core.testing.testbot import MEMBER


def video_posted_at(driver: SlackDriver, since: int) -> float:
    [upload] = [m for m in driver.fake.bot_messages(since) if m.files]
    return upload.posted_at


async def measure(driver: SlackDriver, clips: list[Path]) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"command ack": [], "command video": [], "clip ack": [], "clip video": []}
    for number, clip in enumerate(clips):
        since, started = driver.fake.change, time.perf_counter()
        await driver.command("/say", f"Good morning, this is announcement number {number}.", user=MEMBER)
        assert driver.last_ack is not None
        command_ack, command_video = driver.last_ack.seconds, video_posted_at(driver, since) - started
        since, started = driver.fake.change, time.perf_counter()
        await driver.send("!avatar", user=MEMBER, files=[clip])
        assert driver.last_ack is not None
        if number:  # the first round warms up (connections, caches, the speech engine)
            figures["command ack"].append(command_ack)
            figures["command video"].append(command_video)
            figures["clip ack"].append(driver.last_ack.seconds)
            figures["clip video"].append(video_posted_at(driver, since) - started)
    return figures


async def main(repeats: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        clips = five_second_clips(Path(folder), repeats + 1)
        fake = FakeSlack()
        await fake.start()
        try:
            async for driver in running_driver(fake, benchmark_config(Path(folder))):
                figures = await measure(driver, clips)
        finally:
            await fake.close()
    targets = {"command ack": 0.3, "clip video": 1.5}
    print(f"Slack through the fake (Socket Mode), median of {repeats}:")
    for name, values in figures.items():
        target = f"  (target ≤ {targets[name]} s)" if name in targets else ""
        print(f"  {name:14s} {statistics.median(values):6.3f} s   [{min(values):.3f} … {max(values):.3f}]{target}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    asyncio.run(main(parser.parse_args().repeats))
