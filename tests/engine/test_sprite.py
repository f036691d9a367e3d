from __future__ import annotations

import shutil
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

import engine.sprite as sprite
from engine import yuv
from engine.sprite import SpriteRenderer
from engine.sprite_set import REQUIRED_LAYERS, mouth_layer
from engine.types import Expression, MotionFrame, Viseme
from personas.registry import BUILTIN_DIR, PersonaRegistry

FRIENDLY = BUILTIN_DIR / "friendly" / "sprite"
BACKGROUND = "#CDEBDF"


def frame(mouth: Viseme = Viseme.REST, **kw: object) -> MotionFrame:
    values: dict[str, object] = dict(mouth=mouth, mouth_next=mouth, mouth_blend=0.0, eyes_closed=0.0,
                                     head_x=0.0, head_y=0.0)
    values.update(kw)
    return MotionFrame(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def renderer() -> SpriteRenderer:
    return SpriteRenderer(FRIENDLY, 512, 512, BACKGROUND)


def layer_box(renderer: SpriteRenderer, *names: str) -> tuple[slice, slice]:
    """Where the drawn parts of these layers land in a frame with the head at rest."""
    boxes = [Image.open(FRIENDLY / f"{name}.png").getchannel("A").getbbox() for name in names]
    scale = renderer.size / 512
    left, top = min(b[0] for b in boxes), min(b[1] for b in boxes)
    right, bottom = max(b[2] for b in boxes), max(b[3] for b in boxes)
    y0, x0 = renderer.origin
    return (slice(y0 + int(top * scale) - 2, y0 + int(bottom * scale) + 3),
            slice(x0 + int(left * scale) - 2, x0 + int(right * scale) + 3))


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=2)


def test_frames_are_contiguous_rgb(renderer: SpriteRenderer) -> None:
    out = renderer.render(frame())
    assert out.shape == (512, 512, 3) and out.dtype == np.uint8 and out.flags.c_contiguous
    assert tuple(out[2, 2]) == (0xCD, 0xEB, 0xDF)  # the corner shows the background colour


def test_mouth_shapes_change_only_the_mouth(renderer: SpriteRenderer) -> None:
    rest, ai = renderer.render(frame(Viseme.REST)), renderer.render(frame(Viseme.AI))
    diff = changed(rest, ai)
    box = layer_box(renderer, "mouth_rest", "mouth_ai")
    assert diff[box].sum() > 500
    diff[box] = False
    assert not diff.any()


def test_the_same_state_renders_identically(renderer: SpriteRenderer) -> None:
    first = renderer.render(frame(Viseme.MBP))
    renderer.render(frame(Viseme.O, eyes_closed=1.0))
    assert np.array_equal(first, renderer.render(frame(Viseme.MBP)))
    assert not np.array_equal(first, renderer.render(frame(Viseme.REST)))


def test_every_viseme_has_its_own_mouth(renderer: SpriteRenderer) -> None:
    frames = {v: renderer.render(frame(v)).tobytes() for v in Viseme}
    assert len(set(frames.values())) == len(Viseme)


def test_closed_eyes_change_only_the_eyes(renderer: SpriteRenderer) -> None:
    opened, closed = renderer.render(frame()), renderer.render(frame(eyes_closed=0.9))
    half = renderer.render(frame(eyes_closed=0.5))
    diff = changed(opened, closed)
    box = layer_box(renderer, "eyes_open", "eyes_closed")
    assert diff[box].sum() > 500
    diff[box] = False
    assert not diff.any()
    assert not np.array_equal(half, opened) and not np.array_equal(half, closed)
    assert np.array_equal(renderer.render(frame(eyes_closed=0.2)), opened)


def test_expressions_change_the_brows(renderer: SpriteRenderer) -> None:
    looks = {e: renderer.render(frame(expression=e)).tobytes() for e in Expression}
    assert len(set(looks.values())) == len(Expression)


def test_head_offset_shifts_the_character(renderer: SpriteRenderer) -> None:
    still = renderer.render(frame(Viseme.AI))
    moved = renderer.render(frame(Viseme.AI, head_x=6.4, head_y=-3.6))  # rounds to (6, -4)
    assert np.array_equal(moved[100:400, 106:406], still[104:404, 100:400])
    assert not np.array_equal(moved, still)


