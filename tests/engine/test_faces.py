"""Photo and template-video personas: making them, refusing bad faces, and what they draw.

Pictures are scikit-image's public-domain astronaut portrait and synthetic negatives;
the lips are checked on decoded frames of a real render.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from engine.backends import Backends
from engine.cache import cache_key
from engine.errors import FaceInputError, InputError
from engine.face.media import open_picture
from engine.face.photo import TILT_STEP, PhotoRenderer, _turn, _turn_reach
from engine.face.prepare import find_face
from engine.face.video import VideoRenderer, template_index
from engine.pipeline import Pipeline
from engine.settings import EngineSettings
from engine.types import Expression, MotionFrame, RenderRequest, Viseme
from personas.faces import check_face, create_face_persona, remove_persona
from personas.registry import PersonaRegistry
from tests.faces import astronaut, save_picture, save_video, swaying_template
from tests.media import render_with_its_plan

SIZE = 256


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_picture(tmp_path_factory.mktemp("face") / "astronaut.png")


@pytest.fixture(scope="module")
def renderer(photo: Path) -> PhotoRenderer:
    return PhotoRenderer.from_file(photo, SIZE, SIZE)


def still(mouth: Viseme = Viseme.REST, **changes: object) -> MotionFrame:
    return replace(MotionFrame(mouth, mouth, 0.0, 0.0, 0.0, 0.0), **changes)  # type: ignore[arg-type]


def rgb(planes: np.ndarray) -> np.ndarray:
    return av.VideoFrame.from_ndarray(planes, format="yuv420p").to_ndarray(format="rgb24").astype(np.int16)


def darkness(frame: np.ndarray, box: tuple[int, int, int, int]) -> int:
    """Pixels of the mouth region as dark as the inside of an open mouth."""
    top, left, bottom, right = box
    return int((frame[top:bottom, left:right].astype(np.int16).sum(axis=-1) < 150).sum())


# -- making face personas ----------------------------------------------------------------------


def test_a_photo_becomes_a_persona_the_registry_lists(photo: Path, tmp_path: Path) -> None:
    made = create_face_persona(tmp_path / "mine", "Eileen", photo, display_name="Commander")
    assert (made.name, made.renderer, made.display_name) == ("eileen", "photo", "Commander")
    assert made.face_path is not None and made.face_path.read_bytes() == photo.read_bytes()
    found = PersonaRegistry(user_dirs=[tmp_path / "mine"]).get("eileen")
    assert found.fingerprint == made.fingerprint and found.root == tmp_path.resolve() / "mine" / "eileen"
    with pytest.raises(InputError, match="already a persona called eileen"):
        create_face_persona(tmp_path / "mine", "eileen", photo)
    remove_persona(tmp_path / "mine", "eileen")
    assert not (tmp_path / "mine" / "eileen").exists()


def test_the_face_file_is_part_of_the_fingerprint(photo: Path, tmp_path: Path) -> None:
    first = create_face_persona(tmp_path, "one", photo)
    face = first.face_path
    assert face is not None
    Image.fromarray(np.ascontiguousarray(astronaut()[:, ::-1])).save(face)
    assert PersonaRegistry(user_dirs=[tmp_path]).get("one").fingerprint != first.fingerprint


def test_a_persona_whose_face_file_is_missing_is_skipped_with_the_reason(tmp_path: Path,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "ghost"
    folder.mkdir()
    (folder / "persona.toml").write_text('display_name = "Ghost"\nstyle = "photo"\nrenderer = "photo"\n'
                                         'face = "face.jpg"\n')
    assert "ghost" not in PersonaRegistry(user_dirs=[tmp_path])
    assert "face: face.jpg is not a file inside the persona folder" in caplog.text


def bomb(path: Path) -> Path:
    Image.new("1", (9000, 6000)).save(path)  # 54 million pixels in a few kilobytes
    return path


@pytest.mark.parametrize("make, message", [
    (lambda p: p.with_suffix(".txt").write_text("hello") and p.with_suffix(".txt"), "neither a picture nor a video"),
    (lambda p: p.with_suffix(".png").write_bytes(bytes(range(256)) * 20) and p.with_suffix(".png"),
     "neither a picture nor a video"),  # FFmpeg would call it a one-frame video
    (lambda p: bomb(p.with_suffix(".png")), "at most 40 million pixels"),
    (lambda p: save_picture(p.with_suffix(".png"), np.full((300, 300, 3), 128, np.uint8)), "sprite persona"),
    (lambda p: save_picture(p.with_suffix(".png"), np.asarray(Image.fromarray(astronaut()).resize((180, 180)))),
     "at least 80 pixels wide"),
    (lambda p: save_video(p.with_suffix(".mp4"), [np.full((64, 64, 3), 90, np.uint8)] * 31, fps=1),
     "at most 30 s"),
    (lambda p: save_video(p.with_suffix(".mp4"), [np.random.default_rng(i).integers(0, 255, (96, 96, 3), np.uint8)
                                                  for i in range(40)]), "lost in most"),
])
def test_bad_faces_are_refused_clearly_and_leave_nothing(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    face = make(tmp_path / "face")
    with pytest.raises(FaceInputError, match=message):
        create_face_persona(tmp_path / "mine", "bad", face)
    assert not (tmp_path / "mine").exists() or not any((tmp_path / "mine").iterdir())


@pytest.mark.parametrize("mode", ["L", "CMYK", "RGBA", "P", "I;16"])
def test_any_pixel_mode_is_read(tmp_path: Path, mode: str) -> None:
    image = Image.fromarray(astronaut())
    if mode == "I;16":
        image = Image.fromarray(np.asarray(image.convert("L"), np.uint16) * 257)
    else:
        image = image.convert(mode)
    path = tmp_path / ("face.tiff" if mode in ("CMYK", "I;16") else "face.png")
    image.save(path)
    assert check_face(path) == "photo"


def test_exif_rotation_is_applied(tmp_path: Path) -> None:
    sideways = Image.fromarray(astronaut()[:, :400]).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    path = tmp_path / "phone.jpg"
    sideways.save(path, exif=exif)
    assert open_picture(path).shape == (512, 400, 3)
    assert check_face(path) == "photo"


def test_an_animated_gif_uses_its_first_frame(tmp_path: Path) -> None:
    frames = [Image.fromarray(astronaut()), Image.new("RGB", (512, 512), (120, 120, 120))]
    path = tmp_path / "face.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    assert check_face(path) == "photo"


# -- the photo renderer ------------------------------------------------------------------------


def test_vowels_open_the_mouth_and_mbp_close_it(renderer: PhotoRenderer) -> None:
    box = _mouth_box(renderer)
    rest = darkness(rgb(renderer.draw(still())), box)
    for open_shape in (Viseme.AI, Viseme.O, Viseme.E):
        assert darkness(rgb(renderer.draw(still(open_shape))), box) > rest + 40
    assert darkness(rgb(renderer.draw(still(Viseme.MBP))), box) <= rest + 5


def test_blinks_close_the_eyes_and_moods_move_the_face(renderer: PhotoRenderer) -> None:
    opened = rgb(renderer.draw(still()))
    closed = rgb(renderer.draw(still(eyes_closed=1.0)))
    top, left, bottom, right = (v - renderer.pad for v in renderer.rig.eyes_box)
    changed = np.abs(opened - closed).sum(axis=-1) > 30
    assert changed[max(top, 0):bottom, max(left, 0):right].sum() > 50
    assert changed.sum() == changed[max(top, 0):bottom, max(left, 0):right].sum()  # only the eyes
    looks = {e: renderer.draw(still(expression=e)).tobytes() for e in Expression}
    assert len(set(looks.values())) == len(Expression)


def test_head_motion_never_shows_an_empty_border(renderer: PhotoRenderer) -> None:
    p = renderer.pad
    for dx, dy in ((p, p), (-p, -p), (p, -p), (-p, p), (10_000, -10_000)):
        assert_edges_from_the_photo(renderer, dx, dy)
    white = np.full_like(renderer.rig.portrait, 255)
    for tilt in (-1.0, -0.6, 0.4, 1.0, 30.0):  # sway and tilt at their limits together
        for dx, dy in ((p, p), (-p, -p), (p, -p), (-p, p)):
            frame = rgb(renderer.draw(still(head_x=dx, head_y=dy, tilt=tilt)))
            # Where the window went: the frame's edges match the turned photo there, and a white
            # picture turned the same way stays white to its edges (nothing from beyond the photo).
            window = _window(renderer, renderer.rig.portrait, tilt, dx, dy)
            inside = _window(renderer, white, tilt, dx, dy)
            for edge in (np.s_[:2], np.s_[-2:], np.s_[:, :2], np.s_[:, -2:]):
                assert inside[edge].min() >= 250, (tilt, dx, dy, edge)
                assert np.abs(frame[edge] - window[edge]).mean() < 4, (tilt, dx, dy, edge)


def test_a_tilt_turns_the_face(photo: Path) -> None:
    """The eyes' line, found again in the drawn frames, turns by the tilt (clockwise is positive)."""
    renderer = PhotoRenderer.from_file(photo, 512, 512)

    def eye_line(tilt: float) -> float:
        face = find_face(rgb(renderer.draw(still(tilt=tilt))).astype(np.uint8), "frame")
        (x0, y0), (x1, y1) = face.points[33], face.points[263]
        return float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))

    upright = eye_line(0.0)
    assert eye_line(1.0) - upright == pytest.approx(1.0, abs=0.4)
    assert eye_line(-1.0) - upright == pytest.approx(-1.0, abs=0.4)


