"""Replies without a language model: templates in the persona's voice, filled from memory.

The persona greets a member by name (a first meeting, a return after a while, or just
"hi again"), says back what it learned, recalls what the member told it before, answers
"what do you remember" and help-like questions, and otherwise reflects what was said.
It never claims to understand more than it does. The wording is chosen from the
message's content, so the same conversation always goes the same way.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

from engine.types import Expression
from personas.emotion import expression_of
from personas.facts import second_person
from personas.memory import PersonaMemory
from personas.model import Persona
from plugins.chat_phrases import bank_for, bank_language

#: A member unseen for this long is welcomed back.
WELCOME_BACK_SECONDS = 6 * 3600


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_INTENTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE)) for name, pattern in (
        ("help", r"\b(help|commands?|what can you do|how does this work|how do (i|you) use|ayuda|comandos"
                 r"|qué puedes hacer)\b|帮助|命令|你能做什么"),
        ("remember", r"\b(what do you (remember|know)|do you remember|what have i told you|what did i tell you"
                     r"|qué recuerdas|te acuerdas)\b|你记得|你还记得"),
        ("your_name", r"\b(what'?s my name|what is my name|who am i|do you know my name|cómo me llamo|quién soy)\b"
                      r"|我叫什么|我是谁"),
        ("bot", r"\bare you (an? )?(bot|ai|robot|human|real|person|chat ?gpt|llm|language model)\b"
                r"|\beres (una? )?(bot|robot|humano|humana|ia)\b|你是(机器人|人工智能|真人)"),
        ("who", r"\b(who are you|what are you\W*$|what'?s your name|what is your name|tell me about yourself"
                r"|quién eres|cómo te llamas)\b|你是谁|你叫什么"),
        ("thanks", r"\b(thanks|thank you|thx|ty|cheers|gracias)\b|谢谢|多谢"),
        ("bye", r"\b(bye|goodbye|good night|see you|see ya|cya|adiós|adios|hasta luego|chao)\b|再见|拜拜|回头见"),
    ))
#: Asked-for answers come before a reaction to the member's feelings.
_ANSWERED_FIRST = frozenset({"help", "remember", "your_name", "bot", "who", "thanks", "bye"})
_GREETING = re.compile(r"^\W*((hi|hello|hey|hiya|heya|yo|howdy|greetings|good (morning|afternoon|evening)|hallo|hola"
                       r"|buenos días|buenas)\b|你好|您好|嗨|早上好|晚上好)", re.IGNORECASE)
_STOPWORDS = _words(
    "about after again also always because been being before could didn does doing from have having just know like "
    "maybe more most much never only other really should some still than that their them then there these they "
    "thing things think this those today very want were what when where which while will with would your yours "
    "yourself you're going gonna kinda sorta pretty")
_TOPIC_WORD = re.compile(r"[^\W\d_]{4,}")


@dataclass(frozen=True)
class Situation:
    """Everything a template reply may draw on."""

    persona: Persona
    name: str  # how to address the member: the name they asked for, else their display name
    text: str  # what they said (secrets already redacted)
    memory: PersonaMemory | None  # what the persona remembered before this message
    new_facts: list[str] = field(default_factory=list)  # learned from this message
    prefix: str = "!"
    language: str | None = None  # to answer in; the templates speak English, Mandarin and Spanish

    @property
    def reply_language(self) -> str | None:
        """The language the templates answer in, to speak them in (None: English). Mandarin's written
        replies are read in Cantonese for a Cantonese server."""
        return self.language if bank_language(self.language) else None


def template_reply(situation: Situation) -> tuple[str, Expression]:
    """One or two sentences in the persona's voice answering ``situation.text``, and the face to make:
    the feeling it answers (sympathy for sadness, joy for joy), else what the lexicon reads in the reply."""
    speaker = _Speaker(situation)
    intent = _intent(situation.text)
    opening = speaker.opening(intent)
    feeling = expression_of(situation.text)
    answers_feeling = intent not in _ANSWERED_FIRST and not situation.new_facts and feeling is not Expression.NEUTRAL
    parts = [opening, speaker.say(feeling.value) if answers_feeling else speaker.body(intent)]
    if opening and situation.memory and speaker.known_facts and not situation.new_facts and intent != "remember":
        parts.append(speaker.say("recall", fact=speaker.pick(speaker.known_facts, "fact")))
    reply = " ".join(part for part in parts if part)
    return reply, feeling if answers_feeling else expression_of(reply)


def _intent(text: str) -> str:
    for name, pattern in _INTENTS:
        if pattern.search(text):
            return name
    if _GREETING.search(text):
        return "greeting"
    return "question" if text.rstrip().endswith(("?", "？")) else "statement"


class _Speaker:
    def __init__(self, situation: Situation) -> None:
        self.s = situation
        self.bank = bank_for(situation.persona.style, situation.language)
        self.seed = situation.text.strip().lower()
        self.known_facts = [second_person(f) for f in (situation.memory.facts if situation.memory else [])]

    def pick(self, options: list[str] | tuple[str, ...], salt: str) -> str:
        return options[zlib.crc32(f"{salt}\0{self.seed}".encode()) % len(options)]

    def say(self, key: str, **values: str) -> str:
        filled = self.pick(self.bank[key], key).format(name=self.s.name, persona=self.s.persona.display_name,
                                                       about=self.s.persona.description, p=self.s.prefix, **values)
        return filled[:1].upper() + filled[1:]

    def opening(self, intent: str) -> str:
        memory = self.s.memory
        if memory is None:
            return self.say("first")
        if memory.seen_ago() > WELCOME_BACK_SECONDS:
            return self.say("back")
        return self.say("again") if intent == "greeting" else ""

    def body(self, intent: str) -> str:
        if intent in _ANSWERED_FIRST - {"remember"}:
            return self.say(intent)
        if intent == "remember":
            facts = self.known_facts + [second_person(f) for f in self.s.new_facts]
            return self.say("remember_some", facts=_join(facts)) if facts else self.say("remember_none")
        if self.s.new_facts:
            return self._learned()
        if intent == "greeting":
            return ""
        if intent == "question":
            return self.say("question")
        topic = self._topic()
        return self.say("topic", topic=topic) if topic else self.say("chat")

    def _learned(self) -> str:
        named = [f for f in self.s.new_facts if f.startswith("is called ")]
        others = [f for f in self.s.new_facts if not f.startswith("is called ")]
        said = [self.say("name_learned")] if named and self.s.memory else []  # a first hello already has the name
        if others:
            said.append(self.say("learned", fact=_join([second_person(f) for f in others])))
        return " ".join(said)

    def _topic(self) -> str:
        if bank_language(self.s.language) == "cmn":  # no spaces to pick a word out by
            return ""
        words = [w for w in _TOPIC_WORD.findall(self.s.text) if w.lower() not in _STOPWORDS]
        return max(words, key=len) if words else ""


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