def test_head_offset_is_clamped_to_the_margin(renderer: SpriteRenderer) -> None:
    far = renderer.render(frame(head_x=10_000, head_y=-10_000))
    assert np.array_equal(far, renderer.render(frame(head_x=renderer.pad, head_y=-renderer.pad)))


def test_mouth_blend_is_quantised(renderer: SpriteRenderer) -> None:
    def blend(t: float) -> np.ndarray:
        return renderer.render(frame(Viseme.AI, mouth_next=Viseme.O, mouth_blend=t))

    assert np.array_equal(blend(0.0), renderer.render(frame(Viseme.AI)))
    assert np.array_equal(blend(1.0), renderer.render(frame(Viseme.O)))
    assert np.array_equal(blend(0.3), blend(0.36))
    steps = {blend(t).tobytes() for t in (0.0, 0.34, 0.67, 1.0)}
    assert len(steps) == 4


@pytest.mark.parametrize(("width", "height"), [(640, 360), (360, 640), (256, 256)])
def test_other_frame_sizes(width: int, height: int) -> None:
    renderer = SpriteRenderer(FRIENDLY, width, height, BACKGROUND)
    out = renderer.render(frame(Viseme.E, head_x=5, head_y=5))
    assert out.shape == (height, width, 3) and out.flags.c_contiguous
    assert (out[:, :2] == (0xCD, 0xEB, 0xDF)).all()  # the character is centred with room around it
    assert not np.array_equal(out, renderer.render(frame(Viseme.REST, head_x=5, head_y=5)))


def test_missing_optional_layers_fall_back(tmp_path: Path) -> None:
    minimal = tmp_path / "sprite"
    minimal.mkdir()
    for name in REQUIRED_LAYERS:
        shutil.copy(FRIENDLY / f"{name}.png", minimal)
    renderer = SpriteRenderer(minimal, 256, 256, "#000000")
    rest = renderer.render(frame())
    assert np.array_equal(renderer.render(frame(Viseme.WQ, expression=Expression.ANGRY)), rest)
    assert np.array_equal(renderer.render(frame(eyes_closed=0.5)), renderer.render(frame(eyes_closed=1.0)))


def test_mouth_fallback_chart() -> None:
    assert mouth_layer(Viseme.WQ, {"mouth_rest", "mouth_o"}) == "mouth_o"
    assert mouth_layer(Viseme.L, {"mouth_rest", "mouth_ai"}) == "mouth_ai"  # l → etc → e → ai
    assert mouth_layer(Viseme.FV, {"mouth_rest", "mouth_mbp"}) == "mouth_mbp"
    assert mouth_layer(Viseme.U, {"mouth_rest"}) == "mouth_rest"


def test_image_background_matches_a_flat_one(tmp_path: Path) -> None:
    shutil.copytree(FRIENDLY, tmp_path / "sprite")
    Image.new("RGB", (300, 200), BACKGROUND).save(tmp_path / "sprite" / "background.png")
    flat = SpriteRenderer(FRIENDLY, 640, 360, BACKGROUND)
    image = SpriteRenderer(tmp_path / "sprite", 640, 360, "background.png")
    for f in (frame(Viseme.AI), frame(Viseme.O, head_x=-14, head_y=14, eyes_closed=1), frame(head_x=9, head_y=-14)):
        assert np.abs(flat.render(f).astype(int) - image.render(f)).max() <= 1


def test_background_image_stays_put_while_the_head_moves(tmp_path: Path) -> None:
    shutil.copytree(FRIENDLY, tmp_path / "sprite")
    stripes = np.zeros((512, 512, 3), np.uint8)
    stripes[:, ::8] = 255
    Image.fromarray(stripes).save(tmp_path / "sprite" / "background.png")
    renderer = SpriteRenderer(tmp_path / "sprite", 512, 512, "background.png")
    a, b = renderer.render(frame()), renderer.render(frame(head_x=7))
    assert np.array_equal(a[:40], b[:40])  # above the head: only background
    assert not np.array_equal(a, b)


def test_an_evicting_cache_still_renders_correctly(monkeypatch: pytest.MonkeyPatch, renderer: SpriteRenderer) -> None:
    expected = [renderer.render(frame(v, eyes_closed=i % 2)) for i, v in enumerate(Viseme)]
    monkeypatch.setattr(sprite, "CACHE_BYTES", 1)
    tiny = SpriteRenderer(FRIENDLY, 512, 512, BACKGROUND)
    for _ in range(2):
        for i, v in enumerate(Viseme):
            assert np.array_equal(tiny.render(frame(v, eyes_closed=i % 2)), expected[i])
    assert len(tiny._patches) == len(tiny.regions)