def test_a_wide_video_is_filled_with_the_photo(photo: Path) -> None:
    wide = PhotoRenderer.from_file(photo, 320, 180)
    assert rgb(wide.draw(still(Viseme.AI))).shape == (180, 320, 3)
    assert_edges_from_the_photo(wide, 9, -9)


def _window(renderer: PhotoRenderer, picture: np.ndarray, tilt: float, dx: int, dy: int) -> np.ndarray:
    """``picture`` turned and cut as the renderer turns and cuts the portrait for a head at (dx, dy)."""
    level = min(max(round(tilt / TILT_STEP), -5), 5)
    p, h, w = renderer.pad, renderer.height, renderer.width
    limit = p - _turn_reach(w, h, abs(level) * TILT_STEP)
    x, y = min(max(dx, -limit), limit), min(max(dy, -limit), limit)
    return _turn(picture, level * TILT_STEP, (p - y, p - x, p - y + h, p - x + w)).astype(np.int16)


def assert_edges_from_the_photo(renderer: PhotoRenderer, dx: int, dy: int) -> None:
    """Moved by (dx, dy) (clamped to the margin), every edge pixel is the photo's own."""
    p = renderer.pad
    frame = rgb(renderer.draw(still(head_x=dx, head_y=dy)))
    x, y = min(max(dx, -p), p), min(max(dy, -p), p)
    window = renderer.rig.portrait.astype(np.int16)[p - y : p - y + renderer.height, p - x : p - x + renderer.width]
    for edge in (np.s_[:3], np.s_[-3:], np.s_[:, :3], np.s_[:, -3:]):
        assert np.abs(frame[edge] - window[edge]).mean() < 4, (dx, dy, edge)



