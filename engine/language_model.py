"""py3langid's identifier, held compactly: its model as the package loads it takes ~75 MB, which a
1080² render can't spare on top of its frames.

Two cuts (and the loader's scratch returned to the system), neither changing a decision of ``engine.languages``:
  * only the columns of languages espeak-ng speaks are kept. ``languages._identify`` compares
    scores among speakable languages only, and the softmax's normaliser cancels in that ratio;
  * the byte automaton's transitions (~10 M states below 2¹⁷) are held as 16 low bits plus one
    high bit each (21 MB) instead of 32-bit words (39 MB).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from array import array
from collections.abc import Callable
from typing import Any

import numpy as np


class _Transitions:
    """``nextmove[i]`` of py3langid's automaton, for targets below 2¹⁷."""

    def __init__(self, targets: np.ndarray) -> None:
        if targets.size and int(targets.max()) >= 1 << 17:
            raise ValueError("automaton too large for 17-bit transitions")
        self._low = array("H")
        self._low.frombytes((targets & 0xFFFF).astype(np.uint16).tobytes())
        self._high = np.packbits((targets >> 16).astype(np.uint8)).tobytes()

    def __getitem__(self, index: int) -> int:
        return self._low[index] | (((self._high[index >> 3] >> (7 - (index & 7))) & 1) << 16)

    def __len__(self) -> int:
        return len(self._low)


def load(speaks: Callable[[str], bool]) -> Any:
    """py3langid's ``LanguageIdentifier`` (probabilities normalised) for the labels ``speaks`` accepts."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
    from py3langid.modelio import load_model

    ptc, pc, classes, nextmove, row, output = load_model(MODEL_DIR / MODEL_FILE)
    keep = [column for column, label in enumerate(classes) if speaks(label)]
    transitions = _Transitions(np.frombuffer(nextmove, dtype=f"u{nextmove.itemsize}"))
    del nextmove
    identifier = LanguageIdentifier(np.ascontiguousarray(ptc[:, keep]), np.asarray(pc)[keep],
                                    [classes[c] for c in keep], transitions, array("i", output),
                                    norm_probs=True, tk_row=row)
    del ptc, output
    _trim_heap()
    return identifier


def _trim_heap() -> None:
    """Hand the loader's ~20 MB of freed scratch back to the system (glibc keeps it otherwise)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass
