"""Conversations: a member talks to a persona, by text or voice, and it answers on video.

A persona answers a message that mentions the bot, replies to one of its messages, or
comes as a direct message, and ``!talk TEXT`` (or ``!talk`` with a voice message).
Voice goes through the speech-recognition model (``[models] asr``); the reply comes
from the language model (``[models] llm``) or, without one, from the persona's
templates and memory; its feeling sets the face. The persona remembers each member
per server (``personas.memory``): ``!memory`` shows it, ``!forget me`` deletes it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from core.commands import Command, CommandError, Option
from core.context import Context
from core.events import Attachment, MessageEvent, ParsedCommand
from core.language import LANG_OPTION
from core.plugins import hookimpl
from core.replies import StatusMessage, TextReply, VideoReply
from core.storage import utcnow
from engine.audio import decode_audio
from engine.errors import RenderError
from engine.languages import canonical, detect
from engine.models import ASR, LLM
from engine.text import has_speakable, speakable_name
from engine.types import Expression
from personas.emotion import expression_of, split_tag
from personas.facts import extract_facts, preferred_name, redact, second_person
from personas.memory import (
    GLOBAL_SCOPE,
    MemoryKey,
    MemoryStore,
    PersonaMemory,
    Summarizer,
    Turn,
    digest,
)
from personas.model import Persona
from plugins.chat_prompt import clean_reply, conversation_messages, summary_messages
from plugins.chat_templates import Situation, template_reply

if TYPE_CHECKING:
    from sqlmodel import SQLModel

    from core.agent import Agent
    from core.config import ChatSettings
    from engine.models import ChatMessage, ModelHub, Replier

log = logging.getLogger(__name__)

PLUGIN = "chat"
#: Extra seconds past ``reply_timeout_seconds`` before we stop waiting for a model that ignores its timeout.
TIMEOUT_GRACE = 5.0
SUMMARY_TOKENS = 120
AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".flac", ".webm", ".mp4", ".mkv"})
#: Mentions as platforms write them into the text: ``<@123>`` (Discord, Slack), ``@name`` (Telegram).
_MENTION = re.compile(r"<@[!&]?[\w.-]+>|^\s*@[\w.-]+[,:]?")
NO_ASR = (
    "I can't listen to voice messages here yet: that needs a speech-recognition model, and none is configured. "
    "An admin can add one: save a Whisper model in a folder and set asr = \"path/to/whisper\" under [models] "
    "in config.toml (see \"Talking to a persona\" in the README). Until then, type it, e.g. {p}talk Hello!"
)
PERSONA_OPTION = Option.persona(help="who you talk to (see !personas)")

_stores: WeakKeyDictionary[Agent, MemoryStore] = WeakKeyDictionary()


def memory_store(agent: Agent) -> MemoryStore:
    """The agent's persona memory, bounded by its ``[chat]`` settings."""
    if agent not in _stores:
        chat = agent.config.chat
        _stores[agent] = MemoryStore(agent.storage, max_turns=chat.max_turns, max_facts=chat.max_facts,
                                     max_summary_chars=chat.max_summary_chars)
    return _stores[agent]


# -- triggers -------------------------------------------------------------------------------


@hookimpl
def on_message(event: MessageEvent, ctx: Context) -> object:
    """Answer a mention of the bot, a reply to it, or a direct message (when ``respond_in_dms``)."""
    if not _addressed(ctx.agent.config.chat, event):
        return None
    return _answer_message(ctx, event)


def _addressed(chat: ChatSettings, event: MessageEvent) -> bool:
    return event.mentions_bot or event.replies_to_bot or (event.channel.is_direct and chat.respond_in_dms)


async def _answer_message(ctx: Context, event: MessageEvent) -> bool:
    text = _MENTION.sub(" ", event.text).strip() if event.mentions_bot else event.text.strip()
    voice = _voice_clip(event)
    if not text and voice is None:
        if event.attachments:
            await ctx.reply("I can only read text and listen to voice messages, not look at files. Tell me in words!")
            return True
        text = "Hi!"  # a bare mention is a hello
    await converse(ctx, _persona(ctx, None), text, voice)
    return True