def test_the_rendered_lips_follow_the_phonemes(photo: Path, tmp_path: Path) -> None:
    """Decoded frames: open at vowels, closed at m/b/p, at rest in the pauses."""
    pipeline = Pipeline(EngineSettings(cache_dir=tmp_path), PersonaRegistry(), Backends.with_defaults())
    request = RenderRequest(persona="friendly", text="Papa, mama. I saw a bee.", width=SIZE, height=SIZE,
                            face=photo)
    plan, frames = render_with_its_plan(pipeline, request, tmp_path / "out.mp4")
    assert len(frames) == len(plan.track)
    reference = pipeline.renderer(plan.persona, SIZE, SIZE)
    assert isinstance(reference, PhotoRenderer)
    box = _mouth_box(reference)
    counted = {Viseme.AI: 0, Viseme.MBP: 0, Viseme.REST: 0}
    for frame, motion in zip(frames, plan.track):
        if motion.mouth_blend > 0 or motion.mouth not in counted:
            continue
        opened, shut = (rgb(reference.draw(replace(motion, mouth=v, mouth_next=v))) for v in (Viseme.AI, Viseme.MBP))
        near_open = np.abs(frame[_slices(box)] - opened[_slices(box)]).mean()
        near_shut = np.abs(frame[_slices(box)] - shut[_slices(box)]).mean()
        assert (near_open < near_shut) == (motion.mouth is Viseme.AI), (motion, near_open, near_shut)
        counted[motion.mouth] += 1
    assert all(counted.values()), counted


def test_a_one_off_face_is_part_of_the_cache_key(photo: Path, tmp_path: Path) -> None:
    other = save_picture(tmp_path / "flipped.png", np.ascontiguousarray(astronaut()[:, ::-1]))
    request = RenderRequest(persona="friendly", text="hi")
    keys = {cache_key(replace(request, face=face), "p", "1") for face in (None, photo, other)}
    assert len(keys) == 3
    assert cache_key(replace(request, face=photo), "p", "1") == cache_key(replace(request, face=photo), "p", "1")


# -- template videos ---------------------------------------------------------------------------


def test_the_template_plays_forward_then_back_without_jumps() -> None:
    shown = [template_index(i / 25, 30) for i in range(400)]
    assert shown[:31] == list(range(30)) + [28]
    assert max(abs(a - b) for a, b in zip(shown, shown[1:])) == 1
    assert min(shown) == 0 and max(shown) == 29