def test_bad_background_is_rejected() -> None:
    with pytest.raises(ValueError, match="background must be"):
        SpriteRenderer(FRIENDLY, 64, 64, "blue")


# -- yuv420p output ------------------------------------------------------------------------

YUV_FRAMES = (
    frame(),
    frame(Viseme.AI, head_x=3, head_y=-5),  # odd offsets
    frame(Viseme.O, head_x=-6, head_y=4, eyes_closed=1.0),  # even ones
    frame(Viseme.E, mouth_next=Viseme.MBP, mouth_blend=0.4, head_x=-1, head_y=7, eyes_closed=0.5),
    frame(Viseme.U, mouth_next=Viseme.AI, mouth_blend=0.7, head_x=8, head_y=-9, expression=Expression.ANGRY),
    frame(Viseme.MBP, head_x=10_000, head_y=10_000),  # clamped to the margin
    frame(Viseme.FV, head_x=-10_000, head_y=-10_000, eyes_closed=0.9),
)


def encoder_yuv(rgb: np.ndarray) -> np.ndarray:
    """What the encoder made of an RGB frame: swscale's conversion, via PyAV."""
    return av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p").to_ndarray()


def assert_close_planes(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape and got.dtype == np.uint8 and got.flags.c_contiguous
    for name, a, b in zip("YUV", yuv.split(got.astype(int)), yuv.split(want.astype(int))):
        diff = np.abs(a - b)
        assert diff.mean() < 1 and diff.max() <= 3, (name, diff.mean(), diff.max())


@pytest.mark.parametrize(("width", "height"), [(512, 512), (640, 360)])
@pytest.mark.parametrize("persona", ["friendly", "neon", "sakura"])
def test_yuv420p_frames_are_the_rgb_ones_converted(persona: str, width: int, height: int) -> None:
    found = PersonaRegistry().get(persona)
    rgb = SpriteRenderer(found.sprite_dir, width, height, found.background)
    planes = SpriteRenderer(found.sprite_dir, width, height, found.background, pixel_format="yuv420p")
    for f in YUV_FRAMES:
        expected = rgb.render(f)
        got = planes.render(f)
        assert got.shape == (height * 3 // 2, width)
        assert_close_planes(got, encoder_yuv(expected))
        # Patches and canvas pieces add up to exactly the whole frame converted in one go.
        whole = np.empty_like(got)
        yuv.Planes.of(expected).draw(whole, 0, 0)
        assert np.array_equal(got, whole)


def test_yuv420p_with_a_background_image(tmp_path: Path) -> None:
    shutil.copytree(FRIENDLY, tmp_path / "sprite")
    stripes = np.zeros((360, 640, 3), np.uint8)
    stripes[::6] = (240, 30, 90)
    Image.fromarray(stripes).save(tmp_path / "sprite" / "background.png")
    rgb = SpriteRenderer(tmp_path / "sprite", 640, 360, "background.png")
    planes = SpriteRenderer(tmp_path / "sprite", 640, 360, "background.png", pixel_format="yuv420p")
    for f in YUV_FRAMES:
        assert_close_planes(planes.render(f), encoder_yuv(rgb.render(f)))


def test_yuv420p_patches_at_the_frame_edges(tmp_path: Path) -> None:
    """Eyes at the very top of the drawing and a mouth at its bottom, where the chroma
    filter is clamped to the frame's first and last rows."""
    rng = np.random.default_rng(5)

    def save(name: str, rows: slice, cols: slice = slice(10, 50)) -> None:
        rgba = np.zeros((64, 64, 4), np.uint8)
        rgba[rows, cols, :3] = rng.integers(0, 256, rgba[rows, cols, :3].shape)
        rgba[rows, cols, 3] = 255
        Image.fromarray(rgba, "RGBA").save(tmp_path / f"{name}.png")

    save("base", slice(0, 64), slice(0, 64))
    save("eyes_open", slice(0, 5))
    save("eyes_closed", slice(1, 4))
    save("mouth_rest", slice(58, 64))
    save("mouth_ai", slice(60, 64))
    for width, height in ((64, 64), (96, 64)):
        rgb = SpriteRenderer(tmp_path, width, height, BACKGROUND)
        planes = SpriteRenderer(tmp_path, width, height, BACKGROUND, pixel_format="yuv420p")
        for dx, dy in ((-3, -3), (2, 3), (-1, 0), (1, 1)):
            for f in (frame(head_x=dx, head_y=dy), frame(Viseme.AI, head_x=dx, head_y=dy, eyes_closed=1.0)):
                whole = np.empty((height * 3 // 2, width), np.uint8)
                yuv.Planes.of(rgb.render(f)).draw(whole, 0, 0)
                assert np.array_equal(planes.render(f), whole)


def test_yuv420p_patches_survive_eviction(monkeypatch: pytest.MonkeyPatch) -> None:
    planes = SpriteRenderer(FRIENDLY, 256, 256, BACKGROUND, pixel_format="yuv420p")
    expected = [planes.render(f) for f in YUV_FRAMES]
    monkeypatch.setattr(sprite, "CACHE_BYTES", 1)
    tiny = SpriteRenderer(FRIENDLY, 256, 256, BACKGROUND, pixel_format="yuv420p")
    for _ in range(2):
        for f, want in zip(YUV_FRAMES, expected):
            assert np.array_equal(tiny.render(f), want)


def test_unknown_pixel_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="pixel_format"):
        SpriteRenderer(FRIENDLY, 64, 64, BACKGROUND, pixel_format="nv12")


def test_each_mood_changes_the_resting_mouth_and_the_eyes(renderer: SpriteRenderer) -> None:
    mouth = layer_box(renderer, *(f"mouth_rest{s}" for s in ("", "_happy", "_sad", "_angry", "_surprised")))
    eyes = layer_box(renderer, "eyes_open", *(f"eyes_open_{m}" for m in ("happy", "sad", "angry", "surprised")))
    looks = {e: renderer.render(frame(expression=e)) for e in Expression}
    for one in Expression:
        for other in Expression:
            if one is not other:  # every pair differs clearly in the mouth and around the eyes
                assert changed(looks[one], looks[other])[mouth].sum() > 100, (one, other)
                assert changed(looks[one], looks[other])[eyes].sum() > 300, (one, other)
    # Talking looks the same in every mood but for the brows and eyes; a blink closes the eyes alike.
    talking = {e: renderer.render(frame(Viseme.AI, expression=e)) for e in Expression}
    assert all(np.array_equal(talking[e][mouth], talking[Expression.NEUTRAL][mouth]) for e in Expression)
    shut = {e: renderer.render(frame(eyes_closed=1.0, expression=Expression.HAPPY)) for e in Expression}
    assert all(np.array_equal(s, shut[Expression.NEUTRAL]) for s in shut.values())


def test_a_mouth_between_two_shapes_is_one_shape_not_two_superimposed(tmp_path: Path) -> None:
    """A red bar (rest) and a blue disc (open): half-way there is a squashed disc, never purple."""
    size = 128
    for name in ("base", "eyes_open", "eyes_closed"):
        Image.new("RGBA", (size, size), (0, 0, 0, 0)).save(tmp_path / f"{name}.png")
    bar, disc = Image.new("RGBA", (size, size)), Image.new("RGBA", (size, size))
    bar.paste((255, 0, 0, 255), (44, 60, 84, 66))
    disc_pixels = np.zeros((size, size, 4), np.uint8)
    yy, xx = np.mgrid[:size, :size]
    disc_pixels[(yy - 80) ** 2 + (xx - 64) ** 2 <= 18**2] = (0, 0, 255, 255)
    disc = Image.fromarray(disc_pixels, "RGBA")
    bar.save(tmp_path / "mouth_rest.png")
    disc.save(tmp_path / "mouth_ai.png")
    renderer = SpriteRenderer(tmp_path, size, size, "#FFFFFF")
    start, end = renderer.render(frame(Viseme.REST)), renderer.render(frame(Viseme.AI))
    heights = []
    for t in (0.34, 0.67):
        between = renderer.render(frame(Viseme.REST, mouth_next=Viseme.AI, mouth_blend=t))
        signed = between.astype(int)
        red, blue = signed[..., 0] - signed[..., 1], signed[..., 2] - signed[..., 1]
        assert not ((red > 40) & (blue > 40)).any()  # no pixel mixes both mouths' colours
        assert (blue > 200).sum() > 100 and not (red > 40).any()  # the more open mouth, whole
        assert changed(between, start).any() and changed(between, end).any()
        heights.append(np.flatnonzero((blue > 40).any(axis=1)).size)
    disc_height = np.flatnonzero((end[..., 2].astype(int) - end[..., 1] > 40).any(axis=1)).size
    assert 6 < heights[0] < heights[1] < disc_height  # squashed, growing from the bar's height to the disc's


def test_a_full_bleed_sprite_never_shows_an_empty_border(tmp_path: Path) -> None:
    size = 256
    picture = np.zeros((size, size, 4), np.uint8)
    picture[..., :3] = np.linspace(40, 220, size, dtype=np.uint8)[:, None, None]
    picture[..., 3] = 255
    Image.fromarray(picture, "RGBA").save(tmp_path / "base.png")
    for name in ("eyes_open", "eyes_closed", "mouth_rest"):
        layer = Image.new("RGBA", (size, size))
        layer.paste((20, 20, 20, 255), (100, 100 + len(name), 140, 106 + len(name)))
        layer.save(tmp_path / f"{name}.png")
    for pixel_format in ("rgb24", "yuv420p"):
        renderer = SpriteRenderer(tmp_path, 320, 320, "#FF00FF", pixel_format=pixel_format)
        for dx, dy in ((0, 0), (1, 1), (-1, -1), (1, -1), (-1, 1)):
            out = renderer.render(frame(head_x=dx * renderer.pad, head_y=dy * renderer.pad))
            rgb = out if pixel_format == "rgb24" else encoder_yuv_to_rgb(out)
            magenta = (rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] > 200)
            assert not magenta.any(), (pixel_format, dx, dy)


def encoder_yuv_to_rgb(planes: np.ndarray) -> np.ndarray:
    height, width = planes.shape[0] * 2 // 3, planes.shape[1]
    frame_ = av.VideoFrame.from_ndarray(planes, format="yuv420p")
    assert (frame_.height, frame_.width) == (height, width)
    return frame_.to_ndarray(format="rgb24")


@pytest.mark.parametrize("pixel_format", ["yuv420p", "rgb24"])
def test_what_opening_works_out_is_kept_for_the_next_renderer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              pixel_format: str) -> None:
    """The first renderer of a persona at a size decodes its PNGs and keeps the layout, the layers and the
    painted canvas; the next one decodes nothing and draws the very same frames; damaged files are made again."""
    cache = (tmp_path / "kept", "f" * 64)
    plain = SpriteRenderer(FRIENDLY, 300, 300, BACKGROUND, pixel_format=pixel_format)
    first = SpriteRenderer(FRIENDLY, 300, 300, BACKGROUND, pixel_format=pixel_format, layers_cache=cache)
    version = f"v{sprite.sprite_cache.FORMAT}.npz"
    colour = BACKGROUND.lstrip("#").lower()
    assert sorted(path.name for path in (tmp_path / "kept").iterdir()) == sorted(
        f"{'f' * 64}-{name}-{version}"
        for name in (f"300x300-{colour}-canvas-{pixel_format}", f"{first.size}-layers", "layout"))

    def no_decoding(path: Path) -> None:
        raise AssertionError(f"{path} decoded again")

    monkeypatch.setattr(sprite, "open_layer", no_decoding)
    second = SpriteRenderer(FRIENDLY, 300, 300, BACKGROUND, pixel_format=pixel_format, layers_cache=cache)
    frames = [frame(), frame(Viseme.AI, eyes_closed=1.0, head_x=3.0), frame(Viseme.MBP, expression=Expression.HAPPY)]
    for f in frames:
        assert np.array_equal(second.render(f), plain.render(f))
    monkeypatch.undo()
    for stored in (tmp_path / "kept").iterdir():
        stored.write_bytes(stored.read_bytes()[:100])  # cut short, as by a full disk
    again = SpriteRenderer(FRIENDLY, 300, 300, BACKGROUND, pixel_format=pixel_format, layers_cache=cache)
    assert np.array_equal(again.render(frames[1]), plain.render(frames[1]))
    for stored in (tmp_path / "kept").iterdir():  # made again, whole
        with np.load(stored) as arrays:
            assert arrays.files
    assert not list((tmp_path / "kept").glob("*.part"))