# -- commands -------------------------------------------------------------------------------


async def talk(ctx: Context, command: ParsedCommand) -> None:
    """``!talk TEXT`` or ``!talk`` + a voice message: the persona answers on video."""
    assert isinstance(ctx.event, MessageEvent)
    persona = _persona(ctx, command.options.get("persona"))
    voice = _voice_clip(ctx.event)
    if not command.text.strip() and voice is None:
        raise CommandError(f"Tell {persona.display_name} something, e.g. {_p(ctx)}talk Hi there! "
                           "Or attach a voice message.")
    lang = command.options.get("lang")
    await converse(ctx, persona, command.text.strip(), voice, canonical(lang) if isinstance(lang, str) else None)


async def show_memory(ctx: Context, command: ParsedCommand) -> None:
    """``!memory``: what the persona remembers of the caller here."""
    persona = _persona(ctx, command.options.get("persona"))
    memory = await asyncio.to_thread(memory_store(ctx.agent).recall, _memory_key(ctx, persona))
    await ctx.reply(describe_memory(persona, memory, _p(ctx), shared=_is_global(ctx, persona)))


async def forget(ctx: Context, command: ParsedCommand) -> None:
    """``!forget me``: the persona forgets everything about the caller on this platform."""
    if [a.lower() for a in command.args] != ["me"]:
        raise CommandError(f"Say {_p(ctx)}forget me: I can only forget what I remember of you.")
    persona = _persona(ctx, command.options.get("persona"))
    store = memory_store(ctx.agent)
    async with store.conversation(_memory_key(ctx, persona)):  # after a reply in the making is remembered
        gone = await asyncio.to_thread(store.forget, persona.name, ctx.event.platform, ctx.event.user.id)
    if not gone.places:
        await ctx.reply(f"{persona.display_name} didn't remember anything about you, so there was nothing to forget.")
        return
    what = [_count(gone.facts, "fact"), _count(gone.turns, "message")] + (["the summary"] if gone.summaries else [])
    where = "" if gone.places == 1 else f" (in {gone.places} places)"
    await ctx.reply(f"Done: {persona.display_name} forgot everything about you{where}: {', '.join(what)}.")


def describe_memory(persona: Persona, memory: PersonaMemory | None, prefix: str, *, shared: bool) -> str:
    where = "anywhere" if shared else "here"
    if memory is None:
        return f"{persona.display_name} doesn't remember anything about you {where} yet. Talk to it with {prefix}talk!"
    lines = [f"What {persona.display_name} remembers about you {where}:",
             f"• first talked {memory.first_seen:%Y-%m-%d %H:%M} UTC, last {memory.last_seen:%Y-%m-%d %H:%M} UTC"]
    if memory.facts:
        lines.append("• " + "; ".join(second_person(f) for f in memory.facts))
    if memory.summary:
        lines.append(f"• earlier: {memory.summary}")
    lines.append(f"• {_count(len(memory.turns), 'recent message')} kept word for word")
    lines.append(f"Send {prefix}forget me to make {persona.display_name} forget all of it.")
    return "\n".join(lines)


@hookimpl
def register_models(register: Callable[[type[SQLModel]], None]) -> None:
    for model in (PersonaMemory,):
        register(model)


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    register(Command("talk", "talk to a persona; it answers on video and remembers you", talk,
                     arguments=(Option.text("text", "what you say", example='"Hi there!"'),
                                Option.attachment("voice", "or a voice message", media=("audio", "video"),
                                                  placeholder="a voice message")),
                     options=(PERSONA_OPTION, LANG_OPTION), plugin=PLUGIN, needs=("asr",), needs_for="voice messages"))
    register(Command("memory", "what a persona remembers about you", show_memory,
                     options=(PERSONA_OPTION,), plugin=PLUGIN))
    register(Command("forget", "a persona forgets everything about you", forget,
                     arguments=(Option.choice("who", "it forgets what it remembers of you", ("me",), required=True,
                                              placeholder="me"),),
                     options=(PERSONA_OPTION,), plugin=PLUGIN))


