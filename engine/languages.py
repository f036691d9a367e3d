"""Which language a text is in, piece by piece: by its script first, then by a statistical identifier.

A message may mix languages ("Welcome, 小明!"), so the text is cut into runs of one script
(punctuation, digits and spaces go with the run around them). Each run's language is, in order:
the one asked for (``--lang``, the server's ``language``) when it is written in that script; the
language py3langid (its model ships in its package) recognises with confidence among those written
in the script; the persona's own language when written in the script; else the script's main
language. A long run in a script shared by many languages (Latin, Cyrillic, Arabic) is identified
sentence by sentence, so "Hello everyone! ¡Hola a todos!" is spoken in English, then Spanish.
"""

from __future__ import annotations

import difflib
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from engine.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Each script (the first word of its letters' Unicode names) → its main language, then the others
#: espeak-ng speaks that are written in it. Latin takes every identified language not listed here.
SCRIPTS: dict[str, tuple[str, ...]] = {
    "LATIN": ("en",),
    "CJK": ("cmn", "yue", "ja"),
    "HIRAGANA": ("ja",), "KATAKANA": ("ja",),
    "HANGUL": ("ko",),
    "CYRILLIC": ("ru", "uk", "be", "bg", "mk", "sr", "kk", "ky", "tt", "ba", "cv"),
    "ARABIC": ("ar", "fa", "ur", "ug", "sd"),
    "GREEK": ("el", "grc"),
    "HEBREW": ("he",),
    "DEVANAGARI": ("hi", "mr", "ne", "kok"),
    "BENGALI": ("bn", "as", "bpy"),
    "THAI": ("th",), "ARMENIAN": ("hy", "hyw"), "GEORGIAN": ("ka",), "ETHIOPIC": ("am", "ti"),
    "GUJARATI": ("gu",), "GURMUKHI": ("pa",), "ORIYA": ("or",), "TAMIL": ("ta",), "TELUGU": ("te",),
    "KANNADA": ("kn",), "MALAYALAM": ("ml",), "SINHALA": ("si",), "MYANMAR": ("my", "shn"),
    "CHEROKEE": ("chr-us-qaaa-x-west",),
}
#: Other names people use → espeak-ng's language (Chinese is Mandarin unless it says Cantonese).
ALIASES = {
    "zh": "cmn", "zh-cn": "cmn", "zh-cmn": "cmn", "zh-hans": "cmn", "zh-tw": "cmn", "zh-hant": "cmn",
    "mandarin": "cmn", "chinese": "cmn", "zh-yue": "yue", "zh-hk": "yue", "cantonese": "yue", "jp": "ja",
    "no": "nb", "iw": "he", "english": "en",
}
#: py3langid's labels that aren't espeak-ng's names for the language.
_IDENTIFIED = {"zh": "cmn", "wuu": "cmn", "arz": "ar", "ary": "ar", "gom": "kok", "no": "nb", "nn": "nb",
               "hbo": "he", "uzs": "uz", "sdh": "ku"}
#: A piece is identified only with this many letters (CJK characters count for three) and this confidence.
MIN_LETTERS = 12
MIN_CONFIDENCE = 0.6
_SENTENCE = re.compile(r"(?<=[.!?;。！？])(?=\s)")
_WEIGHT = {"CJK": 3, "HIRAGANA": 3, "KATAKANA": 3, "HANGUL": 2}
_JAPANESE_KANA = ("HIRAGANA", "KATAKANA")


@dataclass(frozen=True)
class Piece:
    """A stretch of text and the espeak-ng language it is spoken in."""

    text: str
    language: str


class UnknownLanguageError(InputError, ValueError):
    """A language code espeak-ng doesn't speak; the message lists close matches. A ``ValueError`` too, so
    the config's validation reports it."""


def canonical(code: str) -> str:
    """espeak-ng's name for the language ``code`` ("zh" → "cmn", "Spanish" → "es"), or ``UnknownLanguageError``."""
    from engine.tts import language_names

    wanted = code.strip().lower().replace("_", "-")
    names = language_names()
    by_name: dict[str, str] = {}
    for language in sorted(names, key=len):  # "spanish" is "es", not "es-419"
        by_name.setdefault(_plain(names[language]), language)
    found = ALIASES.get(wanted) or (wanted if wanted in names else by_name.get(wanted))
    if found is None:
        close = difflib.get_close_matches(wanted, [*names, *ALIASES, *by_name], n=5, cutoff=0.6)
        codes = list(dict.fromkeys(ALIASES.get(c) or by_name.get(c) or c for c in close))
        hint = ("Did you mean " + ", ".join(f"{c} ({names.get(c, c)})" for c in codes) + "?") if codes else ""
        raise UnknownLanguageError(f"I don't know the language {code!r}. {hint} Use a code such as en, es, cmn "
                                   "(Mandarin), yue (Cantonese), ja, ru or ar.".replace("  ", " "))
    return found


def name_of(language: str) -> str:
    """The language's English name ("cmn" → "Chinese (Mandarin)"), for prompts and messages."""
    from engine.tts import language_names

    name = language_names().get(language, language)
    return name.replace(", latin as English", "").strip()


def split(text: str, given: str | None = None, fallback: str | None = None) -> list[Piece]:
    """``text`` in pieces of one language each (see the module's docstring); ``given`` is the language
    asked for, ``fallback`` the persona's own. Both are espeak-ng languages (see ``canonical``)."""
    japanese = any(script in _JAPANESE_KANA for script, _ in _runs(text))
    pieces: list[Piece] = []
    for script, run in _runs(text):
        script = "HIRAGANA" if japanese and script == "CJK" else script  # kanji among kana are Japanese
        pieces.extend(_pieces(script, run, given, fallback))
    return _joined(pieces)


def detect(text: str, fallback: str) -> str:
    """The language most of ``text`` is in (by letters), ``fallback`` when it can't be told."""
    weights: dict[str, int] = {}
    for piece in split(text, None, fallback):
        weights[piece.language] = weights.get(piece.language, 0) + _letters(piece.text)
    return max(weights, key=lambda language: weights[language]) if weights else fallback


def script_of(language: str) -> str:
    """The script a language is written in ("LATIN" for any not in ``SCRIPTS``)."""
    base = language.split("-")[0]
    for script, languages in SCRIPTS.items():
        if script != "LATIN" and (language in languages or base in languages):
            return script
    return "LATIN"


def _pieces(script: str, run: str, given: str | None, fallback: str | None) -> list[Piece]:
    candidates = SCRIPTS.get(script)
    if candidates is None:  # a script espeak-ng has no voice for: say what it can
        return [Piece(run, given or fallback or "en")]
    if given and _writes(given, script):
        return [Piece(run, given)]
    if len(candidates) == 1 and script != "LATIN":
        return [Piece(run, candidates[0])]
    default = fallback if fallback and _writes(fallback, script) else candidates[0]
    whole = _identify(run, script) or default
    sentences = [s for s in _SENTENCE.split(run) if s] if script in {"LATIN", "CYRILLIC", "ARABIC"} else [run]
    if len(sentences) == 1:
        return [Piece(run, _accent(whole, fallback))]
    return [Piece(s, _accent(_identify(s, script) or whole, fallback)) for s in sentences]


def _writes(language: str, script: str) -> bool:
    if script in _JAPANESE_KANA:
        return language == "ja"
    return script_of(language) == script


def _accent(language: str, fallback: str | None) -> str:
    """The persona's variant of an identified language ("en" → its "en-gb")."""
    return fallback if fallback and fallback.split("-")[0] == language else language


def _identify(text: str, script: str) -> str | None:
    """The language py3langid finds for ``text`` among those written in ``script``, when it is sure enough."""
    if _letters(text) < MIN_LETTERS:
        return None
    from engine.tts import language_names

    speakable = language_names()
    scores: dict[str, float] = {}
    for label, score in _identifier().rank(text):
        language = _IDENTIFIED.get(label, label)
        if language in speakable and _writes(language, script):
            scores[language] = scores.get(language, 0.0) + score
    total = sum(scores.values())
    if not total:
        return None
    best = max(scores, key=lambda language: scores[language])
    return best if scores[best] / total >= MIN_CONFIDENCE else None


_identifier_lock = threading.Lock()


@cache
def _loaded_identifier() -> Any:
    from engine import language_model
    from engine.tts import language_names

    speakable = language_names()
    return language_model.load(lambda label: _IDENTIFIED.get(label, label) in speakable)


def _identifier() -> Any:
    with _identifier_lock:  # loading takes seconds: two first requests must not load it twice
        return _loaded_identifier()


def _runs(text: str) -> Iterator[tuple[str, str]]:
    """(script, text) runs; characters of no script (spaces, digits, punctuation) join the run they are in."""
    script, start = "", 0
    for index, char in enumerate(text):
        current = _script(char)
        if current and script and current != script:
            yield script, text[start:index]
            start = index
        script = current or script
    if text[start:]:
        yield script or "LATIN", text[start:]


def _script(char: str) -> str:
    if unicodedata.category(char)[0] != "L":
        return ""
    name = unicodedata.name(char, "")
    if name.startswith(("CJK", "IDEOGRAPHIC")) or "IDEOGRAPH" in name:
        return "CJK"
    if name.startswith("KATAKANA-HIRAGANA") or name.startswith("HALFWIDTH KATAKANA"):
        return "KATAKANA"
    return name.split(" ")[0]


def _letters(text: str) -> int:
    return sum(_WEIGHT.get(_script(char), 1) for char in text if unicodedata.category(char)[0] == "L")


def _joined(pieces: list[Piece]) -> list[Piece]:
    """Neighbours in the same language as one piece; a piece without letters joins the one before it."""
    out: list[Piece] = []
    for piece in pieces:
        if out and (out[-1].language == piece.language or not _letters(piece.text)):
            out[-1] = Piece(out[-1].text + piece.text, out[-1].language)
        else:
            out.append(piece)
    return [Piece(piece.text.strip(), piece.language) for piece in out if piece.text.strip()]


def _plain(name: str) -> str:
    """"Spanish (Spain)" → "spanish": how people write a language's name."""
    return name.split("(")[0].strip().lower()
