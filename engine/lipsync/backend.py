"""The ``wav2lip`` renderer backend: photo and template-video personas, mouths by the shared Wav2Lip model."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import ModelNotConfiguredError
from engine.face.backends import PhotoBackend, VideoBackend

if TYPE_CHECKING:
    from engine.models import ModelHub
    from engine.renderer import Clip, Renderer
    from personas.model import Persona

SETUP = ("Neural lip-sync (wav2lip) isn't set up here: the operator has to set [models] lipsync in config.toml "
         "to a Wav2Lip checkpoint (wav2lip_gan.pth; see the README's Models section). Without it, photo and "
         "template personas move their lips with the built-in photo renderer.")


class Wav2LipBackend:
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
        from engine.lipsync.render import Wav2LipRenderer

        batcher = self.hub.face_batcher()
        if batcher is None:
            raise ModelNotConfiguredError(SETUP)
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
