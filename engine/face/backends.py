"""The ``photo`` and ``video`` persona kinds: a face file in the persona folder, named by ``face``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import FaceInputError

if TYPE_CHECKING:
    from engine.renderer import Renderer
    from personas.model import Persona


class FaceBackend:
    kind = ""
    example = ""

    def assets(self, folder: Path, settings: Mapping[str, Any]) -> list[Path]:
        from engine.face.media import face_kind

        face = settings.get("face")
        if not isinstance(face, str) or not face.strip():
            raise ValueError(f'face: a {self.kind} persona names its face file, e.g. face = "{self.example}"')
        path = folder / face
        if Path(face).is_absolute() or ".." in Path(face).parts or not path.is_file():
            raise ValueError(f"face: {face} is not a file inside the persona folder")
        try:
            kind = face_kind(path)
        except FaceInputError as error:
            raise ValueError(f"face: {error}") from error
        if kind != self.kind:
            raise ValueError(f'face: {face} is a {kind}, but renderer = "{self.kind}"')
        return [path]

    def face_path(self, persona: Persona) -> Path:
        if persona.face_path is None:
            raise FaceInputError(f"The persona {persona.name} has no face file.")
        return persona.face_path


class PhotoBackend(FaceBackend):
    """One portrait, warped per mouth shape, blink and mood (``engine.face.photo``)."""

    kind = "photo"
    example = "face.jpg"

    def open(self, persona: Persona, width: int, height: int) -> Renderer:
        from engine.face.photo import PhotoRenderer

        return PhotoRenderer.from_file(self.face_path(persona), width, height)


class VideoBackend(FaceBackend):
    """A 1–30 s template video of a person, played forward and back, mouth replaced (``engine.face.video``)."""

    kind = "video"
    example = "face.mp4"

    def open(self, persona: Persona, width: int, height: int) -> Renderer:
        from engine.face.video import VideoRenderer

        return VideoRenderer(self.face_path(persona), width, height)
