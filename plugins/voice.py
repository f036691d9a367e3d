"""``!voice``: a member's own voice sample, for ``!say --voice mine`` (SpeechT5 voice cloning).

``!voice`` + a 3–10 s clip stores it; ``!voice`` alone tells whether one is stored;
``!voice clear`` deletes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from sqlmodel import SQLModel

from core.commands import Command, CommandError, Option
from core.context import Context
from core.events import MessageEvent, ParsedCommand
from core.plugins import hookimpl
from core.replies import TextReply
from engine.errors import ModelError
from engine.models import SPEAKER_ENCODER
from engine.models.speakers import SAMPLE_MAX_SECONDS, SAMPLE_MIN_SECONDS, load_sample
from engine.settings import CLONING_MODELS
from personas import voices

_LENGTH = f"{SAMPLE_MIN_SECONDS:.0f}–{SAMPLE_MAX_SECONDS:.0f} s"


async def voice(ctx: Context, command: ParsedCommand) -> None:
    assert isinstance(ctx.event, MessageEvent)
    storage, platform, user_id = ctx.agent.storage, ctx.event.platform, ctx.event.user.id
    action = command.text.strip().lower()
    if action == "clear":
        removed = await asyncio.to_thread(voices.clear, storage, platform, user_id)
        await ctx.reply("Your voice sample is deleted." if removed else "You have no voice sample stored.")
        return
    if action:
        raise CommandError(f"{ctx.prefix}voice takes a {_LENGTH} voice clip, or 'clear' to delete yours — "
                           f"not {action!r}.")
    missing = ctx.agent.models.missing_for_cloning()
    if not ctx.event.attachments:
        await ctx.reply(await asyncio.to_thread(_status, ctx, missing))
        return
    if missing:
        raise CommandError(voices.setup_hint(missing))
    async with ctx.working("checking your voice sample…") as status:
        clip = await ctx.download(ctx.event.attachments[0])
        samples = await asyncio.to_thread(load_sample, clip)
        stored = await asyncio.to_thread(voices.save, storage, platform, user_id, samples)
        try:  # encode it now: loads the model, and the first !say --voice mine finds it ready
            await ctx.agent.models.run(_embed, ctx, voices.sample_file(storage, stored))
        except ModelError:
            await asyncio.to_thread(voices.clear, storage, platform, user_id)
            raise
        await status.finish(TextReply(f"Saved your voice sample ({stored.duration:.1f} s). "
                                      f"Try it: {ctx.prefix}say --voice mine Hello everyone!"))


def _embed(ctx: Context, sample: Path) -> None:
    encoder = ctx.agent.models.get(SPEAKER_ENCODER)
    assert encoder is not None  # missing_for_cloning() was empty
    encoder.embed(sample)


def _status(ctx: Context, missing: list[str]) -> str:
    stored = voices.find(ctx.agent.storage, ctx.event.platform, ctx.event.user.id)
    if stored is None:
        text = f"You have no voice sample. Attach a {_LENGTH} clip of you speaking to {ctx.prefix}voice to add one."
    else:
        text = (f"Your voice sample: {stored.duration:.1f} s, saved {stored.created_at:%Y-%m-%d}. "
                f"Use it with {ctx.prefix}say --voice mine TEXT; {ctx.prefix}voice clear deletes it.")
    return f"{text}\n{voices.setup_hint(missing)}" if missing else text


@hookimpl
def register_models(register: Callable[[type[SQLModel]], None]) -> None:
    for model in (voices.MemberVoice,):
        register(model)


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    register(Command("voice", "store your voice sample, to have personas speak in your voice", voice,
                     usage=f"[clear] + a {_LENGTH} voice clip",
                     arguments=(Option.choice("clear", "delete your stored sample", ("clear",)),
                                Option.attachment("sample", f"a {_LENGTH} clip of you speaking",
                                                  media=("audio", "video"))),
                     plugin="voice", needs=CLONING_MODELS))
