"""Finished renders kept by content: an identical request is answered from here.

Each entry is ``<key>.mp4`` plus ``<key>.json`` (the ``RenderResult``'s fields), so a
hit returns a full result without rendering; the key is a hash of everything that
shapes the video.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import stat
import uuid
from pathlib import Path

from engine.errors import AudioInputError, FaceInputError, InputError
from engine.types import RenderRequest, RenderResult

_KEY = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
#: Partial files are named for the process writing them: ``.<pid>-<instance>-<random>.part``.
_OWNER = re.compile(r"\.(\d+)-([0-9a-f]{8})-[0-9a-f]{8}\.part")
#: Tells this process from an earlier one that had the same pid (a restarted container's pid 1).
_INSTANCE = uuid.uuid4().hex[:8]


class RenderCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @staticmethod
    def check_key(key: str) -> None:
        if not _KEY.match(key):
            raise ValueError(f"cache key {key!r} is not a safe file name")

    def lookup(self, key: str) -> RenderResult | None:
        video, meta = self._paths(key)
        try:
            fields = json.loads(meta.read_text(encoding="utf-8"))
            if not video.is_file():
                return None
            os.utime(video)  # in use again: housekeeping's age limit counts from now
            return RenderResult(**{**fields, "path": video, "elapsed": 0.0, "cached": True})
        except (OSError, ValueError, TypeError):
            return None

    def part_path(self, key: str) -> Path:
        """Where a render in progress writes; ``store`` moves it into place."""
        return self.folder / f"{key}{_part_suffix()}.mp4"

    def remove_orphans(self) -> int:
        """Delete the partial files of renders whose process is gone (killed or crashed mid-render);
        return how many. Those of live processes sharing the folder are left alone."""
        removed = 0
        try:
            names = [entry.name for entry in os.scandir(self.folder) if ".part" in entry.name]
        except OSError:
            return 0
        for name in names:
            if not _owner_alive(name):
                with contextlib.suppress(OSError):
                    (self.folder / name).unlink()
                    removed += 1
        return removed

    def store(self, key: str, part: Path, result: RenderResult) -> RenderResult:
        """Move the rendered file into the cache, with its metadata beside it."""
        video, meta = self._paths(key)
        os.replace(part, video)
        stored = dataclasses.replace(result, path=video, cached=False)
        fields = {**dataclasses.asdict(stored), "path": video.name}
        meta_part = meta.with_name(f"{meta.name}{_part_suffix()}")
        meta_part.write_text(json.dumps(fields), encoding="utf-8")
        os.replace(meta_part, meta)
        return stored

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.folder / f"{key}.mp4", self.folder / f"{key}.json"


def _part_suffix() -> str:
    return f".{os.getpid()}-{_INSTANCE}-{uuid.uuid4().hex[:8]}.part"


def _owner_alive(name: str) -> bool:
    match = _OWNER.search(name)
    if match is None:
        return False  # not named for its writer: from an older version, long dead
    pid, instance = int(match[1]), match[2]
    if pid == os.getpid():
        return instance == _INSTANCE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, under another user
    return True


def cache_key(request: RenderRequest, persona_fingerprint: str, engine_version: str, voice: str = "",
              renderer: str = "") -> str:
    """sha256 of everything that shapes the video: request fields, audio, voice-sample and face bytes,
    persona, the voice's models (``voice``), the renderer's model (``renderer``), engine."""
    digest = hashlib.sha256()
    fields: dict[str, object] = {
        "persona": request.persona,
        "text": request.text,
        "audio": request.audio_path is not None,
        "size": [request.width, request.height],
        "fps": request.fps,
        "expression": request.expression.value,
        "persona_fingerprint": persona_fingerprint,
        "engine_version": engine_version,
        "voice": voice,
        "voice_sample": request.voice_sample is not None,
        "lang": request.lang,
        "face": request.face is not None,
    }
    if renderer or request.renderer:  # only then: the keys of every other render stay as they were
        fields["renderer"] = [request.renderer, renderer]
    digest.update(json.dumps(fields, sort_keys=True).encode())
    for path, what, error in ((request.audio_path, "audio", AudioInputError),
                              (request.voice_sample, "audio", AudioInputError),
                              (request.face, "face", FaceInputError)):
        if path is None:
            continue
        try:
            _hash_regular_file(digest, Path(path), what, error)
        except OSError as exc:
            raise error(f"I couldn't read the {what} file ({exc.strerror or exc}).") from exc
    return digest.hexdigest()


def _hash_regular_file(digest: hashlib._Hash, path: Path, what: str, error: type[InputError]) -> None:
    """Hash a regular file; opening without blocking, so a FIFO put in its place can't hang us."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise error(f"'{path.name}' is not a regular file — please send the {what} file itself.")
        while chunk := file.read(1 << 20):
            digest.update(chunk)
