"""``mouthpiece demo``: every built-in persona speaks from text, and one from a voice clip."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from core.rendering import RenderStack
    from engine.types import RenderRequest, RenderResult

DEMO_LINE = "Hello! I'm {name}. Send me a voice clip or some text, and I'll say it on video for your community."
CLIP_LINE = "This clip was recorded as an audio file. The mouth follows the sound itself, not a script."


def run_demo(stack: RenderStack, out: Path, clip: Path | None,
             render: Callable[[RenderStack, RenderRequest, Path], RenderResult],
             report: Callable[[RenderResult], None]) -> None:
    settings = stack.config.engine
    for persona in stack.personas.builtin():
        request = settings.request(persona.name, text=DEMO_LINE.format(name=persona.display_name))
        report(render(stack, request, out / f"demo-{persona.name}.mp4"))
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
