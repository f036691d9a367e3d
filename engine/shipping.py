"""Files a render needs, sent as bytes to a worker on another machine and put back there.

Every ``Path`` field of a ``RenderRequest`` (an uploaded clip, a voice sample, a face, and any
field added later) travels by value, under its own file name so the worker's checks see the same
suffix; a persona travels as its whole folder. Nothing here knows Ray: the executor moves the bytes.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from engine.errors import InputError
from engine.types import RenderRequest

#: A file larger than this is not sent (the bot's own upload limits are far below it).
MAX_SHIPPED_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class ShippedFile:
    name: str  # the file's base name
    data: bytes | None  # None: not a readable regular file here, so not one there either


def pack_files(request: RenderRequest) -> dict[str, ShippedFile]:
    """The bytes of each ``Path`` field of ``request``, by field name."""
    files = {}
    for field in dataclasses.fields(request):
        value = getattr(request, field.name)
        if isinstance(value, Path):
            files[field.name] = ShippedFile(value.name or "file", _read_regular(value))
    return files


def unpack_files(request: RenderRequest, files: dict[str, ShippedFile], folder: Path) -> RenderRequest:
    """``request`` with each shipped field pointing at a copy written under ``folder``.

    A file that could not be read where it came from is left missing here, so the pipeline
    answers with the same message it gives for a missing file locally.
    """
    changes: dict[str, Any] = {}
    for field_name, shipped in files.items():
        own = folder / field_name
        own.mkdir(parents=True, exist_ok=True)
        path = own / _safe_name(shipped.name)
        if shipped.data is not None:
            path.write_bytes(shipped.data)
        changes[field_name] = path
    return dataclasses.replace(request, **changes)


def pack_folder(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root`` (a persona folder) by its relative POSIX path."""
    files, total = {}, 0
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            total += len(data)
            if total > MAX_SHIPPED_BYTES:
                raise InputError(f"The persona folder {root.name} is too large to send to the render workers.")
            files[path.relative_to(root).as_posix()] = data
    return files


def unpack_folder(files: dict[str, bytes], dest: Path) -> Path:
    """Write a packed folder to ``dest`` once: built beside it and renamed into place, so workers
    of one machine sharing ``dest`` never see half a folder. Returns ``dest``."""
    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    building = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}")
    for relative, data in files.items():
        parts = PurePosixPath(relative).parts
        if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
            raise ValueError(f"refusing a packed path outside its folder: {relative!r}")
        target = building.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    building.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(building, dest)
    except OSError:  # another worker put the same folder in place first
        if not dest.is_dir():
            raise
        shutil.rmtree(building, ignore_errors=True)
    return dest


def _read_regular(path: Path) -> bytes | None:
    try:
        info = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
        return None
    if info.st_size > MAX_SHIPPED_BYTES:
        raise InputError(f"The file {path.name} is too large to send to the render workers.")
    try:
        return path.read_bytes()
    except OSError:
        return None


def _safe_name(name: str) -> str:
    name = PurePosixPath(name.replace("\\", "/")).name
    return name if name not in ("", ".", "..") else "file"

