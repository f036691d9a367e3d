"""What a language model is given: the persona, what it remembers, the recent turns.

The model's chat template (applied by the replier) turns these messages into its prompt.
The system message asks for a leading feeling tag (``[happy] …``); ``personas.emotion``
reads and strips it before the reply is spoken.
"""

from __future__ import annotations

import re
from datetime import datetime

from engine.languages import name_of
from engine.models import ChatMessage
from engine.text import has_speakable
from engine.types import Expression
from personas.memory import PersonaMemory, Turn
from personas.model import Persona

FEELING_TAGS = ", ".join(f"[{e.value}]" for e in Expression)
SPOKEN_STYLE = (
    "Your reply is spoken aloud by your animated avatar: answer in one to three short sentences of plain "
    "speech, with no lists, markdown, emoji or stage directions. If you don't know something, say so."
)
FEELING_CONVENTION = (
    f"Begin every reply with your feeling in square brackets, one of {FEELING_TAGS}, "
    "e.g. \"[happy] That's great news!\". The tag sets your face and is not read aloud."
)
LANGUAGE_INSTRUCTION = "{name} writes in {language}: reply in {language}, whatever language the rest of this is in."
SUMMARY_INSTRUCTION = (
    "Summarise the conversation below between {persona} and {name} in at most three sentences, for "
    "{persona}'s memory: keep what {name} said about themselves, their plans and feelings, and what was "
    "agreed. Write plain sentences, no list."
)
_ROLES = {"user": "user", "persona": "assistant"}
_MARKUP = re.compile(r"[*_`#>]+")
_SENTENCE_END = re.compile(r"[.!?…](?=\s|$)")


def conversation_messages(persona: Persona, memory: PersonaMemory | None, name: str, text: str,
                          *, now: datetime, language: str | None = None) -> list[ChatMessage]:
    """System prompt (persona, style, the language to answer in, memory), then the remembered turns, then
    the new message."""
    answer_in = LANGUAGE_INSTRUCTION.format(language=name_of(language), name=name) if language else ""
    system = [persona.system_prompt.strip() or f"You are {persona.display_name}.",
              f"You are {persona.display_name}; your style: {persona.style}. {persona.description}".strip(),
              SPOKEN_STYLE, FEELING_CONVENTION, answer_in, _remembered(memory, name, now)]
    messages = [ChatMessage("system", "\n\n".join(part for part in system if part))]
    messages.extend(_turn_messages(memory.turns if memory else []))
    messages.append(ChatMessage("user", text))
    return messages


def summary_messages(persona: Persona, summary: str, turns: list[Turn], name: str) -> list[ChatMessage]:
    speakers = {"user": name, "persona": persona.display_name}
    transcript = "\n".join(f"{speakers[t['role']]}: {t['text']}" for t in turns)
    earlier = f"Earlier summary: {summary}\n\n" if summary else ""
    return [ChatMessage("system", SUMMARY_INSTRUCTION.format(persona=persona.display_name, name=name)),
            ChatMessage("user", f"{earlier}Conversation:\n{transcript}")]


def clean_reply(text: str, persona: Persona, *, max_chars: int) -> str:
    """A model's reply made fit to speak: no markup or "Name:" prefix, whole sentences within ``max_chars``;
    empty when nothing speakable is left."""
    text = _MARKUP.sub("", text)
    text = " ".join(text.split())
    for prefix in (f"{persona.display_name}:", f"{persona.name}:"):
        if text.lower().startswith(prefix.lower()):
            text = text[len(prefix):].lstrip()
    if len(text) > max_chars:
        cut = text[:max_chars]
        ends = [m.end() for m in _SENTENCE_END.finditer(cut)]
        text = cut[:ends[-1]] if ends else cut.rsplit(" ", 1)[0] + "…"
    return text if has_speakable(text) else ""


def _remembered(memory: PersonaMemory | None, name: str, now: datetime) -> str:
    if memory is None:
        return f"You are talking to {name} for the first time."
    lines = [(f"You are talking to {name}. You first met on {memory.first_seen:%Y-%m-%d}; "
             f"you last talked {_ago(memory.seen_ago(now))}.")]
    if memory.facts:
        lines.append(f"What you know about {name}: " + "; ".join(memory.facts) + ".")
    if memory.summary:
        lines.append(f"Earlier conversation: {memory.summary}")
    return "\n".join(lines)


def _turn_messages(turns: list[Turn]) -> list[ChatMessage]:
    """The turns as chat messages, starting with the member's (chat templates expect user first)."""
    while turns and turns[0]["role"] != "user":
        turns = turns[1:]
    return [ChatMessage(_ROLES[t["role"]], t["text"]) for t in turns]


def _ago(seconds: float) -> str:
    if seconds < 3600:
        return "a few minutes ago"
    hours = int(seconds // 3600)
    if hours < 24:
        return f"{hours} hour{'s' if hours > 1 else ''} ago"
    days = hours // 24
    return f"{days} day{'s' if days > 1 else ''} ago"
