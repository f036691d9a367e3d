"""``mouthpiece demo``: every built-in persona speaks from text, a photo talks, and one persona
speaks from a voice clip."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from core.rendering import RenderStack
    from engine.types import RenderRequest, RenderResult

DEMO_LINE = "Hello! I'm {name}. Send me a voice clip or some text, and I'll say it on video for your community."
PHOTO_LINE = "And this is a photo: any face can talk, from a profile picture to a portrait like this one."
CLIP_LINE = "This clip was recorded as an audio file. The mouth follows the sound itself, not a script."


def run_demo(stack: RenderStack, out: Path, clip: Path | None,
             render: Callable[[RenderStack, RenderRequest, Path], RenderResult],
             report: Callable[[RenderResult], None]) -> None:
    settings = stack.config.engine
    print(f"Rendering into {out}/: each built-in persona reads a line, then one says a voice clip", flush=True)
    for persona in stack.personas.builtin():
        request = settings.request(persona.name, text=DEMO_LINE.format(name=persona.display_name))
        report(render(stack, request, out / f"demo-{persona.name}.mp4"))
    if (face := write_demo_face(out / "demo-face.png")) is not None:
        request = settings.request(stack.personas.default.name, text=PHOTO_LINE, face=face)
        report(render(stack, request, out / "demo-photo.mp4"))
    if clip is None:
        clip = write_voice_clip(out / "demo-voice.wav", CLIP_LINE)
        print(f"{clip}  a voice clip to animate (your own: mouthpiece demo --clip FILE)")
    request = settings.request(stack.personas.default.name, audio_path=clip)
    report(render(stack, request, out / "demo-from-audio.mp4"))


def write_voice_clip(path: Path, text: str) -> Path:
    """Speak ``text`` with a voice none of the personas uses, into a 16-bit WAV file."""
    from engine.audio import write_wav
    from engine.tts import synthesize
    from engine.types import VoiceSettings

    speech = synthesize(text, VoiceSettings(language="en-gb", variant="m1", pitch=40, rate=160))
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_wav(path, speech.samples, speech.sample_rate)


def write_demo_face(path: Path) -> Path | None:
    """scikit-image's public-domain portrait of astronaut Eileen Collins, when it is installed
    (it is a development dependency): the demo's photo persona."""
    try:
        from skimage.data import astronaut
    except ImportError:
        print("(no photo demo: scikit-image is not installed; try mouthpiece say TEXT --face PHOTO)")
        return None
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(astronaut()).save(path)
    return path
