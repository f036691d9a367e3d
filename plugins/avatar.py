"""``!avatar`` (a voice clip) and ``!say`` (text): a persona says it on video."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from core.commands import Command, CommandError, Option
from core.context import Context
from core.events import MessageEvent, ParsedCommand
from core.language import LANG_OPTION, chosen_language
from core.plugins import hookimpl
from core.replies import StatusMessage, VideoReply
from engine.engine import Priority
from engine.types import Expression
from personas import voices
from personas.model import Persona

PERSONA_OPTIONS = (
    Option("persona", "who says it (see !personas)"),
    Option("style", "pick a persona by style, e.g. anime or cyberpunk"),
    Option("batch", "render it once with every persona", choices=("all",)),
    Option("mood", "the face it makes", choices=tuple(e.value for e in Expression)),
)
SAY_OPTIONS = (*PERSONA_OPTIONS, Option("voice", "speak in your own voice (stored with !voice)", choices=("mine",)),
               LANG_OPTION)


async def avatar(ctx: Context, command: ParsedCommand) -> None:
    assert isinstance(ctx.event, MessageEvent)
    personas = _choose_personas(ctx, command)
    if not ctx.event.attachments:
        raise CommandError(
            f"Attach a voice clip (wav, mp3, ogg, opus, m4a, flac or webm) to {ctx.prefix}avatar, "
            f"or use {ctx.prefix}say TEXT to have the persona read text."
        )
    async with ctx.working("downloading your clip…") as status:
        clip = await ctx.download(ctx.event.attachments[0])
        await _render_all(ctx, command, status, personas, audio_path=clip)


async def say(ctx: Context, command: ParsedCommand) -> None:
    personas = _choose_personas(ctx, command)
    if not command.text.strip():
        raise CommandError("Tell me what to say, e.g. !say \"Hello everyone!\"")
    voice_sample = _member_voice(ctx) if command.options.get("voice") == "mine" else None
    lang = chosen_language(ctx, command)
    async with ctx.working("rendering…") as status:
        await _render_all(ctx, command, status, personas, text=command.text, voice_sample=voice_sample, lang=lang)


async def list_personas(ctx: Context, command: ParsedCommand) -> None:
    lines = [f"• {p.name} ({p.style}) — {p.description}" for p in ctx.agent.personas.all()]
    await ctx.reply("Personas:\n" + "\n".join(lines))


async def _render_all(ctx: Context, command: ParsedCommand, status: StatusMessage, personas: list[Persona],
                      *, text: str | None = None, audio_path: Path | None = None,
                      voice_sample: Path | None = None, lang: str | None = None) -> None:
    """Each persona says the text or clip, with the command's mood; one video per persona."""
    batch = len(personas) > 1
    mood = str(command.options.get("mood", Expression.NEUTRAL.value))
    for number, persona in enumerate(personas, 1):
        label = f"{persona.display_name} {number}/{len(personas)}" if batch else persona.display_name
        request = ctx.agent.config.engine.request(persona.name, text=text, audio_path=audio_path, expression=mood,
                                                  voice_sample=voice_sample, lang=lang)
        result = await ctx.render(request, status=status, label=label,
                                  priority=Priority.BATCH if batch else Priority.INTERACTIVE)
        video = VideoReply(result.path, caption=persona.display_name, duration=result.duration)
        if batch:
            await ctx.reply(video)
        else:
            await status.finish(video)
    if batch:
        await status.finish(None)


def _member_voice(ctx: Context) -> Path:
    """The sender's stored voice sample (``!voice``), for text spoken in their voice."""
    if missing := ctx.agent.models.missing_for_cloning():
        raise CommandError(voices.setup_hint(missing))
    stored = voices.find(ctx.agent.storage, ctx.event.platform, ctx.event.user.id)
    if stored is None:
        raise CommandError("You have no voice sample yet: attach a 3–10 s clip of you speaking to !voice first.")
    return voices.sample_file(ctx.agent.storage, stored)


def _choose_personas(ctx: Context, command: ParsedCommand) -> list[Persona]:
    registry = ctx.agent.personas
    if command.options.get("batch") == "all":
        return registry.all()
    if "persona" in command.options and "style" in command.options:
        raise CommandError("Use --persona or --style, not both.")
    wanted = command.options.get("persona") or command.options.get("style")
    return [registry.get(str(wanted)) if wanted else registry.default]


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    register(Command("avatar", "a persona says your voice clip on video", avatar,
                     usage="[--persona NAME | --style NAME] [--mood MOOD] [--batch all] + a voice clip",
                     options=PERSONA_OPTIONS, plugin="avatar"))
    register(Command("say", "a persona reads your text out on video", say,
                     usage="[--persona NAME | --style NAME] [--mood MOOD] [--batch all] [--voice mine] TEXT",
                     options=SAY_OPTIONS, plugin="avatar"))
    register(Command("personas", "list the personas", list_personas, plugin="avatar"))
