"""No clip can take the bot down: each hostile file renders, or is refused with one clear line.

Never a signal, a hang, a traceback or a partial file. The corpus is in ``tests.hostile_media``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from core.cli import app
from engine.audio import decode_audio
from engine.errors import AudioInputError
from tests.hostile_media import BLOCKING, CORPUS, MUST_DECODE, encode

MAX_BYTES, MAX_SECONDS = 50 * 2**20, 300.0


def clear_line(message: str) -> bool:
    return "\n" not in message and "Traceback" not in message and 20 < len(message) < 300


@pytest.mark.parametrize("case", sorted(set(CORPUS) - BLOCKING))
def test_each_file_decodes_or_is_refused_in_one_line(case: str, tmp_path: Path) -> None:
    path = CORPUS[case](tmp_path)
    try:
        speech = decode_audio(path, max_bytes=MAX_BYTES, max_seconds=MAX_SECONDS)
    except AudioInputError as refusal:
        assert case not in MUST_DECODE, f"{case}: {refusal}"
        assert clear_line(str(refusal)), str(refusal)
        return
    samples = speech.samples
    assert samples.dtype == np.float32 and np.isfinite(samples).all()
    assert float(np.max(np.abs(samples))) <= 1.0
    if case in MUST_DECODE:
        assert 0.45 <= speech.duration <= 0.65, speech.duration


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[agent]\ndatabase = "{tmp_path}/state.db"\n'
                    f'[engine]\nwidth = 64\nheight = 64\ncache_dir = "{tmp_path}/cache"\n')
    return path


def partial_files(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if ".part" in p.name]


# One of each kind: renders from the command line, and refusals of every sort.
CLI_CASES = ("wav 22.2", "opus 7.1", "m4a 7.1", "wav 64 unordered channels", "wav at 192000 Hz",
             "float wav with NaN and infinities", "mp3 with 8 MB of cover art", "m4a cut to 0.6", "wav cut to 200",
             "zero-length", "character device", "directory", "random bytes", "float wav only NaN")


@pytest.mark.parametrize("case", CLI_CASES)
def test_the_command_line_renders_or_exits_1_with_one_line(case: str, config: Path, tmp_path: Path) -> None:
    clip = CORPUS[case](tmp_path)
    out = tmp_path / "out.mp4"
    result = CliRunner().invoke(app, ["avatar", str(clip), "-o", str(out), "-c", str(config)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if case in MUST_DECODE:
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 0
    else:
        assert result.exit_code == 1
        [line] = result.output.splitlines()
        assert line.startswith("error: ") and clear_line(line), line
        assert not out.exists()
    assert partial_files(tmp_path / "cache") == []


def test_a_fifo_and_an_eight_channel_clip_in_a_real_process(config: Path, tmp_path: Path) -> None:
    """What once hung the command forever, and what once killed it with a segmentation fault."""
    command = str(Path(sys.executable).with_name("mouthpiece"))
    fifo = CORPUS["FIFO"](tmp_path)
    refused = subprocess.run([command, "avatar", str(fifo), "-o", str(tmp_path / "f.mp4"), "-c", str(config)],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.startswith("error: 'voice.wav' is not a regular file") and refused.stderr.count("\n") == 1
    clip = encode(tmp_path / "ch8.ogg", "libopus", layout="7.1", rate=48_000, container_format="ogg")
    made = subprocess.run([command, "avatar", str(clip), "-o", str(tmp_path / "ch8.mp4"), "-c", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "ch8.mp4").stat().st_size > 0 and made.stderr == ""
    assert partial_files(tmp_path / "cache") == [] and os.path.exists(fifo)
