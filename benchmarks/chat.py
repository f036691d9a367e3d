"""Conversation latency: a message in, the persona's video reply delivered, side by side in one run.

    .venv/bin/python benchmarks/chat.py [--repeats 7] [--threads 1] [--default-only]

Runs a real agent on a temporary database, sends direct messages through a recording
responder, and prints the median time from the message to the delivered video for a
one-sentence reply (target ≤ 1.0 s), split into rendering and the rest (listening,
thinking, memory, queue, status), for:

- the default backends: persona templates and memory, espeak-ng, sprites, H.264;
- the tiny random models of ``tests.fakes.models`` (their Whisper and LM made ``speaking``:
  they write only letters and spaces, so the reply is always the model's): an LM reply
  (capped at 24 tokens, about a sentence) spoken by a VITS voice, from a text message and
  from a voice message through Whisper. Their compute is negligible, so these rows show
  the neural path's own overhead: loading nothing twice, the model calls, and lips that
  follow the audio (a neural voice gives no phoneme timings).

Every message is new text, and the render cache is emptied after each, so it never helps.
A warm-up message comes first in each row (loading the voice, the models and the sprites).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

if TYPE_CHECKING:
    from core.config import Config
    from core.events import MessageEvent
    from tests.fakes.models import TinyModels

#: A different one-sentence message each time: the reply (and so the video) is never cached.
MESSAGES = [
    "I like jazz.", "Wow, I won the lottery!", "I am so sad today.", "My favourite colour is teal.",
    "The weather was great.", "I have a dog named Rex.", "I live in Berlin.", "I love chess.",
    "I went hiking yesterday.", "This is so unfair.", "I work as a nurse.", "I enjoy baking bread.",
]
#: Tokens of a one-sentence reply from the language model.
REPLY_TOKENS = 24


@dataclass
class Row:
    label: str
    totals: list[float]
    renders: list[float]
    durations: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.totals)


async def measure(label: str, config: Config, events: list[MessageEvent]) -> Row:
    """Send ``events`` in turn (the first is a warm-up); the time of each to its delivered video."""
    from core.agent import Agent
    from core.replies import Reply, Responder, StatusMessage, TextReply, VideoReply

    class Delivered(Responder, StatusMessage):
        """Records when the video arrives; statuses are edited in place."""

        def __init__(self) -> None:
            self.video: VideoReply | None = None
            self.texts: list[str] = []
            self.at = 0.0

        async def send(self, reply: Reply) -> None:
            if isinstance(reply, VideoReply):
                self.video, self.at = reply, time.perf_counter()
            elif isinstance(reply, TextReply):
                self.texts.append(reply.text)

        async def status(self, text: str) -> StatusMessage:
            return self

        async def update(self, text: str) -> None:
            return None

        async def finish(self, reply: Reply | None = None) -> None:
            if reply is not None:
                await self.send(reply)

    row = Row(label, [], [], [])
    async with Agent(config) as agent:
        for n, event in enumerate(events):
            responder = Delivered()
            started = time.perf_counter()
            await agent.handle_message(event, responder)
            assert responder.video is not None, f"no video for {event.text or 'a voice message'}: {responder.texts}"
            if n == 0:
                continue  # warm-up
            record = agent.storage.recent_renders(1)[0]
            assert not record.cached
            row.totals.append(responder.at - started)
            row.renders.append(record.elapsed)
            row.durations.append(responder.video.duration)
            for entry in config.engine.cache_dir.glob("*.json"):  # a random model may say the same again
                entry.unlink()
    return row


def base_config(folder: Path) -> Config:
    from core.config import Config

    config = Config()
    config.agent.database = folder / "db.sqlite"
    config.engine.output_dir, config.engine.cache_dir = folder / "out", folder / "cache"
    config.personas.user_dirs = [folder / "personas"]
    return config


def models_config(folder: Path, models: TinyModels) -> Config:
    """The tiny models configured, and a default persona with the VITS voice."""
    from personas.registry import BUILTIN_DIR
    from tests.fakes.models import models_config

    config = base_config(folder)
    config.models = models_config(models)
    config.chat.max_new_tokens = REPLY_TOKENS
    persona = folder / "personas" / "vee"
    shutil.copytree(BUILTIN_DIR / "friendly", persona)
    toml = (persona / "persona.toml").read_text(encoding="utf-8").replace('name = "friendly"', 'name = "vee"')
    (persona / "persona.toml").write_text(toml.replace("[voice]\n", '[voice]\nbackend = "vits"\n'), encoding="utf-8")
    config.personas.default = "vee"
    return config


def text_events(count: int) -> list[MessageEvent]:
    return [direct_message(text) for text in ["Hello there!", *MESSAGES[:count]]]


def voice_events(count: int, folder: Path) -> list[MessageEvent]:
    from tests.media import speech_clip

    clips = [speech_clip(folder / f"voice-{n}.wav", text) for n, text in enumerate(["Hello there!", *MESSAGES[:count]])]
    return [direct_message("", clip) for clip in clips]


def direct_message(text: str, clip: Path | None = None) -> MessageEvent:
    from core.events import Channel, MessageEvent, User
    from core.testing.testbot import local_attachment

    user = User(id="u1", name="Ada")
    channel = Channel(id="dm", server_id="dm", is_direct=True)
    attachments = (local_attachment(clip),) if clip else ()
    return MessageEvent("bench", user, channel, text=text, attachments=attachments)


async def run(repeats: int, default_only: bool) -> None:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="mouthpiece-chat-") as scratch:
        root = Path(scratch)
        plans: list[tuple[str, Callable[[Path], Config], Callable[[Path], list[MessageEvent]]]] = [
            ("default: templates + espeak-ng", base_config, lambda _: text_events(repeats))]
        if not default_only:
            from tests.fakes.models import build_all

            models = build_all(root / "models", letters_only=True)
            plans += [("tiny models: LM reply + VITS voice", lambda folder: models_config(folder, models),
                       lambda _: text_events(repeats)),
                      ("tiny models: voice msg → Whisper → LM + VITS", lambda folder: models_config(folder, models),
                       lambda folder: voice_events(repeats, folder))]
        for n, (label, make_config, make_events) in enumerate(plans):
            folder = root / f"row-{n}"
            folder.mkdir()
            rows.append(await measure(label, make_config(folder), make_events(folder)))
    print(f"\nmessage → delivered video, one-sentence reply (median of {repeats} after a warm-up, 512×512 @ 25 fps):")
    print(f"  {'':<46} {'total':>8} {'render':>8} {'the rest':>9} {'speech':>7} {'render/s of speech':>19}")
    for row in rows:
        render, speech = statistics.median(row.renders), statistics.median(row.durations)
        print(f"  {row.label:<46} {row.median:7.3f}s {render:7.3f}s {row.median - render:8.3f}s "
              f"{speech:6.1f}s {render / speech:18.3f}s")
    target = rows[0].median
    print(f"  default backends: target ≤ 1.0 s {'met' if target <= 1.0 else 'MISSED'}")
    for row in rows[1:]:
        print(f"  {row.label}: {row.median / target:.2f}× the default's time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, choices=range(1, len(MESSAGES) + 1), metavar="N")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1: tiny models' ops are too small to share; 0: torch's default)")
    parser.add_argument("--default-only", action="store_true", help="only the default backends (no torch needed)")
    args = parser.parse_args()
    # The tiny LM's 512-token context cuts every prompt (logged as a warning each time): keep the table readable.
    logging.basicConfig(level=logging.ERROR)
    if not args.default_only:
        import torch
        from transformers.utils import logging as transformers_logging

        transformers_logging.set_verbosity_error()
        transformers_logging.disable_progress_bar()
        if args.threads:
            torch.set_num_threads(args.threads)
    asyncio.run(run(args.repeats, args.default_only))


if __name__ == "__main__":
    main()