# -- the conversation -----------------------------------------------------------------------


async def converse(ctx: Context, persona: Persona, text: str, voice: Attachment | None,
                   lang: str | None = None) -> None:
    """Listen (voice), think (model or templates), answer on video, then remember the exchange;
    one message of a member at a time, so each reply knows the one before. ``lang``: the language to
    answer in (``--lang``); else the member's, found in what they said."""
    store, key = memory_store(ctx.agent), _memory_key(ctx, persona)
    async with store.conversation(key):
        await _converse(ctx, persona, text, voice, store, key, lang)


async def _converse(ctx: Context, persona: Persona, text: str, voice: Attachment | None,
                    store: MemoryStore, key: MemoryKey, lang: str | None) -> None:
    event = ctx.event
    exchange: tuple[str, str, list[str]] | None = None  # what was said, answered and learned
    async with ctx.working(f"{persona.display_name} is {'listening' if voice else 'thinking'}…") as status:
        heard = ""
        if voice is not None:
            heard = await _transcribe(ctx, voice, status)
            if not heard:
                return
            text = f"{text} {heard}".strip()
            await status.update(f"{persona.display_name} is thinking…")
        text = redact(text)
        memory = await asyncio.to_thread(store.recall, key)
        facts = extract_facts(text)
        name = preferred_name([*(memory.facts if memory else []), *facts]) or speakable_name(event.user.name, "friend")
        server_language = ctx.agent.server_settings(event).language or None
        fallback = server_language or persona.voice.language  # for words too few to tell
        member_language = lang if lang else await asyncio.to_thread(detect, text, fallback)
        reply, expression, spoken_in = await _compose(ctx, persona, memory, name, text, facts,
                                                      member_language, lang or server_language)
        exchange = (text, reply, facts)
        caption = f"You said: “{heard}”\n{reply}" if heard else reply
        request = ctx.agent.config.engine.request(persona.name, text=reply, expression=expression.value,
                                                  lang=spoken_in)
        try:
            result = await ctx.render(request, status=status, label=persona.display_name)
        except RenderError as error:  # the conversation goes on in text when the video can't be made
            log.warning("chat reply of %s not rendered: %s", persona.name, error)
            await status.finish(TextReply(f"{caption}\n\n(No video this time: {error})"))
        else:
            await status.finish(VideoReply(result.path, caption=caption, duration=result.duration))
    if exchange is not None:  # None: the voice message was unusable, and the status said why
        said, answered, learned = exchange
        await ctx.agent.models.run(store.record, key, user_name=event.user.name, user_text=said,  # may summarise
                                   reply_text=answered, facts=learned, summarize=_summarizer(ctx.agent, persona))


async def _transcribe(ctx: Context, clip: Attachment, status: StatusMessage) -> str:
    """The words of a voice message; on failure the status says why and the result is empty."""
    try:
        recognizer = await ctx.agent.models.load(ASR)
    except Exception:
        log.exception("the speech-recognition model could not be loaded")
        await status.finish(TextReply("The speech-recognition model could not be loaded, so I can't listen right "
                                      "now; the admins can find the details in the log. Type it instead!"))
        return ""
    if recognizer is None:
        await status.finish(TextReply(NO_ASR.format(p=_p(ctx))))
        return ""
    path = await ctx.download(clip)
    engine = ctx.agent.config.engine
    # Unreadable, silent or over-long clips get the engine's clear message before the model runs.
    await asyncio.to_thread(decode_audio, path, max_bytes=engine.max_audio_bytes, max_seconds=engine.max_audio_seconds)
    try:
        heard = " ".join((await ctx.agent.models.run(recognizer.transcribe, path)).split())
    except RenderError:
        raise
    except Exception:
        log.exception("transcribing a voice message failed")
        await status.finish(TextReply("Sorry, I couldn't make out that voice message. Try again, or type it."))
        return ""
    if not has_speakable(heard):
        await status.finish(TextReply("I couldn't hear any words in that voice message. "
                                      "Try again a little closer to the microphone, or type it."))
        return ""
    return heard


