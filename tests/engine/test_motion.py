from __future__ import annotations

import math

import pytest

from engine.motion import BLINK_INTERVAL, build_track, frame_count, head_amplitude, normalise_cues
from engine.types import Cue, Expression, Timeline, Viseme

FPS = 25
FRAME = 1 / FPS


def timeline(*cues: Cue, duration: float | None = None) -> Timeline:
    return Timeline(cues, duration if duration is not None else max(c.end for c in cues), "phonemes")


def speech(duration: float) -> Timeline:
    """Alternating open and closed shapes, 0.1 s each, like busy speech."""
    shapes = [Viseme.AI, Viseme.ETC, Viseme.O, Viseme.MBP, Viseme.E]
    cues = [Cue(i * 0.1, (i + 1) * 0.1, shapes[i % len(shapes)]) for i in range(int(duration * 10))]
    return timeline(*cues, duration=duration)


@pytest.mark.parametrize(("duration", "fps"), [(2.0, 25), (3.37, 25), (1.01, 30), (0.01, 25), (10.0, 60)])
def test_frame_count_matches_duration(duration: float, fps: int) -> None:
    frames = build_track(timeline(Cue(0.0, duration, Viseme.AI)), fps, width=512)
    assert len(frames) == frame_count(duration, fps)
    assert abs(len(frames) / fps - duration) <= 1 / fps or len(frames) == 1


def test_one_frame_mbp_cue_closes_the_lips() -> None:
    # p in "a-p-a" lasting 30 ms, straddling a frame boundary: shorter than one frame.
    start = 10 * FRAME + 0.6 * FRAME
    frames = build_track(
        timeline(
            Cue(0.0, start, Viseme.AI),
            Cue(start, start + 0.75 * FRAME, Viseme.MBP),
            Cue(start + 0.75 * FRAME, 1.0, Viseme.AI),
        ),
        FPS,
        width=512,
    )
    closed = [i for i, f in enumerate(frames) if f.mouth is Viseme.MBP]
    assert len(closed) == 1
    assert frames[closed[0]].mouth_blend < 0.5  # still reads as pressed lips
    assert closed[0] in (10, 11)


def test_short_cues_do_not_flicker() -> None:
    # A 15 ms "e" between two "o"s is not worth a frame of its own.
    frames = build_track(
        timeline(Cue(0.0, 0.5, Viseme.O), Cue(0.5, 0.515, Viseme.E), Cue(0.515, 1.0, Viseme.O)), FPS, width=512
    )
    assert all(f.mouth is Viseme.O for f in frames)
    merged = normalise_cues(
        [Cue(0.0, 0.5, Viseme.O), Cue(0.5, 0.515, Viseme.E), Cue(0.515, 1.0, Viseme.O)], 1.0, FRAME
    )
    assert [(c.start, c.end, c.viseme) for c in merged] == [(0.0, 1.0, Viseme.O)]


def test_gaps_are_rest_and_cover_the_duration() -> None:
    cues = normalise_cues([Cue(0.2, 0.5, Viseme.AI)], 1.0, FRAME)
    assert [c.viseme for c in cues] == [Viseme.REST, Viseme.AI, Viseme.REST]
    assert cues[0].start == 0.0 and cues[-1].end == 1.0
    assert all(a.end == b.start for a, b in zip(cues, cues[1:]))


def test_anticipation_blends_towards_next_shape() -> None:
    boundary = 12  # frame 12 is the first U frame
    cues = (Cue(0.0, boundary * FRAME, Viseme.AI), Cue(boundary * FRAME, 1.0, Viseme.U))
    frames = build_track(timeline(*cues), FPS, width=512)
    assert frames[boundary - 3].mouth_blend == 0.0  # far from the boundary: pure AI
    last = frames[boundary - 1]
    assert (last.mouth, last.mouth_next) == (Viseme.AI, Viseme.U)
    assert 0.0 < last.mouth_blend <= 0.7
    assert frames[boundary].mouth is Viseme.U


def test_anticipation_rises_as_the_boundary_approaches() -> None:
    blends = []
    for offset in (0.9, 0.6, 0.3):  # the boundary moves closer to frame 10's centre
        end = 10 * FRAME + offset * FRAME + 0.5 * FRAME
        frames = build_track(timeline(Cue(0.0, end, Viseme.AI), Cue(end, 1.0, Viseme.O)), FPS, width=512)
        assert frames[10].mouth is Viseme.AI and frames[10].mouth_next is Viseme.O
        blends.append(frames[10].mouth_blend)
    assert blends[0] < blends[1] < blends[2]


