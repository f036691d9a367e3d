"""How fast the command line answers, against ffmpeg making a video of a still image, in one run.

    .venv/bin/python benchmarks/first_answer.py [--repeats 5]

Needs the ``ffmpeg`` program. Prints, as medians of alternating runs (wall time, and
CPU time, which other load on the machine disturbs less):
  * ``mouthpiece say "Hello there"`` (no video in the render cache; the persona's decoded sprite
    layers kept from the warm-up run, as after a user's first command) as a ratio to the
    floor: ``ffmpeg -loop 1 -i still.png -i same.wav`` encoding the same audio at the same
    size (target <= 1.6x);
  * ``mouthpiece --help`` (target <= 0.3 s);
  * peak RSS of one ``mouthpiece say`` of a long sentence at 1080x1080 (target <= 300 MB), with
    ``--lang en`` and without (then the text is long enough for py3langid's model to tell its language).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SENTENCE = "Hello there"
LONG_SENTENCE = "Hello there, this sentence is long enough to see how much memory a big render takes."
PACKAGES = ("core", "engine", "personas", "plugins", "adapters")
MOUTHPIECE = str(Path(sys.executable).with_name("mouthpiece"))


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float  # user + system seconds of the child
    peak_mb: float


def run(command: list[str]) -> Run:
    """Run ``command``; its wall time, CPU time and peak RSS (from wait4, this child's alone)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {child.stderr.read().decode() if child.stderr else ''}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def config(folder: Path, size: int) -> Path:
    path = folder / f"config-{size}.toml"
    path.write_text(f'[agent]\ndatabase = "{folder}/state.db"\n'
                    f'[engine]\nwidth = {size}\nheight = {size}\ncache_dir = "{folder}/cache"\n')
    return path


def floor_inputs(folder: Path, size: int) -> tuple[Path, Path]:
    """The sentence in the default persona's voice as a WAV file, and a still frame of that size."""
    import numpy as np
    from PIL import Image

    from engine.audio import write_wav
    from engine.tts import synthesize
    from personas.registry import PersonaRegistry

    voice = PersonaRegistry().default.voice_settings()
    speech = synthesize(SENTENCE, voice)
    wav = write_wav(folder / "same.wav", speech.samples, speech.sample_rate)
    still = folder / "still.png"
    Image.fromarray(np.full((size, size, 3), (180, 220, 210), np.uint8)).save(still)
    return still, wav


def forget_videos(cache: Path) -> None:
    """Empty the render cache of videos; the sprite layers decoded by an earlier run (cache/layers) stay,
    as they do between a user's commands."""
    for path in cache.glob("*"):
        if path.is_file():
            path.unlink()


def median(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(r, field) for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("this benchmark needs the ffmpeg program (apt-get install ffmpeg)")
    # An installed program's modules have their bytecode; this checkout's may not (PYTHONDONTWRITEBYTECODE).
    compileall = [sys.executable, "-m", "compileall", "-q", *(str(REPO / p) for p in PACKAGES)]
    subprocess.run(compileall, check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        small = config(folder, 512)
        still, wav = floor_inputs(folder, 512)
        say = [MOUTHPIECE, "say", SENTENCE, "-c", str(small), "-o", str(folder / "say.mp4")]
        floor = [ffmpeg, "-v", "error", "-y", "-loop", "1", "-i", str(still), "-i", str(wav), "-shortest",
                 "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
                 str(folder / "floor.mp4")]
        run(say)  # warm the file cache for both
        run(floor)
        says, floors, helps = [], [], []
        for _ in range(args.repeats):  # alternate, so drift in the machine's load hits both alike
            forget_videos(folder / "cache")
            says.append(run(say))
            floors.append(run(floor))
            helps.append(run([MOUTHPIECE, "--help"]))
        big = config(folder, 1080)
        shutil.rmtree(folder / "cache", ignore_errors=True)
        large = run([MOUTHPIECE, "say", LONG_SENTENCE, "--lang", "en", "-c", str(big), "-o", str(folder / "big.mp4")])
        shutil.rmtree(folder / "cache", ignore_errors=True)
        detected = run([MOUTHPIECE, "say", LONG_SENTENCE, "-c", str(big), "-o", str(folder / "big.mp4")])
    print(f"{args.repeats} alternating runs each, medians; this machine has {os.cpu_count()} cores")
    print(f"ffmpeg still-image floor:   {median(floors, 'wall'):.3f} s wall, {median(floors, 'cpu'):.3f} s CPU")
    print(f"mouthpiece say (512x512):   {median(says, 'wall'):.3f} s wall, {median(says, 'cpu'):.3f} s CPU")
    print(f"  say / floor:              {median(says, 'wall') / median(floors, 'wall'):.2f}x wall, "
          f"{median(says, 'cpu') / median(floors, 'cpu'):.2f}x CPU (target <= 1.6x)")
    print(f"mouthpiece --help:          {median(helps, 'wall'):.3f} s wall, {median(helps, 'cpu'):.3f} s CPU "
          "(target <= 0.3 s)")
    print(f"mouthpiece say (1080x1080): peak RSS {large.peak_mb:.0f} MB with --lang en, {detected.peak_mb:.0f} MB "
          "with the language detected (target <= 300 MB)")


if __name__ == "__main__":
    main()
