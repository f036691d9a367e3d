"""What opening a sprite persona works out, kept on disk for the next process.

Decoding a sprite set's PNGs, resizing them to the output and painting the static
character over its background are most of the time a sprite renderer takes to open
(~25 ms of a one-sentence ``mouthpiece say`` that takes 0.3 s). The results depend only on
the persona's files (its fingerprint) and the output, so each is kept in one uncompressed
``.npz`` of named arrays, read back in a millisecond or two. A missing, unreadable or
stale file is simply made again.
"""

from __future__ import annotations

import contextlib
import os
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

#: Bump when what is stored changes (the crop, the resampling, the names), so older files aren't read.
FORMAT = 2
#: Named arrays, as stored.
Arrays = dict[str, np.ndarray]
#: What reading a missing, cut short or foreign file raises.
_UNREADABLE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)


def kept(folder: Path | None, name: str, make: Callable[[], Arrays]) -> Arrays:
    """The arrays stored as ``name`` in ``folder``; else ``make()``'s, stored there (when ``folder`` is given).

    ``name`` must say everything the arrays depend on (the persona's fingerprint, the size...)."""
    if folder is None:
        return make()
    path = folder / f"{name}-v{FORMAT}.npz"
    with contextlib.suppress(*_UNREADABLE), np.load(path, allow_pickle=False) as stored:
        return {key: stored[key] for key in stored.files}
    made = make()
    _store(path, made)
    return made


def _store(path: Path, arrays: Arrays) -> None:
    """Write the file whole or not at all (a reader never sees half of it); a failure only costs speed."""
    part = path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with part.open("wb") as out:
            np.savez(out, **arrays)  # type: ignore[arg-type]  # numpy's stub misreads **kwds
        os.replace(part, path)
    except OSError:
        part.unlink(missing_ok=True)
