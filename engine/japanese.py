"""Japanese text for espeak-ng, whose Japanese voice reads only kana: kanji become hiragana.

pykakasi ships its dictionary in its package, so this works offline. It reads each word on its own
(今日は may come out as こんにちは rather than きょうは), which is still far better than espeak-ng
spelling every kanji out as "Chinese letter".
"""

from __future__ import annotations

import threading
import unicodedata
from functools import cache
from typing import Any

_lock = threading.Lock()


def to_kana(text: str) -> str:
    """``text`` with every run holding a kanji replaced by its reading in hiragana."""
    if not any(_is_kanji(char) for char in text):
        return text
    with _lock:  # pykakasi's converter is not documented as thread-safe
        parts = _converter().convert(text)
    return "".join(part["hira"] if any(_is_kanji(c) for c in part["orig"]) else part["orig"] for part in parts)


def _is_kanji(char: str) -> bool:
    return "CJK UNIFIED IDEOGRAPH" in unicodedata.name(char, "")


@cache
def _converter() -> Any:
    import pykakasi

    return pykakasi.kakasi()
