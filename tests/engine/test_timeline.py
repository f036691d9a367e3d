from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine.timeline import from_speech, viseme_for
from engine.types import SAMPLE_RATE, Cue, PhonemeEvent, Speech, Timeline, Viseme


def assert_covers(timeline: Timeline) -> None:
    """Cues are sorted, non-empty, touch each other and span exactly [0, duration]."""
    cues = timeline.cues
    assert cues[0].start == 0.0
    assert cues[-1].end == pytest.approx(timeline.duration, abs=1e-9)
    for cue, following in itertools.pairwise(cues):
        assert cue.start < cue.end
        assert cue.end == pytest.approx(following.start, abs=1e-9)
        assert cue.viseme != following.viseme  # neighbours with one shape are merged
    assert all(0.0 <= cue.strength <= 1.0 for cue in cues)


def viseme_at(timeline: Timeline, t: float) -> Viseme:
    return next(cue.viseme for cue in timeline.cues if cue.start <= t < cue.end)


def tone(seconds: float, freq: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), np.float32)


# --- from phoneme events -------------------------------------------------------------


def test_phoneme_cues_span_to_the_next_event():
    speech = Speech(
        samples=silence(1.0),
        phonemes=[
            PhonemeEvent(0.10, "m"),
            PhonemeEvent(0.20, "'A:"),
            PhonemeEvent(0.40, "m"),
            PhonemeEvent(0.50, "a#"),
            PhonemeEvent(0.60, "_:"),
        ],
    )

    timeline = from_speech(speech, fps=25)

    assert timeline.source == "phonemes"
    assert timeline.duration == 1.0
    assert timeline.cues == (
        Cue(0.0, 0.10, Viseme.REST),
        Cue(0.10, 0.20, Viseme.MBP),
        Cue(0.20, 0.40, Viseme.AI),
        Cue(0.40, 0.50, Viseme.MBP),
        Cue(0.50, 0.60, Viseme.AI),
        Cue(0.60, 1.0, Viseme.REST),
    )


def test_phoneme_cues_merge_and_stay_inside_the_clip():
    speech = Speech(
        samples=silence(0.5),
        phonemes=[
            PhonemeEvent(0.0, "_"),
            PhonemeEvent(0.0, "s"),
            PhonemeEvent(0.1, "t"),  # s and t are both ETC: one cue
            PhonemeEvent(0.2, "f"),
            PhonemeEvent(0.3, "_:"),
            PhonemeEvent(0.3, "_"),
            PhonemeEvent(0.7, "O:"),  # after the end of the audio
        ],
    )

    timeline = from_speech(speech, fps=25)

    assert_covers(timeline)
    assert [cue.viseme for cue in timeline.cues] == [Viseme.ETC, Viseme.FV, Viseme.REST]
    assert timeline.cues[0] == Cue(0.0, 0.2, Viseme.ETC)


@pytest.mark.parametrize(
    ("phoneme", "viseme"),
    [
        ("p", Viseme.MBP),
        ("b", Viseme.MBP),
        ("m", Viseme.MBP),
        ("f", Viseme.FV),
        ("v", Viseme.FV),
        ("w", Viseme.WQ),
        ("l", Viseme.L),
        ("T", Viseme.L),  # thin
        ("D", Viseme.L),  # this
        ("@L", Viseme.L),  # bottle
        ("t", Viseme.ETC),
        ("d", Viseme.ETC),
        ("s", Viseme.ETC),
        ("S", Viseme.ETC),
        ("tS", Viseme.ETC),
        ("dZ", Viseme.ETC),
        ("N", Viseme.ETC),
        ("r", Viseme.ETC),
        ("j", Viseme.ETC),
        ("h", Viseme.ETC),
        ("a", Viseme.AI),
        ("a#", Viseme.AI),
        ("'A:", Viseme.AI),
        ("aI", Viseme.AI),
        ("aU", Viseme.AI),
        ("V", Viseme.AI),  # strut: a vowel, not the consonant v
        ("e", Viseme.E),
        ("E", Viseme.E),
        (",eI", Viseme.E),
        ("i:", Viseme.E),
        ("I", Viseme.E),
        ("@", Viseme.E),
        ("3:", Viseme.E),
        ("o", Viseme.O),
        ("O:", Viseme.O),
        ("'oU", Viseme.O),
        ("OI", Viseme.O),
        ("u:", Viseme.U),
        ("U", Viseme.U),
        ("_", Viseme.REST),
        ("_:", Viseme.REST),
        ("_!", Viseme.REST),
        ("E:", Viseme.E),  # length stripped when only the short form is charted
        ("B", Viseme.MBP),  # case folded as a last resort
        ("e~", Viseme.E),  # nasal vowels take their oral vowel's shape
        ("O~", Viseme.O),
        ("W", Viseme.O),  # French œ: a rounded vowel, not the consonant w
        ("Y", Viseme.O),  # ø
        ("y", Viseme.U),
        ("ua", Viseme.AI),  # Mandarin: the nucleus of a diphthong shapes the mouth
        ("'iou", Viseme.O),
        ("ing", Viseme.E),  # Cantonese finals
        ("p\\", Viseme.MBP),  # Japanese ɸ
        ("tS;h", Viseme.ETC),
        ("Q", Viseme.ETC),  # unknown consonant
    ],
)
def test_phoneme_chart(phoneme: str, viseme: Viseme):
    assert viseme_for(phoneme) == viseme


