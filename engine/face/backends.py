"""The ``photo`` and ``video`` persona kinds (a face file in the persona folder, named by ``face``), and the
``wav2lip`` renderer, which draws either with the mouths of the hub's lip-sync model."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import FaceInputError, ModelNotConfiguredError

if TYPE_CHECKING:
    from engine.models import ModelHub
    from engine.renderer import Clip, Renderer
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


WAV2LIP_SETUP = ("Neural lip-sync (wav2lip) isn't set up here: the operator has to set [models] lipsync in "
                 "config.toml to a Wav2Lip checkpoint (wav2lip_gan.pth; see the README's Models section). Without "
                 "it, photo and template personas move their lips with the built-in photo renderer.")


class Wav2LipBackend:
    """A photo or template-video persona drawn by its own renderer, with the mouths of the lip-sync model."""

    def __init__(self, hub: ModelHub) -> None:
        self.hub = hub

    @property
    def fingerprint(self) -> str:
        """Changes when the checkpoint is replaced: part of the render cache key."""
        path = self.hub.settings.lipsync
        if path is None or not path.is_file():
            return f"wav2lip:{path}"
        stat = path.stat()
        return f"wav2lip:{path}:{stat.st_size}:{stat.st_mtime_ns}"

    def assets(self, folder: Path, settings: Mapping[str, Any]) -> list[Path]:
        """A photo's or a template video's: whichever the ``face`` file is."""
        from engine.face.media import face_kind

        face = settings.get("face")
        path = folder / face if isinstance(face, str) and face.strip() else None
        kind = "photo"
        if path is not None and path.is_file():
            try:
                kind = face_kind(path)
            except Exception:  # the photo backend's check says what is wrong with the file
                kind = "photo"
        return _face_backend(kind).assets(folder, settings)

    def open(self, persona: Persona, width: int, height: int) -> Renderer:
        from engine.face.media import face_kind
        from engine.face.photo import PhotoRenderer
        from engine.face.video import VideoRenderer
        from engine.face.wav2lip import Wav2LipRenderer

        batcher = self.hub.face_batcher()
        if batcher is None:
            raise ModelNotConfiguredError(WAV2LIP_SETUP)
        face = PhotoBackend().face_path(persona)
        inner = _face_backend(face_kind(face)).open(persona, width, height)
        if isinstance(inner, PhotoRenderer):
            photo = inner

            def points(i: int, clip: Clip) -> Any:
                return photo.face_points(clip.track[i])
        else:
            assert isinstance(inner, VideoRenderer)
            video = inner

            def points(i: int, clip: Clip) -> Any:
                return video.face_points(i, clip.fps)
        return Wav2LipRenderer(inner, points, batcher)


def _face_backend(kind: str) -> PhotoBackend | VideoBackend:
    return VideoBackend() if kind == "video" else PhotoBackend()
