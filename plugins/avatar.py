"""``!avatar`` (a voice clip) and ``!say`` (text): a persona says it on video.

``--face me`` has the member's own profile picture say it, and a photo attached next to the
clip (or to ``!say``) is the face for that render. Only one's own picture or an attached one:
there is no ``--face @someone``.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Callable

from sqlmodel import SQLModel

from core.commands import Command, CommandError, Option
from core.context import Context
from core.events import Attachment, MessageEvent, ParsedCommand
from core.language import LANG_OPTION, chosen_language
from core.plugins import hookimpl
from core.renderers import renderer_problem
from core.replies import StatusMessage, VideoReply
from engine.engine import Priority
from engine.settings import CLONING_MODELS
from engine.types import Expression
from personas import voices
from personas.model import Persona

PERSONA_OPTIONS = (
    Option.persona(),
    Option.text("style", "pick a persona by style, e.g. anime or cyberpunk"),
    Option.choice("batch", "render it once with every persona", ("all",)),
    Option.choice("mood", "the face it makes", tuple(e.value for e in Expression)),
)
FACE_OPTION = Option.choice("face", "your own profile picture says it (nobody can make another member's face talk)",
                            ("me",))
RENDERER_OPTION = Option.choice("renderer", "neural lip-sync (photo and template personas)", ("wav2lip",),
                                needs=("lipsync",))
SAY_OPTIONS = (*PERSONA_OPTIONS, Option.choice("voice", "speak in your own voice (stored with !voice)", ("mine",),
                                                needs=CLONING_MODELS), LANG_OPTION)
CLIP = Option.attachment("clip", "your voice clip (wav, mp3, ogg, opus, m4a, flac, webm)", media=("audio", "video"),
                         primary=True, placeholder="a voice clip")
PHOTO = Option.attachment("photo", "or a photo of a face that says it", media=("image",), placeholder="a photo")


async def avatar(ctx: Context, command: ParsedCommand) -> None:
    assert isinstance(ctx.event, MessageEvent)
    personas = _choose_personas(ctx, command)
    pictures = [a for a in ctx.event.attachments if _is_picture(a)]
    clips = [a for a in ctx.event.attachments if not _is_picture(a)]
    _check_face_choice(ctx, command, pictures)
    if not clips:
        raise CommandError(
            f"Attach a voice clip (wav, mp3, ogg, opus, m4a, flac or webm) to {ctx.prefix}avatar, "
            f"or use {ctx.prefix}say TEXT to have the persona read text."
        )
    # A file on this machine (the console) is read, not downloaded.
    async with ctx.working("reading your clip…" if clips[0].local else "downloading your clip…") as status:
        face = await _face(ctx, command, pictures)
        clip = await ctx.download(clips[0])
        await _render_all(ctx, command, status, personas, audio_path=clip, face=face)


async def say(ctx: Context, command: ParsedCommand) -> None:
    assert isinstance(ctx.event, MessageEvent)
    personas = _choose_personas(ctx, command)
    pictures = [a for a in ctx.event.attachments if _is_picture(a)]
    _check_face_choice(ctx, command, pictures)
    voice_sample = _member_voice(ctx) if command.options.get("voice") == "mine" else None
    lang = chosen_language(ctx, command)
    async with ctx.working("rendering…") as status:
        face = await _face(ctx, command, pictures)
        await _render_all(ctx, command, status, personas, text=command.text, voice_sample=voice_sample, lang=lang,
                          face=face)


async def list_personas(ctx: Context, command: ParsedCommand) -> None:
    lines = [f"• {p.display_name} — --persona {p.name} or --style {p.style}: {p.description}"
             for p in ctx.agent.personas.all()]
    own = ctx.agent.server_personas.listed(ctx.event.platform, ctx.event.channel.server_id)
    if own:
        lines += ["This server's own:", *(f"• {name} ({p.style})" for name, p in own)]
    await ctx.reply("Personas:\n" + "\n".join(lines))


def _is_picture(attachment: Attachment) -> bool:
    kind = attachment.content_type or mimetypes.guess_type(attachment.filename)[0] or ""
    return kind.startswith("image/")


def _check_face_choice(ctx: Context, command: ParsedCommand, pictures: list[Attachment]) -> None:
    """Refuse, before any work, two faces at once (``--face`` takes only ``me``: the parser checks it)."""
    wanted = command.options.get("face")
    if wanted and pictures:
        raise CommandError("Use --face me or attach a photo, not both.")
    if len(pictures) > 1:
        raise CommandError("Attach one photo: the face that says it.")
    if (wanted or pictures) and command.options.get("batch"):
        raise CommandError("A face of your own and --batch all don't go together: pick one.")


async def _face(ctx: Context, command: ParsedCommand, pictures: list[Attachment]) -> Path | None:
    """The face for this render: the sender's profile picture (``--face me``), an attached photo, or none."""
    if command.options.get("face"):
        return await ctx.sender_picture()
    if not pictures:
        return None
    cap = ctx.agent.config.engine.max_audio_bytes
    if pictures[0].size is not None and pictures[0].size > cap:
        raise CommandError(f"{pictures[0].filename} is {pictures[0].size / 2**20:.1f} MB; a face may be at most "
                           f"{cap / 2**20:.3g} MB. Send a smaller picture.")
    return await ctx.download(pictures[0])


