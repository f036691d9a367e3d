"""Face personas: a photo or a template video made into a persona folder.

``create_face_persona`` checks the face (a picture or video, not a bomb, a face big
enough, a template that keeps it in view), copies it into a new folder with a
``persona.toml`` that names ``renderer = "photo"`` or ``"video"`` and ``face``, and
loads it. The folder appears whole or not at all. ``check_face`` checks a one-off face
before it is rendered.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

from engine.errors import FaceInputError, InputError
from engine.face.prepare import check_face
from personas.model import Persona, VoiceConfig, load_persona

__all__ = ["check_face", "create_face_persona", "remove_persona"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
_VIDEO_SUFFIXES = {".mp4", ".webm", ".mov", ".mkv", ".m4v", ".avi"}


def create_face_persona(
    directory: Path,
    name: str,
    face: Path,
    *,
    display_name: str | None = None,
    voice: VoiceConfig | None = None,
    description: str | None = None,
) -> Persona:
    """A new persona ``directory/name`` animating ``face`` (a photo or a 1–30 s video).

    Raises ``FaceInputError`` for a face that cannot be animated and ``InputError`` for a bad
    or taken name; nothing is left behind when it fails.
    """
    name = name.strip().lower()
    if not _NAME.match(name):
        raise InputError(f"'{name}' can't be a persona name: use up to 32 lowercase letters, digits, - and _.")
    target = Path(directory) / name
    if target.exists():
        raise InputError(f"There is already a persona called {name}.")
    kind = check_face(face)
    suffix = face.suffix.lower()
    if suffix not in (_PHOTO_SUFFIXES if kind == "photo" else _VIDEO_SUFFIXES):
        suffix = ".img" if kind == "photo" else ".video"
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        shutil.copyfile(face, staging / f"face{suffix}")
        toml = _persona_toml(name, display_name or name.replace("-", " ").replace("_", " ").title(), kind,
                             f"face{suffix}", description or f"Made from a {kind}.", voice)
        (staging / "persona.toml").write_text(toml, encoding="utf-8")
        persona = load_persona(staging)  # checks what we wrote, before it becomes visible
        if target.exists():
            raise InputError(f"There is already a persona called {name}.")
        staging.rename(target)
    except ValueError as error:  # persona.toml rejected a field (display name, voice)
        shutil.rmtree(staging, ignore_errors=True)
        raise InputError(str(error).split(": ", 1)[-1]) from error
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return persona.model_copy(update={"root": target.resolve()})


def remove_persona(directory: Path, name: str) -> None:
    """Delete the persona folder ``directory/name`` made by ``create_face_persona``."""
    target = Path(directory) / name.strip().lower()
    if not _NAME.match(target.name) or not (target / "persona.toml").is_file():
        raise InputError(f"There is no persona called {name} here.")
    shutil.rmtree(target)


def _persona_toml(name: str, display_name: str, kind: str, face: str, description: str,
                  voice: VoiceConfig | None) -> str:
    def string(value: str) -> str:  # a JSON string is a valid TOML basic string
        return json.dumps(value, ensure_ascii=False)

    lines = [
        f"name = {string(name)}",
        f"display_name = {string(display_name)}",
        f"style = {string(kind)}",
        f"description = {string(description)}",
        f"renderer = {string(kind)}",
        f"face = {string(face)}",
    ]
    if voice is not None:
        if voice.sample is not None:
            raise FaceInputError("A face persona's voice can't name a sample file here; add it to the folder by hand.")
        lines.append("\n[voice]")
        for key, value in voice.model_dump(exclude_none=True, exclude={"sample"}).items():
            lines.append(f"{key} = {string(value) if isinstance(value, str) else value}")
    return "\n".join(lines) + "\n"
