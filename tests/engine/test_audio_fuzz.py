"""Fuzzing the audio decoder: real files of every container, damaged at random.

Whatever the bytes, ``decode_audio`` gives finite samples in [-1, 1] or an
``AudioInputError`` with one clear line: never another exception, a hang or a crash.
Bounded: a fixed number of examples, each decoding at most a second of sound.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.audio import decode_audio
from engine.errors import AudioInputError
from tests.hostile_media import encode

SEEDS = (("clip.wav", "pcm_s16le", None, "stereo"), ("clip.flac", "flac", None, "5.1"),
         ("clip.mp3", "libmp3lame", None, "stereo"), ("clip.opus", "libopus", "ogg", "7.1"),
         ("clip.m4a", "aac", "mp4", "stereo"), ("clip.mka", "pcm_f32le", "matroska", "mono"),
         ("clip.ogg", "vorbis", "ogg", "stereo"))


Mutation = tuple[str, float, bytes]  # kind, where (a fraction of the length), bytes it uses

MUTATIONS = st.tuples(st.sampled_from(["flip", "overwrite", "insert", "cut", "zero"]),
                      st.floats(0.0, 1.0, allow_nan=False), st.binary(min_size=1, max_size=64))


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    folder = tmp_path_factory.mktemp("seeds")
    return [encode(folder / name, codec, container_format=container, layout=layout, rate=48_000, seconds=0.3)
            .read_bytes() for name, codec, container, layout in SEEDS]


def damage(data: bytes, mutations: list[Mutation]) -> bytes:
    damaged = bytearray(data)
    for kind, fraction, chunk in mutations:
        where = int(fraction * len(damaged))
        if kind == "flip" and where < len(damaged):
            damaged[where] ^= chunk[0] | 1
        elif kind == "overwrite":
            damaged[where:where + len(chunk)] = chunk
        elif kind == "insert":
            damaged[where:where] = chunk
        elif kind == "cut":
            del damaged[where:]
        elif kind == "zero":
            damaged[where:where + 8 * len(chunk)] = bytes(len(damaged[where:where + 8 * len(chunk)]))
    return bytes(damaged)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, len(SEEDS) - 1), mutations=st.lists(MUTATIONS, min_size=1, max_size=6))
def test_damaged_files_decode_or_are_refused(seeds: list[bytes], tmp_path: Path, seed: int,
                                             mutations: list[Mutation]) -> None:
    path = tmp_path / SEEDS[seed][0]
    path.write_bytes(damage(seeds[seed], mutations))
    try:
        speech = decode_audio(path, max_bytes=10**6, max_seconds=1.0)
    except AudioInputError as refusal:
        message = str(refusal)
        assert message and "\n" not in message
        return
    assert np.isfinite(speech.samples).all() and float(np.max(np.abs(speech.samples))) <= 1.0
    assert 0 < speech.duration <= 1.5