def test_a_long_clip_over_a_short_template(tmp_path: Path) -> None:
    template = swaying_template(tmp_path / "template.mp4", seconds=1.2)
    persona = create_face_persona(tmp_path / "mine", "talker", template)
    assert persona.renderer == "video"
    pipeline = Pipeline(EngineSettings(cache_dir=tmp_path), PersonaRegistry(user_dirs=[tmp_path / "mine"]),
                        Backends.with_defaults())
    request = RenderRequest(persona="talker", text="Hello there, I am a video that runs longer.",
                            width=SIZE, height=SIZE)
    plan, frames = render_with_its_plan(pipeline, request, tmp_path / "out.mp4")
    assert len(frames) == len(plan.track) > 60
    # Far from the mouth, consecutive frames differ by the template's one-pixel drift, never a jump.
    tops = [frame[:90].astype(np.int16) for frame in frames]
    steps = [np.abs(a - b).mean() for a, b in zip(tops, tops[1:])]
    assert max(steps) < 4 * (np.median(steps) + 1)
    # Closed at rest, whatever the template's own mouth does.
    reference = pipeline.renderer(plan.persona, SIZE, SIZE)
    assert isinstance(reference, VideoRenderer)
    opened = [i for i, m in enumerate(plan.track) if m.mouth is Viseme.AI and m.mouth_blend == 0]
    rests = [i for i, m in enumerate(plan.track) if m.mouth is Viseme.REST and m.mouth_blend == 0]
    assert opened and rests

    def lips(i: int) -> int:
        x, y = reference.faces[template_index(i / 25, len(reference.faces))].points[[13, 14]].mean(axis=0)
        return darkness(frames[i], (int(y) - 12, int(x) - 25, int(y) + 16, int(x) + 25))

    assert min(lips(i) for i in opened) > max(lips(i) for i in rests) + 20


def _mouth_box(renderer: PhotoRenderer) -> tuple[int, int, int, int]:
    """Around the lips (in frame pixels, head still): the width of the mouth, a little more down."""
    frame = renderer.rig.mouth_frame
    x, y = frame.origin - renderer.pad
    a = frame.unit
    return int(y - 0.5 * a), int(x - 1.2 * a), int(y + 1.0 * a), int(x + 1.2 * a)


def _slices(box: tuple[int, int, int, int]) -> tuple[slice, slice]:
    return slice(box[0], box[2]), slice(box[1], box[3])


def test_a_small_face_in_a_large_photo_is_found(tmp_path: Path) -> None:
    """An 88-pixel face in a 12-megapixel picture: too small for one look, found tile by tile."""
    big = np.full((3000, 4000, 3), 200, np.uint8)
    big[2100:2520, 2900:3320] = np.asarray(Image.fromarray(astronaut()).resize((420, 420)))
    path = save_picture(tmp_path / "group.jpg", big)
    face = find_face(open_picture(path), path.name)
    centre = face.points.mean(axis=0)
    assert 2900 + 120 < centre[0] < 2900 + 300 and 2100 + 30 < centre[1] < 2100 + 200


def test_of_several_faces_the_largest_is_animated(tmp_path: Path) -> None:
    group = np.full((520, 900, 3), 235, np.uint8)
    group[4:516, 380:892] = astronaut()
    group[150:406, 20:276] = np.asarray(Image.fromarray(astronaut()).resize((256, 256)))
    face = find_face(group, "group.png")
    assert face.points[:, 0].min() > 380


def test_an_unknown_renderer_is_named_when_a_persona_is_skipped(tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "holo"
    folder.mkdir()
    (folder / "persona.toml").write_text('display_name = "Holo"\nstyle = "x"\nrenderer = "hologram"\n')
    assert "holo" not in PersonaRegistry(user_dirs=[tmp_path])
    assert "no renderer called 'hologram'; available: photo, sprite, video" in caplog.text


def test_a_template_video_whose_tags_are_not_utf8_is_read(tmp_path: Path) -> None:
    """Tags in another encoding (a phone's, an old editor's) don't make a good video unreadable."""
    from engine.face.media import probe_video, video_frames

    path = tmp_path / "template.avi"
    with av.open(str(path), "w") as container:
        container.metadata["title"] = "TITLE-TO-PATCH"
        stream = container.add_stream("mpeg4", rate=25)
        stream.width = stream.height = 64
        for i in range(75):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 3 * i, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    data = path.read_bytes()
    assert data.count(b"TITLE-TO-PATCH") == 1
    path.write_bytes(data.replace(b"TITLE-TO-PATCH", b"\xe9t\xe9 \x80\x81 title!"))  # same length, not UTF-8
    assert probe_video(path) == (3.0, 64, 64)
    assert len(list(video_frames(path, 25))) == 75
