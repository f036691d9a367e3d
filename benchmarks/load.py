"""Load: many members sending commands at once, through the real Telegram adapter and the fake Bot API.

    .venv/bin/python benchmarks/load.py [--members 50] [--per-minute 200] [--seconds 60]

Members take turns so that ``--per-minute`` commands arrive evenly, for ``--seconds``:
``/say`` with a short sentence, ``/avatar`` with a voice message and ``/help``, with the
default limits of config.toml (a member's and a server's commands per minute). Prints how
each command was answered (a video or the help; rate-limited; "busy"; an apology for a
fault, or nothing within 20 s: crashed), the peak RSS of the process running the bot, and
the slowest member's wait from sending a command to the end of its answer.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.render import own_peak_rss_mb
from core.config import LimitSettings
from core.events import User
from core.replies import SORRY
from core.testing.fakes.telegram import FakeTelegramAPI, TelegramDriver, running_telegram, voice_recording
from core.testing.testbot import test_config
from tests.media import speech_clip

SENTENCES = ("Good morning, everyone!", "Who is up for a game tonight?", "The contest closes on Friday.",
             "Thanks for the welcome.", "Let's keep the chat friendly.")
RATE_LIMITED = ("Slow down a little", "asking for a lot of videos", "already have a video rendering")
BUSY = "I'm busy rendering other videos"


@dataclass
class Tally:
    outcomes: Counter[str] = field(default_factory=Counter)
    waits: dict[str, float] = field(default_factory=dict)  # member → longest wait, seconds


def outcome(texts: list[str], kinds: list[str]) -> str:
    if any(kind in ("video", "video_note") for kind in kinds) or any(t.startswith("Commands:") for t in texts):
        return "answered"
    if any(any(mark in t for mark in RATE_LIMITED) for t in texts):
        return "rate-limited"
    if any(BUSY in t for t in texts):
        return "busy"
    if any(SORRY in t for t in texts) or not texts:
        return "crashed"
    return "answered"  # a clear refusal of the member's input is an answer too


async def member_command(driver: TelegramDriver, member: User, clip: Path, rng: random.Random, tally: Tally) -> None:
    roll = rng.random()
    started = time.monotonic()
    try:
        if roll < 0.6:
            message = driver.message(f"/say {rng.choice(SENTENCES)} {rng.randrange(10**6)}", user=member)
        elif roll < 0.8:
            message = driver.message("/avatar", user=member, files=[clip])
        else:
            message = driver.message("/help", user=member)
        await driver.deliver({"message": message})
    except TimeoutError:
        tally.outcomes["crashed"] += 1  # no answer within the driver's 20 s
        return
    finally:
        tally.waits[member.id] = max(tally.waits.get(member.id, 0.0), time.monotonic() - started)
    answers = [m for m in driver.api.messages.values()
               if m.from_bot and m.data.get("reply_to_message", {}).get("message_id") == message["message_id"]]
    tally.outcomes[outcome([m.text for m in answers], [m.kind for m in answers])] += 1


async def run(members: int, per_minute: int, seconds: float) -> Tally:
    tally = Tally()
    rng = random.Random(9)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        clip = voice_recording(speech_clip(folder / "voice.wav", "Hello everyone, this is my voice."),
                               folder / "voice.ogg")
        config = test_config(folder)
        config.limits = LimitSettings()  # the shipped defaults
        people = [User(id=str(1000 + n), name=f"Member {n}") for n in range(members)]
        async with FakeTelegramAPI() as api, running_telegram(api, config) as driver:
            tasks: list[asyncio.Task[None]] = []
            gap = 60.0 / per_minute
            started = time.monotonic()
            for turn in range(int(seconds / gap)):
                await asyncio.sleep(max(0.0, started + turn * gap - time.monotonic()))
                member = people[turn % members]
                tasks.append(asyncio.create_task(member_command(driver, member, clip, rng, tally)))
            await asyncio.gather(*tasks)
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--per-minute", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    began = time.monotonic()
    tally = asyncio.run(run(args.members, args.per_minute, args.seconds))
    total = sum(tally.outcomes.values())
    slowest = max(tally.waits.items(), key=lambda item: item[1])
    print(f"{args.members} members, {args.per_minute} commands a minute for {args.seconds:.0f} s "
          f"({total} commands, {time.monotonic() - began:.0f} s in all; default limits)")
    for name in ("answered", "rate-limited", "busy", "crashed"):
        print(f"  {name:<13} {tally.outcomes[name]:4d}")
    print(f"peak RSS of the bot's process: {own_peak_rss_mb():.0f} MB")
    print(f"slowest member's wait: {slowest[1]:.2f} s (member {slowest[0]})")


if __name__ == "__main__":
    main()
