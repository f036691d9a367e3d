"""Clean text before it is spoken: whitespace, control characters, limits, something to say."""

from __future__ import annotations

import re
import unicodedata

from engine.errors import TextInputError

#: Zero-width non-joiner changes how Persian and Indic words are read, so it stays.
_KEPT_FORMAT_CHARACTERS = frozenset("\u200c")
#: A line that ends without one of these gets a full stop, so lines don't run together when spoken.
_CLAUSE_END = frozenset(".,;:!?…。、！？،؛؟")
_SPACES = re.compile(r"\s+")
#: Kept inside names ("Mary-Jane", "O'Brien"), dropped at their ends.
_NAME_JOINERS = frozenset("-'’.")


def clean_text(text: str, *, max_chars: int) -> str:
    """Return ``text`` ready for espeak-ng, or raise ``TextInputError`` saying what is wrong with it."""
    cleaned = _normalise(text)
    if not cleaned:
        raise TextInputError("The text is empty — please write something for the avatar to say.")
    if len(cleaned) > max_chars:
        raise TextInputError(
            f"The text is {len(cleaned):,} characters long, over the {max_chars:,}-character limit — "
            "please shorten it or split it into several messages."
        )
    if not has_speakable(cleaned):
        raise TextInputError(
            "The text has nothing that can be read out loud (only emoji, symbols or punctuation) — "
            "please add some words."
        )
    return cleaned


def speakable_name(name: str, fallback: str, *, max_chars: int | None = None) -> str:
    """``name`` with emoji and symbols dropped (letters of any script kept), or ``fallback``.

    With ``max_chars`` a longer name is cut after its last whole word that fits.
    """
    kept = "".join(char if _is_name_char(char) else " " for char in unicodedata.normalize("NFC", name))
    words = [word.strip("".join(_NAME_JOINERS)) for word in kept.split()]
    spoken = " ".join(word for word in words if word)
    if max_chars is not None and len(spoken) > max_chars:
        cut = spoken[:max_chars + 1].rsplit(" ", 1)[0] if " " in spoken[:max_chars + 1] else spoken[:max_chars]
        spoken = cut.strip("".join(_NAME_JOINERS) + " ")
    return spoken if has_speakable(spoken) else fallback


def has_speakable(text: str) -> bool:
    """True when ``text`` holds at least one letter or digit."""
    return any(unicodedata.category(char)[0] in "LN" for char in text)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(char for char in text if not _is_dropped_control(char))
    lines = [line for line in (_SPACES.sub(" ", raw).strip() for raw in text.split("\n")) if line]
    return " ".join([*(_end_clause(line) for line in lines[:-1]), *lines[-1:]])


def _end_clause(line: str) -> str:
    return line if line[-1] in _CLAUSE_END else line + "."


def _is_dropped_control(char: str) -> bool:
    """Control, format, surrogate and private-use characters, except whitespace and kept joiners."""
    if char.isspace() or char in _KEPT_FORMAT_CHARACTERS:
        return False
    return unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"}


def _is_name_char(char: str) -> bool:
    """Letters (with their combining marks), digits and the joiners names use."""
    return unicodedata.category(char)[0] in "LMN" or char in _NAME_JOINERS