def test_weak_cue_blends_towards_rest() -> None:
    frames = build_track(timeline(Cue(0.0, 1.0, Viseme.AI, strength=0.25)), FPS, width=512)
    middle = frames[12]
    assert (middle.mouth, middle.mouth_next) == (Viseme.AI, Viseme.REST)
    assert middle.mouth_blend == pytest.approx(0.75)
    strong = build_track(timeline(Cue(0.0, 1.0, Viseme.AI)), FPS, width=512)[12]
    assert strong.mouth_blend == 0.0


def blink_starts(frames: list) -> list[int]:
    return [i for i, f in enumerate(frames) if f.eyes_closed > 0 and (i == 0 or frames[i - 1].eyes_closed == 0)]


def test_blinks_at_natural_intervals() -> None:
    frames = build_track(speech(20.0), FPS, width=512, seed=7)
    starts = blink_starts(frames)
    assert 20 / BLINK_INTERVAL[1] - 1 <= len(starts) <= 20 / BLINK_INTERVAL[0] + 1
    gaps = [(b - a) / FPS for a, b in zip(starts, starts[1:])]
    assert all(BLINK_INTERVAL[0] - FRAME <= g <= BLINK_INTERVAL[1] + FRAME for g in gaps)
    # Each blink: half → closed → half, then open again.
    for start in starts:
        assert [f.eyes_closed for f in frames[start : start + 4]] == [0.5, 1.0, 0.5, 0.0]


def test_track_is_deterministic_for_a_seed() -> None:
    first = build_track(speech(20.0), FPS, width=512, seed=3)
    assert first == build_track(speech(20.0), FPS, width=512, seed=3)
    other = build_track(speech(20.0), FPS, width=512, seed=4)
    assert blink_starts(first) != blink_starts(other)


@pytest.mark.parametrize("width", [256, 512, 1080])
def test_head_sway_stays_within_amplitude_and_is_smooth(width: int) -> None:
    frames = build_track(speech(30.0), FPS, width=width, seed=1)
    amplitude = head_amplitude(width)
    assert 0.01 * width <= amplitude <= 0.02 * width
    assert all(abs(f.head_x) <= amplitude and abs(f.head_y) <= amplitude for f in frames)
    assert max(abs(f.head_x) for f in frames) > 0.3 * amplitude  # it does move
    steps = [math.hypot(b.head_x - a.head_x, b.head_y - a.head_y) for a, b in zip(frames, frames[1:])]
    assert max(steps) < 0.15 * amplitude  # no jumps from one frame to the next


def test_head_nods_more_while_speaking() -> None:
    silence = build_track(timeline(Cue(0.0, 10.0, Viseme.REST)), FPS, width=512, seed=2)
    talking = build_track(timeline(Cue(0.0, 10.0, Viseme.AI)), FPS, width=512, seed=2)
    wiggle = lambda frames: sum(abs(b.head_y - a.head_y) for a, b in zip(frames, frames[1:]))  # noqa: E731
    assert wiggle(talking) > 1.5 * wiggle(silence)


def test_expression_passes_through() -> None:
    frames = build_track(speech(1.0), FPS, width=512, expression=Expression.HAPPY)
    assert {f.expression for f in frames} == {Expression.HAPPY}


def test_each_mood_carries_the_head_its_own_way() -> None:
    from engine.motion import head_reach
    from engine.sprite import MARGIN

    assert head_reach(512) < MARGIN * 512  # within the sprite's margin

    def carriage(expression: Expression) -> tuple[float, float, float]:
        frames = build_track(speech(20.0), FPS, width=512, expression=expression, seed=5)
        ys = [f.head_y for f in frames]
        steps = [math.hypot(b.head_x - a.head_x, b.head_y - a.head_y) for a, b in zip(frames, frames[1:])]
        assert max(max(abs(f.head_x), abs(f.head_y)) for f in frames) <= head_reach(512)  # the renderers' margin
        assert max(steps) < 0.4 * head_amplitude(512)  # smooth, even when quick
        return sum(ys) / len(ys), sum(steps) / len(steps), max(abs(f.head_x) for f in frames)

    level, pace, reach = zip(*(carriage(e) for e in Expression))
    mood = {e: i for i, e in enumerate(Expression)}
    neutral, happy, sad = mood[Expression.NEUTRAL], mood[Expression.HAPPY], mood[Expression.SAD]
    angry, surprised = mood[Expression.ANGRY], mood[Expression.SURPRISED]
    unit = head_amplitude(512)
    assert level[sad] > level[angry] > level[neutral] + 0.5 * unit  # hangs low; angry thrusts down
    assert level[surprised] < level[happy] < level[neutral]  # pulls up; happy lifts a little
    assert pace[happy] > 1.3 * pace[neutral] and pace[angry] > 1.3 * pace[neutral]
    assert pace[sad] < 0.6 * pace[neutral] and reach[sad] < reach[neutral] < reach[happy]