async def _compose(ctx: Context, persona: Persona, memory: PersonaMemory | None, name: str, text: str,
                   facts: list[str], member_language: str, chosen: str | None) -> tuple[str, Expression, str | None]:
    """The reply, its face and the language to speak it in: from the language model (asked to answer in
    the member's language; the reply's own language is found when spoken, as the model may not comply)
    when there is one and it answers in time, else from the persona's templates in ``chosen`` (--lang,
    the server's) or the member's language."""
    engine = ctx.agent.config.engine
    replier = await _replier(ctx.agent)
    if replier is not None:
        messages = conversation_messages(persona, memory, name, text, now=utcnow(), language=member_language)
        raw = await _ask(ctx.agent.models, replier, messages, ctx.agent.config.chat)
        tagged, rest = split_tag(raw)
        if spoken := clean_reply(rest, persona, max_chars=engine.max_text_chars):
            return spoken, tagged or expression_of(spoken), None
        log.warning("no usable reply from the language model for %s; answering from templates", persona.name)
    situation = Situation(persona, name, text, memory, facts, _p(ctx), language=chosen or member_language)
    reply, expression = template_reply(situation)
    return reply, expression, situation.reply_language


async def _replier(agent: Agent) -> Replier | None:
    try:
        return await agent.models.load(LLM)  # the first call loads the model
    except Exception:
        log.exception("the language model could not be loaded; answering from templates")
        return None


async def _ask(models: ModelHub, replier: Replier, messages: list[ChatMessage], chat: ChatSettings) -> str:
    """The model's answer, or "" when it fails or runs past the timeout (logged)."""
    timeout = chat.reply_timeout_seconds
    deadline = time.monotonic() + timeout

    def reply() -> str:  # the time budget counts from the member's message, a wait for a thread included
        return replier.reply(messages, max_new_tokens=chat.max_new_tokens,
                             timeout=max(deadline - time.monotonic(), 0.0))

    call = models.run(reply)
    try:
        return await asyncio.wait_for(call, timeout + TIMEOUT_GRACE)
    except TimeoutError:
        log.warning("the language model took over %.0f s; answering from templates", timeout + TIMEOUT_GRACE)
    except Exception:
        log.exception("the language model failed; answering from templates")
    return ""


def _summarizer(agent: Agent, persona: Persona) -> Summarizer:
    """Folds old turns into the summary: with the language model when there is one, else extractively."""
    chat = agent.config.chat

    def summarize(summary: str, turns: list[Turn], name: str) -> str:
        replier = agent.models.get(LLM)
        if replier is not None:
            try:
                written = replier.reply(summary_messages(persona, summary, turns, name),
                                        max_new_tokens=SUMMARY_TOKENS, timeout=chat.reply_timeout_seconds)
                if written.strip():
                    return written.strip()
            except Exception:
                log.exception("summarising with the language model failed; keeping an extractive summary")
        return digest(summary, turns, name)

    return summarize


# -- helpers --------------------------------------------------------------------------------


def _persona(ctx: Context, wanted: object) -> Persona:
    return ctx.agent.persona_for(ctx.event, str(wanted) if wanted else None)


def _is_global(ctx: Context, persona: Persona) -> bool:
    return persona.name in ctx.agent.config.chat.global_personas


def _memory_key(ctx: Context, persona: Persona) -> MemoryKey:
    event = ctx.event
    scope = GLOBAL_SCOPE if _is_global(ctx, persona) else event.channel.server_id
    return MemoryKey(persona.name, event.platform, scope, event.user.id)


def _voice_clip(event: MessageEvent) -> Attachment | None:
    for attachment in event.attachments:
        kind = attachment.content_type or ""
        if kind.startswith(("audio/", "video/")) or Path(attachment.filename).suffix.lower() in AUDIO_SUFFIXES:
            return attachment
    return None


def _p(ctx: Context) -> str:
    return ctx.agent.config.agent.prefix


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
