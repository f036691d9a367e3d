"""timeline → motion track: one ``MotionFrame`` per video frame.

The mouth follows the timeline's cues with co-articulation (it starts moving
towards the next shape just before the boundary), cues too short to be seen are
folded into their neighbours except lip closures, the eyes blink at natural
random intervals and the head sways gently, nodding a little more while speaking, and
tilts slowly from side to side; the mood sets how the head is carried (``BEARINGS``).
Everything random comes from ``seed``, so a track is reproducible.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from engine.types import Cue, Expression, MotionFrame, Timeline, Viseme

LOOKAHEAD_FRAMES = 1.0  # how far ahead of a boundary the mouth starts to change
MAX_ANTICIPATION = 0.7  # blend reached right at the boundary
MBP_MAX_BLEND = 0.3  # a closure must still read as pressed lips
BLINK_INTERVAL = (2.0, 6.0)  # seconds between blinks
FIRST_BLINK = (0.5, 3.0)
BLINK_SECONDS = 0.12  # closing and opening: 3 frames at 25 fps
SWAY_FRACTION = 0.015  # head sway amplitude, as a share of the frame width
_SWAY_X = ((0.6, 0.13), (0.4, 0.29))  # (share of the amplitude, Hz): slow and aperiodic
_SWAY_Y = ((0.3, 0.11), (0.2, 0.23))
_BOB = (0.25, 1.5)  # speech nod (share, Hz), scaled by the current speech energy
TILT_DEGREES = 1.0  # the most the head tilts either way
_TILT = ((0.7, 0.07), (0.3, 0.17))
ENERGY_SECONDS = 0.3  # smoothing of speech energy, so the nod swells and fades
_EPSILON = 1e-6


@dataclass(frozen=True)
class Bearing:
    """How a mood carries the head: scales of the sway (size, speed) and of the speech nod, and a
    steady offset down (+) or up (-), in sway amplitudes."""

    sway: float = 1.0
    speed: float = 1.0
    nod: float = 1.0
    drop: float = 0.0


#: Happy bounces, sad hangs low and slow, angry is tense, quick and thrust down, surprised pulls up.
BEARINGS = {
    Expression.NEUTRAL: Bearing(),
    Expression.HAPPY: Bearing(sway=1.3, speed=1.5, nod=2.2, drop=-0.4),
    Expression.SAD: Bearing(sway=0.5, speed=0.55, nod=0.4, drop=1.6),
    Expression.ANGRY: Bearing(sway=0.45, speed=2.2, nod=1.6, drop=0.8),
    Expression.SURPRISED: Bearing(sway=0.8, speed=1.2, nod=0.8, drop=-1.4),
}


def frame_count(duration: float, fps: int) -> int:
    """Frames of a video that lasts ``duration`` seconds (within half a frame)."""
    return max(1, round(duration * fps))


def head_amplitude(width: int) -> float:
    """The sway amplitude, in pixels, for ``width``: a neutral head moves at most this far."""
    return SWAY_FRACTION * width


def head_reach(width: int) -> float:
    """The largest head offset, in pixels, ``build_track`` produces for ``width`` in any mood: the
    margin a renderer keeps so head motion never shows an edge."""
    sway_x, sway_y, nod = (sum(share for share, _ in waves) for waves in (_SWAY_X, _SWAY_Y, (_BOB,)))
    return head_amplitude(width) * max(max(b.sway * sway_x, abs(b.drop) + b.sway * sway_y + b.nod * nod)
                                       for b in BEARINGS.values())


def build_track(
    timeline: Timeline,
    fps: int,
    *,
    width: int,
    expression: Expression = Expression.NEUTRAL,
    seed: int = 0,
) -> list[MotionFrame]:
    """One ``MotionFrame`` per video frame; frame ``i`` covers [i / fps, (i + 1) / fps)."""
    count = frame_count(timeline.duration, fps)
    rng = random.Random(seed)
    phases = [rng.uniform(0.0, 2.0 * math.pi) for _ in range(len(_SWAY_X) + len(_SWAY_Y) + 1)]
    eyes = blink_track(count, fps, rng)
    cues = normalise_cues(timeline.cues, timeline.duration, 1.0 / fps)
    winners = _frame_winners(cues, count, fps)
    energy = _smoothed_energy([cues[k] for k in winners], fps)
    amplitude, bearing = head_amplitude(width), BEARINGS[expression]
    # Its own generator, so adding the tilt left every other motion of a seed as it was.
    tilt_phases = [random.Random(seed ^ 0x7117).uniform(0.0, 2.0 * math.pi) for _ in _TILT]
    frames = []
    for i, k in enumerate(winners):
        mouth, mouth_next, blend = _mouth_pose(cues, k, (i + 0.5) / fps, fps)
        head_x, head_y = _head_offset(i / fps, amplitude, phases, energy[i], bearing)
        tilt = TILT_DEGREES * _waves(i / fps, _TILT, tilt_phases)
        frames.append(MotionFrame(mouth, mouth_next, blend, eyes[i], head_x, head_y, expression, tilt))
    return frames


def normalise_cues(cues: Sequence[Cue], duration: float, frame: float) -> list[Cue]:
    """Contiguous cues over [0, duration]: gaps are REST, runs of sub-frame cues are merged.

    A run of cues each shorter than ``frame`` becomes its dominant shape when the run
    lasts a frame or more, else it extends the previous cue; MBP is never folded away.
    """
    merged: list[Cue] = []
    run: list[Cue] = []
    for cue in _fill_gaps(cues, duration):
        if cue.end - cue.start < frame and cue.viseme is not Viseme.MBP:
            run.append(cue)
            continue
        _flush_run(merged, run, frame)
        run = []
        _append(merged, cue)
    _flush_run(merged, run, frame)
    return merged or [Cue(0.0, max(duration, _EPSILON), Viseme.REST)]


def _fill_gaps(cues: Sequence[Cue], duration: float) -> list[Cue]:
    filled: list[Cue] = []
    t = 0.0
    for cue in sorted(cues, key=lambda c: c.start):
        start, end = max(cue.start, t), min(cue.end, duration)
        if start - t > _EPSILON:
            filled.append(Cue(t, start, Viseme.REST))
        if end - start > _EPSILON:
            filled.append(Cue(start, end, cue.viseme, cue.strength))
            t = end
    if duration - t > _EPSILON:
        filled.append(Cue(t, duration, Viseme.REST))
    return filled


def _flush_run(merged: list[Cue], run: list[Cue], frame: float) -> None:
    if not run:
        return
    start, end = run[0].start, run[-1].end
    if merged and end - start < frame:
        merged[-1] = replace(merged[-1], end=end)
        return
    dominant = max(run, key=lambda c: (c.end - c.start) * c.strength)
    _append(merged, Cue(start, end, dominant.viseme, dominant.strength))


def _append(merged: list[Cue], cue: Cue) -> None:
    """Append ``cue``, joining it to the last one when the shape is the same."""
    if merged and merged[-1].viseme is cue.viseme:
        last = merged[-1]
        strength = (last.strength * (last.end - last.start) + cue.strength * (cue.end - cue.start)) / (
            cue.end - last.start
        )
        merged[-1] = Cue(last.start, cue.end, cue.viseme, strength)
    else:
        merged.append(cue)


def _frame_winners(cues: list[Cue], count: int, fps: int) -> list[int]:
    """For each frame, the index of the cue covering most of it; every MBP cue wins a frame."""
    winners: list[int] = []
    k = 0
    for i in range(count):
        lo, hi = i / fps, (i + 1) / fps
        while k + 1 < len(cues) and cues[k].end <= lo:
            k += 1
        best, best_overlap, j = k, -1.0, k
        while j < len(cues) and cues[j].start < hi:
            overlap = min(hi, cues[j].end) - max(lo, cues[j].start)
            if overlap > best_overlap:
                best, best_overlap = j, overlap
            j += 1
        winners.append(best)
    shown = set(winners)
    for k, cue in enumerate(cues):
        if cue.viseme is Viseme.MBP and k not in shown:
            winners[min(count - 1, int((cue.start + cue.end) / 2 * fps))] = k
    return winners


def _mouth_pose(cues: list[Cue], k: int, t: float, fps: int) -> tuple[Viseme, Viseme, float]:
    """(mouth, mouth_next, mouth_blend) at time ``t`` (a frame's centre) inside cue ``k``."""
    cue = cues[k]
    if k + 1 < len(cues):
        to_boundary = max(0.0, cue.end - t) * fps
        anticipation = MAX_ANTICIPATION * (1.0 - to_boundary / LOOKAHEAD_FRAMES)
        if anticipation > 0.0:
            limit = MBP_MAX_BLEND if cue.viseme is Viseme.MBP else 1.0
            return cue.viseme, cues[k + 1].viseme, min(anticipation, limit)
    if cue.strength < 1.0 and cue.viseme not in (Viseme.REST, Viseme.MBP):
        # A weakly formed shape (quiet speech) sits part way to the relaxed mouth.
        return cue.viseme, Viseme.REST, 1.0 - max(cue.strength, 0.0)
    return cue.viseme, cue.viseme, 0.0


def blink_track(count: int, fps: int, rng: random.Random) -> list[float]:
    """``eyes_closed`` per frame: blinks (open → half → closed → half → open) at random intervals."""
    shape = _blink_shape(fps)
    eyes = [0.0] * count
    t = rng.uniform(*FIRST_BLINK)
    while (start := round(t * fps)) < count:
        for offset, closed in enumerate(shape[: count - start]):
            eyes[start + offset] = closed
        t += rng.uniform(*BLINK_INTERVAL)
    return eyes


def _blink_shape(fps: int) -> list[float]:
    # An odd number of frames, so the middle one is fully closed.
    frames = max(3, 2 * int(BLINK_SECONDS * fps / 2) + 1)
    middle = (frames + 1) / 2
    return [1.0 - abs(k - middle) / middle for k in range(1, frames + 1)]


def _smoothed_energy(cues: list[Cue], fps: int) -> list[float]:
    alpha = 1.0 - math.exp(-1.0 / (ENERGY_SECONDS * fps))
    level, energy = 0.0, []
    for cue in cues:
        target = 0.0 if cue.viseme is Viseme.REST else min(max(cue.strength, 0.0), 1.0)
        level += alpha * (target - level)
        energy.append(level)
    return energy


def _waves(t: float, components: tuple[tuple[float, float], ...], phases: list[float]) -> float:
    return sum(share * math.sin(2.0 * math.pi * hz * t + p) for (share, hz), p in zip(components, phases))


def _head_offset(t: float, amplitude: float, phases: list[float], energy: float,
                 bearing: Bearing) -> tuple[float, float]:
    t *= bearing.speed  # the same waves, quicker or slower
    x = bearing.sway * _waves(t, _SWAY_X, phases[: len(_SWAY_X)])
    y = (bearing.drop + bearing.sway * _waves(t, _SWAY_Y, phases[len(_SWAY_X) : -1])
         + bearing.nod * energy * _waves(t, (_BOB,), phases[-1:]))
    return amplitude * x, amplitude * y
