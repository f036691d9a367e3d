"""Render-engine figures, measured side by side in one run on this machine.

    .venv/bin/python benchmarks/render.py [--repeats 3]

Prints:
  * peak RSS of a fresh process rendering a 10-minute clip (target ≤ 500 MB);
  * end-to-end real-time factor for 30 s of speech at 512×512, 25 fps (target ≥ 15×), for a
    sprite persona and a photo persona (scikit-image's public-domain astronaut portrait);
  * that speed as a ratio to bare H.264 encoding of the same frames (target ≥ 0.8);
  * a photo's face preparation: finding it, framing it, warping every mouth shape and blink
    (target ≤ 1 s);
  * wall time of ``mouthpiece --help`` (target ≤ 0.3 s).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TEXT = (
    "Good evening, everyone, and welcome to the community stream. Tonight we have a packed schedule. "
    "First, the winners of last week's voice contest, then a look at the new personas, and finally "
    "your questions. Remember to be kind in the chat, keep spoilers behind tags, and drink some water. "
    "If you are new here, say hello: the bot will greet you by name. Now, let's get started, shall we? "
    "The first entry comes from a member who recorded it on a train, and you can hear every bump."
)


def pipeline():  # type: ignore[no-untyped-def]
    from engine.backends import Backends
    from engine.pipeline import Pipeline
    from engine.settings import EngineSettings
    from personas.registry import PersonaRegistry

    # The 10-minute clip is over the default 5-minute cap on uploads.
    return Pipeline(EngineSettings(max_audio_seconds=3600), PersonaRegistry(), Backends.with_defaults())


def render_once(pipe, request, out: Path) -> float:  # type: ignore[no-untyped-def]
    from engine.engine import CancelToken

    started = time.perf_counter()
    pipe(request, out, lambda stage, done, total: None, CancelToken())
    return time.perf_counter() - started


def as_yuv420p(frame):  # type: ignore[no-untyped-def]
    import av

    if frame.ndim == 2:  # already yuv420p
        return frame
    return av.VideoFrame.from_ndarray(frame, format="rgb24").reformat(format="yuv420p").to_ndarray()


def bare_encode_once(frames, speech, out: Path) -> float:  # type: ignore[no-untyped-def]
    from engine.encode import encode_mp4
    from engine.settings import EngineSettings

    settings = EngineSettings()
    started = time.perf_counter()
    encode_mp4(iter(frames), speech.samples, speech.sample_rate, fps=25, width=512, height=512,
               out_path=out, crf=settings.crf, preset=settings.preset)
    return time.perf_counter() - started


def portrait(folder: Path) -> Path:
    from PIL import Image
    from skimage.data import astronaut

    path = folder / "astronaut.png"
    Image.fromarray(astronaut()).save(path)
    return path


def face_preparation(repeats: int) -> None:
    from engine.face.photo import PhotoRenderer

    with tempfile.TemporaryDirectory() as tmp:
        face = portrait(Path(tmp))
        PhotoRenderer.from_file(face, 512, 512)  # load the models once: a process does that once
        times = []
        for _ in range(max(repeats, 3)):
            started = time.perf_counter()
            PhotoRenderer.from_file(face, 512, 512)
            times.append(time.perf_counter() - started)
    print(f"photo face preparation (find, frame, warp 10 mouths and 3 blink states): "
          f"{statistics.median(times):.2f} s median (target <= 1 s)")


def speed(repeats: int, persona: str = "friendly", face: bool = False) -> None:
    from engine.types import RenderRequest

    pipe = pipeline()
    with tempfile.TemporaryDirectory() as tmp:
        picture = portrait(Path(tmp)) if face else None
        _speed(pipe, RenderRequest(persona=persona, text=TEXT, width=512, height=512, fps=25, face=picture),
               repeats, "photo (astronaut)" if face else persona)


def _speed(pipe, request, repeats: int, label: str) -> None:  # type: ignore[no-untyped-def]
    from engine.renderer import Clip

    plan = pipe.plan(request)
    renderer = pipe.renderer(plan.persona, 512, 512)
    # The very frames the pipeline encodes, already in the encoder's pixel format, so the
    # baseline is H.264 encoding alone.
    clip = Clip(plan.speech, plan.timeline, plan.track, 512, 512, 25)
    frames = [as_yuv420p(frame) for frame in renderer.frames(clip)]
    duration = plan.speech.duration
    full, bare = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):  # alternate, so drift in the machine's speed hits both alike
            full.append(render_once(pipe, request, Path(tmp) / "full.mp4"))
            bare.append(bare_encode_once(frames, plan.speech, Path(tmp) / "bare.mp4"))
    ratios = [b / f for b, f in zip(bare, full)]
    print(f"{label}: speech {duration:.1f} s, {len(frames)} frames at 512x512, 25 fps, {repeats} runs each (median)")
    print(f"end-to-end render:        {statistics.median(full):.2f} s  "
          f"-> {duration / statistics.median(full):.1f}x real time (target >= 15x)")
    print(f"bare H.264 of the frames (yuv420p in): {statistics.median(bare):.2f} s  "
          f"-> {duration / statistics.median(bare):.1f}x real time")
    print(f"render speed / bare encoding speed: {statistics.median(ratios):.2f} "
          f"(target >= 0.8; per run {', '.join(f'{r:.2f}' for r in ratios)})")


def long_clip_child(minutes: float) -> None:
    """Runs in a fresh process: render a long voice clip and exit."""
    import numpy as np

    from engine.audio import write_wav
    from engine.tts import synthesize
    from engine.types import RenderRequest, VoiceSettings

    pipe = pipeline()
    voice = synthesize(TEXT, VoiceSettings()).samples
    repeats = int(np.ceil(minutes * 60 * 16000 / len(voice)))
    samples = np.tile(voice, repeats)[: int(minutes * 60 * 16000)]
    with tempfile.TemporaryDirectory() as tmp:
        clip = write_wav(Path(tmp) / "long.wav", samples)
        del samples, voice
        request = RenderRequest(persona="neon", audio_path=clip, width=512, height=512, fps=25)
        seconds = render_once(pipe, request, Path(tmp) / "long.mp4")
    print(f"{seconds:.1f} {own_peak_rss_mb():.0f}")


def own_peak_rss_mb() -> float:
    """This process's peak RSS (Linux VmHWM), which unlike ru_maxrss ignores the parent it was forked from."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss(minutes: float) -> None:
    done = subprocess.run([sys.executable, __file__, "--long-clip-child", str(minutes)],
                          check=True, capture_output=True, text=True)
    seconds, peak_mb = (float(x) for x in done.stdout.split())
    print(f"{minutes:g}-minute clip: peak RSS {peak_mb:.0f} MB (target <= 500 MB), rendered in {seconds:.1f} s")


def help_time(repeats: int) -> None:
    command = [str(Path(sys.executable).with_name("mouthpiece")), "--help"]
    subprocess.run(command, check=True, capture_output=True)  # warm the file cache
    times = []
    for _ in range(max(repeats, 5)):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    print(f"mouthpiece --help: {statistics.median(times):.3f} s median of {len(times)} (target <= 0.3 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the clip for the memory figure")
    parser.add_argument("--long-clip-child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.long_clip_child:
        long_clip_child(args.long_clip_child)
        return
    peak_rss(args.minutes)
    speed(args.repeats)
    speed(args.repeats, face=True)
    face_preparation(args.repeats)
    help_time(args.repeats)


if __name__ == "__main__":
    main()
