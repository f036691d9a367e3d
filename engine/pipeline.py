"""The default render pipeline: speech → timeline → motion track → frames → MP4.

``Pipeline`` is the ``render_fn`` the ``RenderEngine`` runs in its worker threads.
"""

from __future__ import annotations

import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from threading import Lock
from typing import TYPE_CHECKING, Callable

from engine.cache import cache_key
from engine.engine import CancelToken, ProgressFn, current_priority
from engine.renderer import Clip
from engine.types import MotionFrame, RenderRequest, RenderResult, Speech, Timeline

if TYPE_CHECKING:
    from engine.backends import Backends
    from engine.renderer import Renderer
    from engine.settings import EngineSettings
    from engine.types import VoiceSettings
    from personas.model import Persona
    from personas.registry import PersonaRegistry

#: Part of every cache key: bump it when a change alters the videos we make.
# 2: whole-clip renderers, speech in the text's languages, visemes by articulation; 3: mouth morphs, mood faces
ENGINE_VERSION = "3"
#: Renderers kept ready (each holds its persona's prepared art: scaled layers, warped faces).
RENDERERS_KEPT = 6


@dataclass(frozen=True)
class Plan:
    """Everything decided before the first frame is drawn."""

    persona: Persona
    speech: Speech
    timeline: Timeline
    track: list[MotionFrame]


