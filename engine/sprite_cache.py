"""Sprite layers decoded once: the 8-bit RGBA of each layer, cropped and at the render's size.

Decoding a sprite set's PNGs (and resizing them to the output) is most of the time a short
render's renderer takes to open (~70 ms of a one-sentence ``mouthpiece say``). The result
depends only on the persona's files and the size, so it is kept in one uncompressed ``.npz``
per (persona fingerprint, size) and read back in a few milliseconds by the next process.
A missing, unreadable or stale file is simply made again.
"""

from __future__ import annotations

import contextlib
import os
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

#: Bump when what is stored changes (the crop, the resampling), so older files aren't read.
FORMAT = 1
#: A layer: its 8-bit RGBA cropped to what it draws, and its (top, left) on the character.
Cropped = tuple[np.ndarray, int, int]
#: What reading a missing, cut short or foreign file raises.
_UNREADABLE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)


def layers(folder: Path | None, fingerprint: str, size: int, decode: Callable[[], dict[str, Cropped]]
           ) -> dict[str, Cropped]:
    """The layers of the persona ``fingerprint`` at ``size``: from ``folder`` when stored, else ``decode()``d
    and stored there (when ``folder`` is given)."""
    if folder is None:
        return decode()
    path = folder / f"{fingerprint}-{size}-v{FORMAT}.npz"
    with contextlib.suppress(*_UNREADABLE), np.load(path, allow_pickle=False) as stored:
        names, places = stored["arr_0"], stored["arr_1"]  # then one array a layer, in the same order
        return {str(name): (stored[f"arr_{i + 2}"], int(places[i][0]), int(places[i][1]))
                for i, name in enumerate(names)}
    decoded = decode()
    _store(path, decoded)
    return decoded


def _store(path: Path, decoded: dict[str, Cropped]) -> None:
    """Write the file whole or not at all (a reader never sees half of it); a failure only costs speed."""
    part = path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with part.open("wb") as out:
            np.savez(out, np.array(list(decoded)), np.array([(y, x) for _, y, x in decoded.values()]),
                     *(rgba for rgba, _, _ in decoded.values()))
        os.replace(part, path)
    except OSError:
        part.unlink(missing_ok=True)
