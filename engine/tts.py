"""Text to speech with espeak-ng (from the ``espeakng-loader`` wheel) through ctypes.

espeak-ng keeps global state and is not thread-safe, so every call into it holds one lock.
It synthesises at its own rate (22 050 Hz); the waveform is resampled to ``SAMPLE_RATE`` and
event times are taken from the exact sample index espeak reports with each event.
"""

from __future__ import annotations

import bisect
import ctypes
import threading
import unicodedata
from dataclasses import dataclass, field

import espeakng_loader
import numpy as np

from engine.audio import resample
from engine.errors import TextInputError
from engine.types import SAMPLE_RATE, PhonemeEvent, Speech, VoiceSettings, WordEvent

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_DONT_EXIT = 0x8000  # report errors instead of calling exit()
_POS_CHARACTER = 1
_CHARS_UTF8 = 0x0001
_ENDPAUSE = 0x1000  # a short pause at the end, so the mouth closes before the video ends
_EE_OK = 0

_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_EVENT_PHONEME = 7

_PARAM_RATE = 1
_PARAM_PITCH = 3
_PARAM_RANGE = 4


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based, in characters of the input
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms, truncated: ``sample`` is exact
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # (priority byte, name, NUL)*, then NUL
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass
class _Collected:
    """What the synth callback received during one ``espeak_Synth`` call."""

    chunks: list[np.ndarray] = field(default_factory=list)
    phonemes: list[tuple[int, str]] = field(default_factory=list)  # (sample, mnemonic)
    words: list[tuple[int, int, int]] = field(default_factory=list)  # (sample, 0-based char index, length)


class _Espeak:
    """The loaded library, initialised once; holds the callback object so ctypes keeps it alive."""

    def __init__(self) -> None:
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        _declare(self.lib)
        data = espeakng_loader.get_data_path().encode()
        self.rate = self.lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, data, _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_DONT_EXIT
        )
        if self.rate <= 0:
            raise RuntimeError(f"espeak-ng failed to initialise (status {self.rate})")
        self.collected = _Collected()
        self.callback = _SynthCallback(self._on_synth)
        self.lib.espeak_SetSynthCallback(self.callback)
        self.voice_ids, self.voice_names = self._voice_ids()

    def _on_synth(self, wav: ctypes._Pointer, count: int, events: ctypes._Pointer) -> int:
        if wav and count > 0:
            self.collected.chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == _EVENT_PHONEME:
                self.collected.phonemes.append((event.sample, event.id.string.decode("utf-8", "replace")))
            elif event.type == _EVENT_WORD:
                self.collected.words.append((event.sample, event.text_position - 1, event.length))
            index += 1
        return 0  # 0 = carry on

    def set_voice(self, voice: VoiceSettings) -> None:
        # By name espeak only finds voice files ("gmw/en-US"), not languages they cover ("en-gb").
        voice_id = self.voice_ids.get(voice.language.lower(), voice.language)
        name = voice_id + (f"+{voice.variant}" if voice.variant else "")
        if self.lib.espeak_SetVoiceByName(name.encode()) != _EE_OK:
            raise ValueError(f"espeak-ng has no voice {voice.language!r}; see engine.tts.available_voices()")
        # Choosing a voice resets these, so set them afterwards.
        self.lib.espeak_SetParameter(_PARAM_RATE, _clamp(voice.rate, 80, 450), 0)
        self.lib.espeak_SetParameter(_PARAM_PITCH, _clamp(voice.pitch, 0, 100), 0)
        self.lib.espeak_SetParameter(_PARAM_RANGE, _clamp(voice.pitch_range, 0, 100), 0)

    def synth(self, text: str) -> _Collected:
        self.collected = _Collected()
        data = text.encode("utf-8")
        buffer = ctypes.create_string_buffer(data)
        status = self.lib.espeak_Synth(buffer, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _ENDPAUSE, None, None)
        if status != _EE_OK:
            raise RuntimeError(f"espeak-ng failed to synthesise (status {status})")
        return self.collected

    def _voice_ids(self) -> tuple[dict[str, str], dict[str, str]]:
        """Each language (lower case) → the identifier and the name of the voice that speaks it with most priority."""
        listed = self.lib.espeak_ListVoices(None)
        best: dict[str, tuple[int, str, str]] = {}
        index = 0
        while listed[index]:
            voice = listed[index].contents
            for priority, language in _languages(voice.languages):
                candidate = (priority, voice.identifier.decode(), voice.name.decode().strip())
                best[language.lower()] = min(best.get(language.lower(), candidate), candidate)
            index += 1
        return ({language: identifier for language, (_, identifier, _) in best.items()},
                {language: name for language, (_, _, name) in best.items()})