async def _render_all(ctx: Context, command: ParsedCommand, status: StatusMessage, personas: list[Persona],
                      *, text: str | None = None, audio_path: Path | None = None,
                      voice_sample: Path | None = None, lang: str | None = None, face: Path | None = None) -> None:
    """Each persona says the text or clip, with the command's mood; one video per persona."""
    batch = len(personas) > 1
    mood = str(command.options.get("mood", Expression.NEUTRAL.value))
    renderer = command.options.get("renderer")
    if problem := renderer_problem(ctx.agent.engine_backends.renderer, ctx.agent.config.models,
                                   str(renderer) if renderer else None):
        raise CommandError(problem)
    for number, persona in enumerate(personas, 1):
        label = f"{persona.display_name} {number}/{len(personas)}" if batch else persona.display_name
        request = ctx.agent.config.engine.request(persona.name, text=text, audio_path=audio_path, expression=mood,
                                                  voice_sample=voice_sample, lang=lang, face=face,
                                                  renderer=str(renderer) if renderer else None)
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
    """The personas named, a server's own first (``--persona NAME``), or all of them (``--batch all``)."""
    registry, own = ctx.agent.personas, ctx.agent.server_personas
    platform, server_id = ctx.event.platform, ctx.event.channel.server_id
    if command.options.get("batch") == "all":
        return registry.all() + [persona for _, persona in own.listed(platform, server_id)]
    if "persona" in command.options and "style" in command.options:
        raise CommandError("Use --persona or --style, not both.")
    if wanted := command.options.get("persona"):
        return [ctx.agent.persona_for(ctx.event, str(wanted))]
    wanted = command.options.get("style")
    return [registry.get(str(wanted)) if wanted else registry.default]


@hookimpl
def register_models(register: Callable[[type[SQLModel]], None]) -> None:
    for model in (voices.MemberVoice,):
        register(model)


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    register(Command("avatar", "a persona says your voice clip on video", avatar,
                     arguments=(Option.text("link", "or a link to a voice clip"), CLIP, PHOTO),
                     options=(*PERSONA_OPTIONS, FACE_OPTION, RENDERER_OPTION), plugin="avatar"))
    register(Command("say", "a persona reads your text out on video", say,
                     arguments=(Option.text("text", "what the persona says", required=True,
                                            example='"Hello everyone!"'), PHOTO),
                     options=(*SAY_OPTIONS, FACE_OPTION, RENDERER_OPTION), plugin="avatar"))
    register(Command("personas", "list the personas", list_personas, plugin="avatar"))
