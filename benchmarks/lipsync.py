"""Neural lip-sync figures, measured side by side in one run on this machine.

    .venv/bin/python benchmarks/lipsync.py [--batches 1,16,64,128] [--seconds 30] [--jobs 1,4,8]
                                           [--width 16] [--fps 25] [--size 512]

The network has random weights at the published size (``--width 16``; a narrower copy measures
the plumbing) saved and loaded in the official checkpoint format. Prints:
  * face-frames per second of the forward pass at each batch size: CPU fp32 and bf16 (channels_last),
    and CUDA fp16 when torch sees a GPU (targets: ≥ 25 on the CPU in bf16, ≥ 3000 on a GPU batched);
  * end to end (speech → features → photo frames → crops → batched network → paste-back → H.264)
    real-time factor for ``--seconds`` of speech with 1, 4 and 8 renders at once sharing one batcher,
    the mean forward-pass batch, and where the time of one render goes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.models.lipsync.batcher import LipSyncBatcher, run  # noqa: E402
from engine.models.lipsync.model import Wav2Lip, load_wav2lip  # noqa: E402


def checkpoint(folder: Path, width: int) -> Path:
    torch.manual_seed(0)
    model = Wav2Lip(width).eval()
    path = folder / "wav2lip_gan.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}}, path)
    return path


def frames_per_second(path: Path, device: torch.device, precision: str, batch: int, budget: float = 3.0) -> float:
    batcher = LipSyncBatcher(load_wav2lip(path), device, precision=precision)
    rng = np.random.default_rng(0)
    mels = rng.uniform(-4, 4, (batch, 1, 80, 16)).astype(np.float32)
    faces = rng.integers(0, 256, (batch, 96, 96, 6), dtype=np.uint8)
    call = lambda: run(batcher.model, mels, faces, device, batcher.dtype, batcher.channels_last)  # noqa: E731
    call()  # warm-up: kernels chosen, memory allocated
    if device.type == "cuda":
        torch.cuda.synchronize()
    done, started = 0, time.perf_counter()
    while done == 0 or time.perf_counter() - started < budget:
        call()
        done += batch
    return done / (time.perf_counter() - started)


def end_to_end(path: Path, folder: Path, seconds: float, jobs: int, size: int, fps: int) -> tuple[float, float]:
    """Real-time factor of ``jobs`` renders at once, and the mean forward-pass batch."""
    from engine.backends import Backends
    from engine.engine import CancelToken
    from engine.models import LIPSYNC, ModelHub
    from engine.pipeline import Pipeline
    from engine.settings import EngineSettings, ModelSettings
    from personas.registry import PersonaRegistry

    hub = ModelHub(ModelSettings(lipsync=path, device="auto"))
    backends = Backends.with_defaults()
    hub.register_backends(backends)
    registry = PersonaRegistry(user_dirs=[folder / "personas"], renderers=backends.renderer)
    pipe = Pipeline(EngineSettings(width=size, height=size, fps=fps), registry, backends)
    clips = speech_clips(folder, seconds, jobs)
    pipe.renderer(registry.get("astro"), size, size)  # the face prepared once, as a running agent keeps it
    requests = [pipe.settings.request("astro", audio_path=clip, renderer="wav2lip") for clip in clips]
    pipe.renderer(pipe.with_renderer(registry.get("astro"), "wav2lip"), size, size)
    threads = [threading.Thread(target=pipe, args=(request, folder / f"out-{i}.mp4", lambda *_: None, CancelToken()))
               for i, request in enumerate(requests)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    batcher = hub.get(LIPSYNC)
    assert batcher is not None
    return jobs * seconds / elapsed, float(np.mean(batcher.batches))


def speech_clips(folder: Path, seconds: float, count: int) -> list[Path]:
    from engine.audio import write_wav
    from engine.types import SAMPLE_RATE
    from tests.media import speech

    words = speech("Good evening everyone, and welcome to the community stream. Tonight we have a packed schedule.")
    samples = np.resize(words, int(seconds * SAMPLE_RATE)).astype(np.float32)
    clips = []
    for number in range(count):
        varied = samples.copy()
        varied[-1] = number * 1e-4  # each clip its own, so the render cache never answers
        clips.append(write_wav(folder / f"clip-{number}.wav", varied))
    return clips


def profile(path: Path, seconds: float, size: int, fps: int) -> dict[str, float]:
    """Seconds one render spends in each stage, measured stage by stage on the same inputs."""
    from engine.face.photo import PhotoRenderer
    from engine.face.wav2lip import crop_input, face_box, paste_mouth
    from engine.models.lipsync.features import mel_spectrogram, mel_windows
    from engine.types import MotionFrame, Viseme
    from tests.faces import save_picture

    with tempfile.TemporaryDirectory() as tmp:
        photo = PhotoRenderer.from_file(save_picture(Path(tmp) / "astronaut.png"), size, size)
    frames = int(seconds * fps)
    samples = np.random.default_rng(0).uniform(-0.3, 0.3, int(seconds * 16000)).astype(np.float32)
    times: dict[str, float] = {}
    started = time.perf_counter()
    mels = mel_windows(mel_spectrogram(samples), frames, fps)
    times["features"] = time.perf_counter() - started
    track = [MotionFrame(Viseme.REST, Viseme.REST, 0.0, 0.0, 0.0, 0.0)] * frames
    started = time.perf_counter()
    drawn = [photo.draw(frame) for frame in track]
    times["photo frames"] = time.perf_counter() - started
    boxes = [face_box(photo.face_points(frame), size, size) for frame in track]
    started = time.perf_counter()
    faces = np.stack([crop_input(frame, box) for frame, box in zip(drawn, boxes)])
    times["crops"] = time.perf_counter() - started
    batcher = LipSyncBatcher(load_wav2lip(path), torch.device("cpu"))
    started = time.perf_counter()
    mouths = batcher.infer(mels, faces)
    times[f"network ({batcher.precision})"] = time.perf_counter() - started
    started = time.perf_counter()
    for frame, box, mouth in zip(drawn, boxes, mouths):
        paste_mouth(frame, box, mouth)
    times["paste-back"] = time.perf_counter() - started
    from engine.encode import encode_mp4

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        encode_mp4(iter(drawn), samples, 16000, fps=fps, width=size, height=size, out_path=Path(tmp) / "x.mp4",
                   crf=23, preset="veryfast")
    times["encoding"] = time.perf_counter() - started
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", default="1,16,64,128")
    parser.add_argument("--jobs", default="1,4,8")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--width", type=int, default=16, help="first-layer channels: 16 is the published network")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--fps", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = checkpoint(folder, args.width)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, network width {args.width}")
        setups = [(torch.device("cpu"), "fp32"), (torch.device("cpu"), "bf16")]
        if torch.cuda.is_available():
            setups.append((torch.device("cuda"), "auto"))  # fp16
        for device, precision in setups:
            for batch in map(int, args.batches.split(",")):
                rate = frames_per_second(path, device, precision, batch)
                label = "fp16" if device.type == "cuda" else precision
                print(f"forward pass  {device.type:4} {label:4}  batch {batch:3}: {rate:8.1f} face-frames/s")
        from personas.faces import create_face_persona
        from tests.faces import save_picture

        create_face_persona(folder / "personas", "astro", save_picture(folder / "astronaut.png"))
        for jobs in map(int, args.jobs.split(",")):
            factor, batch = end_to_end(path, folder, args.seconds, jobs, args.size, args.fps)
            print(f"end to end    {jobs} job(s) of {args.seconds:.0f} s at {args.size}px {args.fps} fps: "
                  f"{factor:6.2f}× real time (mean batch {batch:.1f})")
        for stage, spent in profile(path, args.seconds, args.size, args.fps).items():
            print(f"one render    {stage:18}: {spent:6.2f} s")


if __name__ == "__main__":
    main()