_lock = threading.Lock()
_espeak: _Espeak | None = None


def synthesize(text: str, voice: VoiceSettings) -> Speech:
    """Speak ``text`` (already cleaned) with ``voice``: waveform at ``SAMPLE_RATE`` plus timed events."""
    if not text.strip():
        raise TextInputError("There is nothing to say — please send some text.")
    if voice.language.lower() == "ja":  # espeak-ng's Japanese reads kana only: kanji become their readings
        from engine.japanese import to_kana

        text = to_kana(text)
    with _lock:
        espeak = _loaded()
        espeak.set_voice(voice)
        collected = espeak.synth(text)
        rate = espeak.rate
    if not collected.chunks:
        raise TextInputError("espeak-ng produced no sound for this text — please use words it can read out.")
    samples = resample(np.concatenate(collected.chunks), rate)
    duration = len(samples) / SAMPLE_RATE
    return Speech(
        samples=samples,
        phonemes=[PhonemeEvent(_time(sample, rate, duration), name) for sample, name in collected.phonemes],
        words=_word_events(text, collected.words, rate, duration),
    )


def available_voices() -> list[str]:
    """Language names espeak-ng accepts as ``VoiceSettings.language`` (e.g. "en-us", "fr")."""
    with _lock:
        return sorted(_loaded().voice_ids)


def language_names() -> dict[str, str]:
    """Each language espeak-ng speaks → the name of its voice ("cmn" → "Chinese (Mandarin, latin as English)")."""
    with _lock:
        return dict(_loaded().voice_names)


def _loaded() -> _Espeak:
    global _espeak
    if _espeak is None:
        _espeak = _Espeak()
    return _espeak


def _word_events(text: str, words: list[tuple[int, int, int]], rate: int, duration: float) -> list[WordEvent]:
    """One event per word of the text, however espeak splits or repeats it (numbers, spelled-out words)."""
    starts = sorted({start for _, start, _ in words})
    events: list[WordEvent] = []
    end = 0
    for sample, start, length in words:
        if start < end:
            continue  # inside the previous word: espeak reads it as several
        end = _word_end(text, start, length, starts)
        word = _strip_punctuation(text[start:end])
        if word:
            events.append(WordEvent(_time(sample, rate, duration), word))
    return events


def _word_end(text: str, start: int, length: int, starts: list[int]) -> int:
    """Where the word at ``start`` ends: at the next word espeak found or the next space.

    espeak's own length is unreliable (it stops at apostrophes and hyphens, and is 0 before a dash),
    so it only says where the next word can't begin; scripts without spaces end at the next word.
    """
    end = start
    while end < len(text) and not text[end].isspace():
        end += 1
    following = bisect.bisect_left(starts, start + max(length, 1))
    return min(end, starts[following]) if following < len(starts) else end


def _strip_punctuation(word: str) -> str:
    """``word`` without punctuation at its ends; inside it stays ("Smith's", "e-mail")."""
    first, last = 0, len(word)
    while first < last and unicodedata.category(word[first]).startswith("P"):
        first += 1
    while last > first and unicodedata.category(word[last - 1]).startswith("P"):
        last -= 1
    return word[first:last]


def _languages(address: int | None) -> list[tuple[int, str]]:
    """Decode espeak's "priority byte, name, NUL" list, which ends with a zero priority byte."""
    found: list[tuple[int, str]] = []
    while address and (priority := ctypes.string_at(address, 1)[0]) != 0:
        name = ctypes.string_at(address + 1)
        found.append((priority, name.decode()))
        address += len(name) + 2
    return found


def _time(sample: int, rate: int, duration: float) -> float:
    return min(max(sample / rate, 0.0), duration)


def _clamp(value: int, low: int, high: int) -> int:
    return min(max(int(value), low), high)


def _declare(lib: ctypes.CDLL) -> None:
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_Synth.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.POINTER(ctypes.c_uint),
        ctypes.c_void_p,
    ]
    lib.espeak_Synth.restype = ctypes.c_int
    lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
    lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
