"""Text in several languages spoken piece by piece, each piece in its own language's voice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from engine.languages import canonical, split
from engine.types import PhonemeEvent, Speech, VoiceSettings, WordEvent

#: A "tts" backend: ``(text, voice) -> Speech``.
Speaker = Callable[[str, VoiceSettings], Speech]


def speak(text: str, voice: VoiceSettings, speaker: Speaker, *, language: str | None = None) -> Speech:
    """``text`` said by ``speaker`` with ``voice`` (its pitch, variant and rate kept), each piece in its
    language: ``language`` for text in its script, else the one found (see ``engine.languages``)."""
    own = _own_language(voice.language)
    pieces = split(text, canonical(language) if language else None, own)
    if not pieces:
        return speaker(text, replace(voice, language=own))
    return join([speaker(piece.text, replace(voice, language=piece.language)) for piece in pieces])


def join(speeches: list[Speech]) -> Speech:
    """One after another; their events moved to their place. Phoneme events are kept only when every
    piece has them, or the timeline would have a silent mouth where a piece has none."""
    if len(speeches) == 1:
        return speeches[0]
    phonemes: list[PhonemeEvent] = []
    words: list[WordEvent] = []
    offset = 0.0
    for speech in speeches:
        phonemes += [PhonemeEvent(event.time + offset, event.phoneme) for event in speech.phonemes]
        words += [WordEvent(event.time + offset, event.text) for event in speech.words]
        offset += speech.duration
    every_piece_timed = all(speech.phonemes for speech in speeches)
    samples = np.concatenate([speech.samples for speech in speeches]).astype(np.float32, copy=False)
    return Speech(samples=samples, sample_rate=speeches[0].sample_rate,
                  phonemes=phonemes if every_piece_timed else [], words=words)


def _own_language(language: str) -> str:
    """The persona's language as espeak-ng names it; one it doesn't know is kept for the backend to judge."""
    try:
        return canonical(language)
    except ValueError:
        return language