# --- from the audio itself -----------------------------------------------------------


def test_pause_between_bursts_is_rest():
    samples = np.concatenate([tone(0.8, 220), silence(1.2), tone(0.8, 220)])

    timeline = from_speech(Speech(samples), fps=25)

    assert timeline.source == "audio"
    assert timeline.duration == pytest.approx(2.8)
    assert_covers(timeline)
    assert all(viseme_at(timeline, t) == Viseme.REST for t in np.arange(0.84, 1.96, 0.04))
    for t in (*np.arange(0.0, 0.76, 0.04), *np.arange(2.04, 2.76, 0.04)):
        assert viseme_at(timeline, t) != Viseme.REST


def test_pause_with_background_noise_is_rest():
    rng = np.random.default_rng(0)
    speechy = np.concatenate([tone(1.0, 300) + tone(1.0, 1200, 0.2), silence(1.5), tone(1.0, 500)])
    noisy = (speechy + rng.normal(0, 0.003, len(speechy))).astype(np.float32)  # hiss at about -50 dBFS

    timeline = from_speech(Speech(noisy), fps=30)

    assert_covers(timeline)
    assert all(viseme_at(timeline, t) == Viseme.REST for t in np.arange(1.05, 2.45, 1 / 30))
    assert viseme_at(timeline, 0.5) != Viseme.REST and viseme_at(timeline, 3.0) != Viseme.REST


@pytest.mark.parametrize("fps", [24, 25, 30, 60])
def test_audio_cues_cover_the_clip_at_any_frame_rate(fps: int):
    rng = np.random.default_rng(fps)
    samples = np.concatenate([silence(0.3), rng.normal(0, 0.2, 20_011).astype(np.float32), silence(0.25)])

    timeline = from_speech(Speech(samples), fps=fps)

    assert_covers(timeline)
    assert timeline.cues[0].viseme == Viseme.REST and timeline.cues[-1].viseme == Viseme.REST


@pytest.mark.parametrize(
    ("signal", "shapes"),
    [
        (tone(0.4, 200), {Viseme.U}),  # all energy low: rounded small
        (tone(0.4, 700), {Viseme.O}),  # below 1 kHz, higher: rounded open
        (tone(0.4, 1100), {Viseme.AI}),  # mid: open
        (tone(0.4, 2500), {Viseme.E}),  # higher: wide
        (tone(0.4, 6000), {Viseme.ETC}),  # mostly above 4 kHz: a sibilant
    ],
)
def test_spectrum_picks_the_shape(signal: np.ndarray, shapes: set[Viseme]):
    timeline = from_speech(Speech(signal), fps=25)

    assert {cue.viseme for cue in timeline.cues} == shapes


def test_strength_follows_loudness():
    samples = np.concatenate([tone(0.5, 300, 0.5), tone(0.5, 1100, 0.05), silence(0.5)])

    cues = from_speech(Speech(samples), fps=25).cues

    loud, quiet = cues[0], cues[1]
    assert (loud.viseme, quiet.viseme) == (Viseme.U, Viseme.AI)
    assert loud.strength > 0.9 and quiet.strength < 0.5 * loud.strength


def test_empty_audio_has_no_cues():
    timeline = from_speech(Speech(np.zeros(0, np.float32)), fps=25)

    assert timeline.cues == () and timeline.duration == 0.0


def test_ten_minutes_of_audio_give_a_covering_timeline():
    rng = np.random.default_rng(1)
    samples = (rng.normal(0, 0.1, 600 * SAMPLE_RATE) * np.sin(np.linspace(0, 3000, 600 * SAMPLE_RATE)) ** 2).astype(
        np.float32
    )

    timeline = from_speech(Speech(samples), fps=25)

    assert_covers(timeline)
    assert timeline.duration == 600.0
