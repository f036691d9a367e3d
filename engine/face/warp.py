"""Moving a photographed face: the lower face per mouth shape, the eyelids, the brows.

Each moving part has its own frame of reference from the landmarks: the mouth's origin is
between its corners, ``s`` runs along it (±1 at the corners) and ``t`` down from it, both
in half-mouth widths; each eye likewise. A pose moves the inner lip lines to the shape's
opening (whatever the photo's own mouth does: an open photo mouth is closed for rest and
m/b/p), the jaw and chin with the lower lip, the corners out (wide), in (round) or up
(smile); every displacement fades smoothly into the still face around it. Pixels are
pulled from where the displacement says they came from (a backward warp, bilinear); the
mouth's opening is then drawn in at the face's scale and colours: dark cavity, upper
teeth (lower ones for wide shapes), tongue.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from engine.face.geometry import (
    Curve,
    LocalFrame,
    draw_line,
    grid,
    polygon_mask,
    sample,
    smoothstep,
    taper,
    upsample,
)
from engine.face.landmarks import Landmarks
from engine.types import Expression, Viseme

UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LOWER_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
UPPER_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LOWER_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
MOUTH_CORNERS = (61, 291)
CHIN, SUBNASALE = 152, 2
EYES = (  # corners, upper lid, lower lid, brow: the person's right eye, then left
    ((33, 133), (246, 161, 160, 159, 158, 157, 173), (7, 163, 144, 145, 153, 154, 155), (70, 63, 105, 66, 107)),
    ((362, 263), (398, 384, 385, 386, 387, 388, 466), (382, 381, 380, 374, 373, 390, 249), (336, 296, 334, 293, 300)),
)


@dataclass(frozen=True)
class MouthPose:
    gap: float = 0.0  # inner lip opening at the middle, in half-mouth widths
    spread: float = 0.0  # corners out (+) or in (-), same unit
    teeth: float = 0.0  # upper teeth shown below the upper lip, same unit
    lower_teeth: float = 0.0
    tongue: float = 0.0  # tongue height above the lower lip, as a share of the opening
    press: float = 0.0  # lips pressed thin (m, b, p)

    def towards(self, other: MouthPose, share: float) -> MouthPose:
        """The pose ``share`` of the way to ``other``: a mouth moving between two shapes."""
        return MouthPose(*(getattr(self, f.name) * (1 - share) + getattr(other, f.name) * share
                           for f in fields(self)))


VISEMES: dict[Viseme, MouthPose] = {
    Viseme.REST: MouthPose(),
    Viseme.MBP: MouthPose(spread=-0.03, press=0.08),
    Viseme.FV: MouthPose(gap=0.1, teeth=0.16),
    Viseme.AI: MouthPose(gap=0.6, spread=0.04, teeth=0.14, tongue=0.3),
    Viseme.E: MouthPose(gap=0.3, spread=0.14, teeth=0.12, lower_teeth=0.06, tongue=0.1),
    Viseme.O: MouthPose(gap=0.5, spread=-0.2, teeth=0.08, tongue=0.25),
    Viseme.U: MouthPose(gap=0.22, spread=-0.3, teeth=0.04),
    Viseme.WQ: MouthPose(gap=0.14, spread=-0.34),
    Viseme.L: MouthPose(gap=0.36, spread=0.02, teeth=0.12, tongue=0.6),
    Viseme.ETC: MouthPose(gap=0.16, spread=0.08, teeth=0.08, lower_teeth=0.05),
}


@dataclass(frozen=True)
class Mood:
    smile: float = 0.0  # mouth corners up (+) or down (-), in half-mouth widths
    brows: float = 0.0  # brows up (+) or down (-), in half-eye widths
    inner_brows: float = 0.0  # the inner ends only (sad up, angry down)


MOODS: dict[Expression, Mood] = {
    Expression.NEUTRAL: Mood(),
    Expression.HAPPY: Mood(smile=0.16, brows=0.08),
    Expression.SAD: Mood(smile=-0.1, inner_brows=0.22),
    Expression.SURPRISED: Mood(brows=0.32),
    Expression.ANGRY: Mood(smile=-0.04, brows=-0.08, inner_brows=-0.22),
}

Box = tuple[int, int, int, int]  # top, left, bottom, right
LASHES = 0.22  # half-eye widths above the upper lid's line that its lashes cover


class FaceRig:
    """A portrait and its landmarks: warped mouths and eyes, as patches of the portrait."""

    def __init__(self, portrait: np.ndarray, face: Landmarks, margin: int = 4) -> None:
        self.portrait = portrait
        p = face.points.astype(np.float32)
        self.mouth_frame = LocalFrame(p[MOUTH_CORNERS[0]], p[MOUTH_CORNERS[1]])
        m = self.mouth_frame
        self.upper = Curve(m, p[list(UPPER_INNER)])
        self.lower = Curve(m, p[list(LOWER_INNER)])
        self.upper_outer = Curve(m, p[list(UPPER_OUTER)])
        self.lower_outer = Curve(m, p[list(LOWER_OUTER)])
        self.chin_t = float(m.local(p[CHIN:CHIN + 1, 0], p[CHIN:CHIN + 1, 1])[1][0])
        self.nose_t = float(m.local(p[SUBNASALE:SUBNASALE + 1, 0], p[SUBNASALE:SUBNASALE + 1, 1])[1][0])
        frames = [(LocalFrame(p[c[0]], p[c[1]]), up, lo, brow) for c, up, lo, brow in EYES]
        self.eye_curves = [(f, Curve(f, p[list(up)]), Curve(f, p[list(lo)]), p[list(brow)].mean(axis=0))
                           for f, up, lo, brow in frames]
        self.lip_colour, self.skin_colour = self._colours(p)
        self.mouth_box = self._box(self._mouth_reach(), margin)
        self.eyes_box = self._box(self._eyes_reach(), margin)
        if self.eyes_box[2] > self.mouth_box[0]:  # the patches must not overlap: split the difference
            middle = (self.eyes_box[2] + self.mouth_box[0]) // 4 * 2
            self.eyes_box = (self.eyes_box[0], self.eyes_box[1], middle, self.eyes_box[3])
            self.mouth_box = (middle, self.mouth_box[1], self.mouth_box[2], self.mouth_box[3])

    # -- regions ------------------------------------------------------------------------

    def _mouth_reach(self) -> np.ndarray:
        m = self.mouth_frame
        s = np.array([-2.6, 2.6, -2.6, 2.6])
        t = np.array([self.nose_t, self.nose_t, self.chin_t + 1.0, self.chin_t + 1.0])
        return np.stack(m.pixels(s, t), -1)

    def _eyes_reach(self) -> np.ndarray:
        corners = []
        for f, _, _, brow in self.eye_curves:
            _, bt = f.local(np.array([brow[0]]), np.array([brow[1]]))
            s = np.array([-1.9, 1.9, -1.9, 1.9])
            t = np.array([bt[0] - 1.4, bt[0] - 1.4, 0.6, 0.6])
            corners.append(np.stack(f.pixels(s, t), -1))
        return np.concatenate(corners)

    def _box(self, corners: np.ndarray, margin: int) -> Box:
        h, w = self.portrait.shape[:2]
        lo = np.floor(corners.min(axis=0)).astype(int) - margin
        hi = np.ceil(corners.max(axis=0)).astype(int) + margin
        top, left = max(0, int(lo[1]) // 2 * 2), max(0, int(lo[0]) // 2 * 2)
        bottom, right = min(h, int(hi[1]) // 2 * 2 + 2), min(w, int(hi[0]) // 2 * 2 + 2)
        return top, left, bottom, right

    def _colours(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lips = (p[list(UPPER_OUTER[2:-2])] + p[list(UPPER_INNER[2:-2])]) / 2
        lips = np.concatenate([lips, (p[list(LOWER_OUTER[2:-2])] + p[list(LOWER_INNER[2:-2])]) / 2])
        cheeks = p[[50, 280, 101, 330]]

        def mean(points: np.ndarray) -> np.ndarray:
            xs = np.clip(points[:, 0].round().astype(int), 0, self.portrait.shape[1] - 1)
            ys = np.clip(points[:, 1].round().astype(int), 0, self.portrait.shape[0] - 1)
            return self.portrait[ys, xs].astype(np.float32).mean(axis=0)

        return mean(lips), mean(cheeks)

    # -- the mouth ------------------------------------------------------------------------

    def mouth(self, viseme: Viseme | MouthPose, expression: Expression = Expression.NEUTRAL) -> np.ndarray:
        """The mouth region (``mouth_box``) with the lower face in ``viseme``'s shape (or a pose)."""
        pose, mood = VISEMES[viseme] if isinstance(viseme, Viseme) else viseme, MOODS[expression]
        top, left, bottom, right = self.mouth_box
        ys, xs = np.mgrid[top:bottom, left:right].astype(np.float32)
        m = self.mouth_frame
        s, t = m.local(xs, ys)
        upper_to, lower_to = self._lip_targets(pose, mood)
        below = t > (np.interp(s, *upper_to) + np.interp(s, *lower_to)) / 2
        # Backward warp: where each output pixel came from, by fixed-point iteration. Each side of
        # the lips moves smoothly, so its field is found on a coarse grid and interpolated; each
        # pixel then takes its own side's.
        rows, cols = grid(bottom - top), grid(right - left)
        cs, ct = s[np.ix_(rows, cols)], t[np.ix_(rows, cols)]
        edge_fade = taper(s.shape)[np.ix_(rows, cols)]  # nothing moves at the patch's edges: no seam
        fields = []
        for side in (False, True):
            qs, qt = cs, ct
            for _ in range(2):
                ds, dt = self._mouth_shift(qs, qt, np.full(cs.shape, side), pose, mood)
                qs, qt = cs - ds * edge_fade, ct - dt * edge_fade
            fields.append((upsample(qs - cs, rows, cols), upsample(qt - ct, rows, cols)))
        (us, ut), (ls, lt) = fields
        sx, sy = m.pixels(s + np.where(below, ls, us), t + np.where(below, lt, ut))
        patch = sample(self.portrait, sx, sy)
        self._draw_crease(patch, upper_to, lower_to, (top, left))
        self._draw_opening(patch, s, t, upper_to, lower_to, pose, (top, left))
        return patch

    def _draw_crease(self, patch: np.ndarray, upper_to: tuple[np.ndarray, np.ndarray],
                     lower_to: tuple[np.ndarray, np.ndarray], offset: tuple[int, int]) -> None:
        """The soft dark line where closed lips meet (it also hides the seam of the two warps)."""
        middle = (upper_to[1] + np.interp(upper_to[0], *lower_to)) / 2
        draw_line(patch, self.mouth_frame, upper_to[0], middle, offset, self.lip_colour * 0.45, 0.75)

    def _mouth_shift(self, s: np.ndarray, t: np.ndarray, below: np.ndarray, pose: MouthPose,
                     mood: Mood) -> tuple[np.ndarray, np.ndarray]:
        """Displacement (along, down) of the face point at (s, t), in half-mouth widths."""
        upper, lower = self.upper(s), self.lower(s)
        inside = np.clip(1.0 - s * s, 0.0, 1.0)
        change = pose.gap * inside**0.75 - np.maximum(lower - upper, 0.0) * (inside > 0)
        middle = pose.gap - max(float(self.lower(np.zeros(1))[0] - self.upper(np.zeros(1))[0]), 0.0)
        line = np.where(below, lower, upper)
        # Below: the lower lip follows the opening; further down the jaw carries it evenly,
        # fading out towards the jaw's corners and below the chin.
        k = smoothstep((t - line) / 0.7)
        jaw = np.cos(np.pi / 2 * np.clip(np.abs(s) / 2.4, 0, 1)) ** 2
        neck = 1.0 - smoothstep((t - self.chin_t) / 0.9)
        down = 0.8 * (change * (1 - k) + middle * jaw * k) * neck
        # Above: the upper lip lifts a little, fading out at the nose.
        up = -0.2 * change * smoothstep((t - self.nose_t) / max(float(self.upper(np.zeros(1))[0]) - self.nose_t, 0.1))
        dt = np.where(below, down, up)
        # Pressed lips: both lips roll in towards the line a little.
        if pose.press:
            dt += pose.press * np.where(below, -1.0, 1.0) * np.exp(-((t - line) / 0.35) ** 2) * inside
        # Corners out or in, and up for a smile, fading with distance from the mouth.
        near = np.exp(-((t - (upper + lower) / 2) / 0.75) ** 2)
        far = np.abs(s)
        reach = np.where(far <= 1, s, np.sign(s) * np.exp(-((far - 1) / 0.8) ** 2))
        ds = (pose.spread + 0.5 * mood.smile) * reach * near
        if mood.smile:
            dt = dt - mood.smile * np.minimum(far, 1.4) ** 2 * np.exp(-np.maximum(far - 1.4, 0) ** 2) * near
        return ds, dt

    def _lip_targets(self, pose: MouthPose, mood: Mood) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """The inner lip lines after the pose: (s, t) samples of the upper one, then the lower one."""
        s = np.linspace(-1.0, 1.0, 41, dtype=np.float32)
        lines = []
        for below, curve in ((False, self.upper), (True, self.lower)):
            t = curve(s)
            ds, dt = self._mouth_shift(s, t, np.full(s.shape, below), pose, mood)
            lines.append((s + ds, t + dt))
        return tuple(lines)

    def _draw_opening(self, patch: np.ndarray, s: np.ndarray, t: np.ndarray,
                      upper_to: tuple[np.ndarray, np.ndarray], lower_to: tuple[np.ndarray, np.ndarray],
                      pose: MouthPose, offset: tuple[int, int]) -> None:
        """Paint the inside of the open mouth between the moved inner lip lines."""
        if pose.gap <= 0.0:
            return
        m = self.mouth_frame
        ring = np.stack(m.pixels(np.concatenate([upper_to[0], lower_to[0][::-1]]),
                                 np.concatenate([upper_to[1], lower_to[1][::-1]])), -1) - (offset[1], offset[0])
        lo = np.maximum(np.floor(ring.min(axis=0)).astype(int) - 1, 0)
        hi = np.minimum(np.ceil(ring.max(axis=0)).astype(int) + 2, (patch.shape[1], patch.shape[0]))
        if (hi <= lo).any():
            return
        box = np.s_[lo[1]:hi[1], lo[0]:hi[0]]  # only the opening's bounding box is painted
        alpha = polygon_mask((hi[1] - lo[1], hi[0] - lo[0]), ring - lo)
        s, t = s[box], t[box]
        top_line = np.interp(s, *upper_to)
        bottom_line = np.interp(s, *lower_to)
        gap = np.maximum(bottom_line - top_line, 1e-3)
        depth = np.clip((t - top_line) / gap, 0, 1)  # 0 at the upper lip, 1 at the lower
        edge = np.clip(np.abs(s) / max(float(np.max(np.abs(upper_to[0]))), 1e-3), 0, 1)
        shade = 1.0 - 0.55 * edge**2  # everything darkens towards the corners, in the lips' shadow
        lip = self.lip_colour
        # The cavity: darkest in the middle of the opening, a little light reaching the bottom.
        cavity = (lip * 0.26 + np.array([8, 2, 2])) * (0.8 + 0.35 * depth**2)[..., None]
        colour = cavity * (1 - 0.45 * edge[..., None] ** 2)
        light = float(np.clip(self.skin_colour.mean() / 170.0, 0.55, 1.1))
        teeth = np.array([222, 216, 204], np.float32) * light
        if pose.tongue > 0:
            tongue = (lip * 0.75 + np.array([40, 8, 12])) * 0.85
            rise = pose.tongue * np.sqrt(1 - edge**2)
            on = smoothstep((depth - (1 - rise)) * gap * m.unit)  # a soft one-pixel edge
            colour = colour * (1 - on[..., None]) + (tongue * (0.7 + 0.3 * shade[..., None])) * on[..., None]
        for amount, at_top in ((pose.teeth, True), (pose.lower_teeth, False)):
            if amount <= 0:
                continue
            band = amount * (1 - 0.5 * edge**2)
            inward = (t - top_line) if at_top else (bottom_line - t)
            on = smoothstep((band - inward) * m.unit + 0.5)
            tone = (0.8 + 0.2 * np.clip(1 - inward / np.maximum(band, 1e-3), 0, 1)) * shade  # shadowed at the tips
            tone = tone * _tooth_gaps(s, m.unit)
            colour = colour * (1 - on[..., None]) + (teeth * tone[..., None]) * on[..., None]
        a = alpha[..., None]
        patch[box] = np.clip(patch[box] * (1 - a) + colour * a, 0, 255).round().astype(np.uint8)

    # -- the eyes -------------------------------------------------------------------------

    def eyes(self, closed: float, expression: Expression = Expression.NEUTRAL) -> np.ndarray:
        """The eyes region (``eyes_box``) with the lids ``closed`` (0 open … 1 shut) and the brows set."""
        mood = MOODS[expression]
        top, left, bottom, right = self.eyes_box
        ys, xs = np.mgrid[top:bottom, left:right].astype(np.float32)
        sx, sy = xs.copy(), ys.copy()
        for index, (f, up, lo, brow) in enumerate(self.eye_curves):
            s, t = f.local(xs, ys)
            shift = np.zeros_like(t)
            if closed > 0:
                lower, upper = lo(s), up(s)
                inside = np.clip(1 - s * s, 0, 1)
                # The upper lid comes down to the lower one; a little more is pulled in from above
                # the lid, so its lashes don't smear over the closed eye (a lash line is drawn instead).
                opening = (np.maximum(lower - upper, 0) + LASHES * inside) * (np.abs(s) < 1)
                lid_top = upper - 1.0
                w = np.clip((t - lid_top) / np.maximum(lower - lid_top, 1e-3), 0, 1) * (t <= lower)
                shift += closed * opening * w
            bs, bt = (v[0] for v in f.local(np.array([brow[0]]), np.array([brow[1]])))
            # Which way is the nose: the inner corner is the second for the right eye, the first for the left.
            inward = (s - bs) * (1 if index == 0 else -1)
            raise_by = mood.brows + mood.inner_brows * smoothstep(0.5 + inward / 1.6)
            shift -= raise_by * np.exp(-((s - bs) / 1.5) ** 2 - ((t - bt) / 0.9) ** 2)
            source_t = t - shift * taper(s.shape)
            px, py = f.pixels(s, source_t)
            moved = shift != 0
            sx, sy = np.where(moved, px, sx), np.where(moved, py, sy)
        patch = sample(self.portrait, sx, sy)
        if closed >= 0.5:  # the lid's edge, with its lashes, where it now is
            for f, up, lo, _ in self.eye_curves:
                edge = np.linspace(-0.95, 0.95, 25, dtype=np.float32)
                at = up(edge) + (lo(edge) - up(edge)) * closed
                draw_line(patch, f, edge, at, (top, left), self.skin_colour * 0.3, 0.8 * closed, thick=0.9)
        return patch


def _tooth_gaps(s: np.ndarray, unit: float, width: float = 0.32) -> np.ndarray:
    """1 on a tooth, a little darker in the narrow gaps between teeth (the middle one at the centre),
    the teeth narrowing towards the corners as the dental arch turns away."""
    arch = np.sin(np.clip(s, -1, 1) * np.pi / 2) * 2 / np.pi  # where a tooth at s sits, foreshortened
    phase = np.abs(arch) / width
    distance = np.abs(phase - np.round(phase)) * width * unit  # pixels to the nearest gap
    return (1.0 - 0.22 * np.exp(-(distance / 0.8) ** 2)).astype(np.float32)
