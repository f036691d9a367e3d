"""Telegram latency through the fake Bot API, with the real adapter, python-telegram-bot and engine.

    .venv/bin/python benchmarks/latency_telegram.py [--repeats 5]

A member sends ``/avatar`` with a 5 s voice message (Opus in Ogg, as Telegram clients record
it); measured from the moment the update is handed to the bot's waiting long poll:
  * to the acknowledgement: the status message arriving at the Bot API (target ≤ 0.3 s);
  * to the delivered video: the finished MP4 uploaded with sendVideo (target ≤ 1.5 s).
Each repetition sends a slightly different clip, so the render cache never answers.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import CLIP_SECONDS, benchmark_config, five_second_clips
from core.testing.fakes.telegram import FakeTelegramAPI, running_telegram, voice_recording
from core.testing.testbot import MEMBER


async def measure(repeats: int) -> tuple[list[float], list[float]]:
    acks, videos = [], []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        clips = [voice_recording(wav, wav.with_suffix(".ogg")) for wav in five_second_clips(folder, repeats + 1)]
        async with FakeTelegramAPI() as api, running_telegram(api, benchmark_config(folder)) as driver:
            for number, clip in enumerate(clips):
                message = driver.message("/avatar", user=MEMBER, files=[clip])
                since = api.changes
                started = time.monotonic()
                await driver.deliver({"message": message})
                posted = [m for m in api.messages.values() if m.from_bot and m.changed > since]
                ack = min(m.posted_at for m in posted if m.kind == "message")
                [video] = [m.posted_at for m in posted if m.kind == "video"]
                if number:  # the first one warms the engine up
                    acks.append(ack - started)
                    videos.append(video - started)
    return acks, videos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    acks, videos = asyncio.run(measure(args.repeats))
    print(f"Telegram, through the fake Bot API, median of {len(acks)} (512×512, 25 fps, {CLIP_SECONDS:.0f} s clip):")
    print(f"  command → acknowledgement: {statistics.median(acks) * 1000:6.0f} ms   (target ≤ 300 ms; "
          f"min {min(acks) * 1000:.0f}, max {max(acks) * 1000:.0f})")
    print(f"  command → delivered video: {statistics.median(videos) * 1000:6.0f} ms   (target ≤ 1500 ms; "
          f"min {min(videos) * 1000:.0f}, max {max(videos) * 1000:.0f})")


if __name__ == "__main__":
    main()