class Pipeline:
    def __init__(self, settings: EngineSettings, personas: PersonaRegistry, backends: Backends) -> None:
        self.settings = settings
        self.personas = personas
        self.backends = backends
        self._renderers: OrderedDict[tuple[str, str, str, int, int], Renderer] = OrderedDict()
        self._renderers_lock = Lock()

    def cache_key(self, request: RenderRequest) -> str:
        from engine.audio import check_file

        for clip in (request.audio_path, request.voice_sample):
            if clip is not None:  # before hashing: a FIFO would block, a huge file would be read in vain
                check_file(clip, self.settings.max_audio_bytes)
        parts = self.fingerprints(request)
        return cache_key(request, parts["persona"], parts["engine"], parts["voice"], parts["renderer"])

    def fingerprints(self, request: RenderRequest) -> dict[str, str]:
        """What the cache key takes from this machine rather than the request: the persona's files,
        the voice's models and the engine's version (a render worker's must match the bot's)."""
        persona = self.personas.get(request.persona)
        voice = ""
        if request.text is not None:  # a neural voice's models shape the speech, and so the video
            backend, _ = self.voice(request, persona)
            voice = str(getattr(self.backends.tts.get(backend), "fingerprint", ""))
        name = request.renderer or persona.renderer
        renderer = str(getattr(self.backends.renderer.get(name), "fingerprint", ""))
        return {"persona": persona.fingerprint, "voice": voice, "renderer": renderer, "engine": ENGINE_VERSION}

    @staticmethod
    def voice(request: RenderRequest, persona: Persona) -> tuple[str, VoiceSettings]:
        """The "tts" backend and voice that say the request's text: the persona's own, or the cloning
        backend speaking with the request's voice sample."""
        from engine.models import CLONING_BACKEND

        settings = persona.voice_settings()
        if request.voice_sample is not None:
            return CLONING_BACKEND, replace(settings, sample=request.voice_sample)
        return persona.voice.backend, settings

    def plan(self, request: RenderRequest) -> Plan:
        """Speech, its timeline and the motion track; raises ``InputError`` for bad input."""
        from engine.motion import build_track
        from engine.timeline import from_speech

        persona = self.personas.get(request.persona)
        if request.face is not None:
            persona = one_off_face(persona, request.face)
        if request.renderer is not None:
            persona = self.with_renderer(persona, request.renderer)
        speech = self._speech(request, persona)
        timeline = from_speech(speech, request.fps)
        seed = zlib.crc32(f"{persona.name}:{len(speech.samples)}".encode())
        track = build_track(timeline, request.fps, width=request.width, expression=request.expression, seed=seed)
        return Plan(persona, speech, timeline, track)

    def __call__(self, request: RenderRequest, out_path: Path, report: ProgressFn, cancel: CancelToken) -> RenderResult:
        from engine.encode import encode_mp4

        started = time.perf_counter()
        report("preparing speech", 0, 1)
        plan = self.plan(request)
        cancel.raise_if_cancelled()
        renderer = self.renderer(plan.persona, request.width, request.height,
                                 on_open=lambda: report("preparing the persona", 0, 1))
        clip = Clip(plan.speech, plan.timeline, plan.track, request.width, request.height, request.fps,
                    priority=current_priority())
        total = len(plan.track)

        def on_frame(done: int) -> None:
            cancel.raise_if_cancelled()
            report("rendering", done, total)

        frames = encode_mp4(
            renderer.frames(clip),
            plan.speech.samples, plan.speech.sample_rate,
            fps=request.fps, width=request.width, height=request.height, out_path=out_path,
            crf=self.settings.crf, preset=self.settings.preset, on_frame=on_frame,
        )
        return RenderResult(
            path=out_path, persona=plan.persona.name, duration=plan.speech.duration, frames=frames,
            width=request.width, height=request.height, fps=request.fps,
            timeline_source=plan.timeline.source, elapsed=time.perf_counter() - started,
        )

    def with_renderer(self, persona: Persona, name: str) -> Persona:
        """``persona`` drawn by the renderer backend ``name`` (one for faces: it needs a photo or template)."""
        from engine.errors import InputError

        if name == persona.renderer:
            return persona
        if name not in self.backends.renderer:
            known = ", ".join(sorted(self.backends.renderer))
            raise InputError(f"There is no renderer called {name!r}; there are: {known}.")
        if persona.face_path is None:
            raise InputError(f"The {name} renderer animates photo and template-video personas, and {persona.name} is "
                             "drawn art: pick a photo persona, or give a face (--face).")
        return persona.model_copy(update={"renderer": name})

    def renderer(self, persona: Persona, width: int, height: int,
                 on_open: Callable[[], None] | None = None) -> Renderer:
        """The persona's renderer at this size: a kept one, or a new one (``on_open`` is told first:
        preparing a face or a template video takes a moment)."""
        key = (persona.name, persona.renderer, persona.fingerprint, width, height)
        with self._renderers_lock:
            if key in self._renderers:
                self._renderers.move_to_end(key)
                return self._renderers[key]
        if on_open is not None:
            on_open()
        made = self.backends.get("renderer", persona.renderer).open(persona, width, height)
        with self._renderers_lock:
            self._renderers[key] = made
            while len(self._renderers) > RENDERERS_KEPT:
                self._renderers.popitem(last=False)
        return made

    def _speech(self, request: RenderRequest, persona: Persona) -> Speech:
        from engine.audio import decode_audio
        from engine.multilingual import speak
        from engine.text import clean_text

        if (request.text is None) == (request.audio_path is None):
            raise ValueError("a RenderRequest needs exactly one of text and audio_path")
        if request.audio_path is not None:
            return decode_audio(request.audio_path, max_bytes=self.settings.max_audio_bytes,
                                max_seconds=self.settings.max_audio_seconds)
        text = clean_text(request.text or "", max_chars=self.settings.max_text_chars)
        backend, voice = self.voice(request, persona)
        return speak(text, voice, self.backends.get("tts", backend), language=request.lang)



def one_off_face(persona: Persona, face: Path) -> Persona:
    """``persona`` (its voice, mood, name) with ``face`` animated instead of its own art."""
    import hashlib

    from engine.face.media import face_kind

    kind = face_kind(face)
    digest = hashlib.sha256(kind.encode())
    digest.update(face.read_bytes())
    return persona.model_copy(update={"renderer": kind, "face": face.resolve(), "fingerprint": digest.hexdigest()})
