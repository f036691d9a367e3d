"""Conversation latency: a text message in, the persona's video reply delivered, on the default backends.

    .venv/bin/python benchmarks/chat.py [--repeats 7]

Runs a real agent (templates and memory, espeak-ng, sprites, H.264) on a temporary
database, sends direct messages through a recording responder, and prints the median
time from the message to the delivered video for a one-sentence reply (target ≤ 1.0 s),
split into thinking (reply and memory) and rendering. Every message is new text, so the
render cache never helps. A warm-up message comes first (loading the voice and sprites).
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

#: A different one-sentence message each time: the reply (and so the video) is never cached.
MESSAGES = [
    "I like jazz.", "Wow, I won the lottery!", "I am so sad today.", "My favourite colour is teal.",
    "The weather was great.", "I have a dog named Rex.", "I live in Berlin.", "I love chess.",
    "I went hiking yesterday.", "This is so unfair.", "I work as a nurse.", "I enjoy baking bread.",
]


async def run(repeats: int) -> None:
    from core.agent import Agent
    from core.config import Config
    from core.events import Channel, MessageEvent, User
    from core.replies import Reply, Responder, StatusMessage, VideoReply

    class Delivered(Responder, StatusMessage):
        """Records when the video arrives; statuses are edited in place."""

        def __init__(self) -> None:
            self.video: VideoReply | None = None
            self.at = 0.0

        async def send(self, reply: Reply) -> None:
            if isinstance(reply, VideoReply):
                self.video, self.at = reply, time.perf_counter()

        async def status(self, text: str) -> StatusMessage:
            return self

        async def update(self, text: str) -> None:
            return None

        async def finish(self, reply: Reply | None = None) -> None:
            if reply is not None:
                await self.send(reply)

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        config = Config()
        config.agent.database = tmp / "db.sqlite"
        config.engine.output_dir, config.engine.cache_dir = tmp / "out", tmp / "cache"
        config.personas.user_dirs = []
        user = User(id="u1", name="Ada")
        channel = Channel(id="dm", server_id="dm", is_direct=True)
        totals, renders, durations = [], [], []
        async with Agent(config) as agent:
            for n, text in enumerate(["Hello there!", *MESSAGES[:repeats]]):
                responder = Delivered()
                started = time.perf_counter()
                await agent.handle_message(MessageEvent("bench", user, channel, text=text), responder)
                assert responder.video is not None, f"no video for {text!r}"
                if n == 0:
                    continue  # warm-up
                record = agent.storage.recent_renders(1)[0]
                assert not record.cached
                totals.append(responder.at - started)
                renders.append(record.elapsed)
                durations.append(responder.video.duration)
    total = statistics.median(totals)
    print(f"text message → delivered video, one-sentence reply ({len(totals)} runs, 512×512 @ 25 fps):")
    print(f"  median {total:.3f} s (min {min(totals):.3f}, max {max(totals):.3f}); target ≤ 1.0 s: "
          f"{'met' if total <= 1.0 else 'MISSED'}")
    print(f"  of which rendering {statistics.median(renders):.3f} s for {statistics.median(durations):.1f} s of speech; "
          f"the rest (reply, memory, queue, status) {total - statistics.median(renders):.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, choices=range(1, len(MESSAGES) + 1), metavar="N")
    asyncio.run(run(parser.parse_args().repeats))


if __name__ == "__main__":
    main()
