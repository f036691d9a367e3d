"""Wav2Lip: the published network's shape, the official checkpoint format, the exact input features,
the batcher shared by concurrent renders, and the ``wav2lip`` renderer on photo and template personas.

Weights are random (seeded) and saved the way the official checkpoints are: a dict whose
``state_dict`` keys carry DataParallel's ``module.`` prefix. Renders use a narrow copy of the
network (same layers, a quarter of the channels) so the suite stays quick on two cores.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.engine import Priority
from engine.errors import ModelError, RenderCancelled
from engine.face.wav2lip import face_box, feather_mask
from engine.models import LIPSYNC, ModelHub
from engine.models.lipsync.batcher import LipSyncBatcher
from engine.models.lipsync.features import mel_spectrogram, mel_windows
from engine.models.lipsync.model import Wav2Lip, load_wav2lip
from engine.settings import ModelSettings

NARROW = 4  # first-layer channels of the tests' network (16 in the published one)


def random_weights(model: Wav2Lip, seed: int = 0) -> Wav2Lip:
    """Random weights and batch-norm statistics, so a load that drops any of them shows."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                values = torch.rand(tensor.shape, generator=generator)
                tensor.copy_(values * 0.5 + 0.75 if name.endswith(("running_var", "bn.weight")) else values * 0.2 - 0.1)
    return model.eval()


def save_official(model: Wav2Lip, path: Path) -> Path:
    torch.save({"state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}, "epoch": 7,
                "global_step": 1000}, path)
    return path


@pytest.fixture(scope="module")
def narrow_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_official(random_weights(Wav2Lip(NARROW)), tmp_path_factory.mktemp("wav2lip") / "wav2lip_gan.pth")


@pytest.fixture(scope="module")
def batcher(narrow_checkpoint: Path) -> LipSyncBatcher:
    return LipSyncBatcher(load_wav2lip(narrow_checkpoint), torch.device("cpu"), precision="fp32")


def inputs(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.uniform(-4, 4, (count, 1, 80, 16)).astype(np.float32),
            rng.integers(0, 256, (count, 96, 96, 6), dtype=np.uint8))


# -- the network and its checkpoint ----------------------------------------------------------------


def test_wav2lip_has_the_published_size() -> None:
    model = Wav2Lip()
    assert round(sum(p.numel() for p in model.parameters()) / 1e6, 1) == 36.3
    assert len(model.state_dict()) == 352
    with torch.no_grad():
        out = Wav2Lip(NARROW).eval()(torch.zeros(2, 1, 80, 16), torch.zeros(2, 6, 96, 96))
    assert out.shape == (2, 3, 96, 96) and float(out.min()) >= 0 and float(out.max()) <= 1


def test_wav2lip_loads_the_official_format_full_size(tmp_path: Path) -> None:
    model = random_weights(Wav2Lip(), seed=1)
    loaded = load_wav2lip(save_official(model, tmp_path / "wav2lip.pth"))
    ours, theirs = loaded.state_dict(), model.state_dict()
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[key], theirs[key]) for key in ours)
    assert not loaded.training


def test_wav2lip_narrow_copy_loads_and_computes_the_same(narrow_checkpoint: Path) -> None:
    model = random_weights(Wav2Lip(NARROW))
    mels, faces = torch.rand(3, 1, 80, 16) * 8 - 4, torch.rand(3, 6, 96, 96)
    with torch.inference_mode():
        assert torch.equal(load_wav2lip(narrow_checkpoint)(mels, faces), model(mels, faces))


def test_wav2lip_bad_files_name_the_setting(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint at all")
    other = tmp_path / "other.pth"
    torch.save({"state_dict": {"module.fc.weight": torch.zeros(2, 2)}}, other)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(save_official(random_weights(Wav2Lip(NARROW)), tmp_path / "whole.pth").read_bytes()[:5000])
    for path, problem in ((tmp_path / "missing.pth", "does not exist"), (garbage, "could not be read"),
                          (truncated, "could not be read"), (other, "not those of the Wav2Lip generator")):
        with pytest.raises(ModelError) as caught:
            load_wav2lip(path)
        assert f'[models] lipsync = "{path}"' in str(caught.value) and problem in str(caught.value)


# -- features ---------------------------------------------------------------------------------------


def librosa_mel(samples: np.ndarray) -> np.ndarray:
    """The features as the published model's preprocessing computes them, with librosa and scipy."""
    import librosa
    from scipy.signal import lfilter

    emphasised = lfilter([1, -0.97], [1], samples)
    spectrum = np.abs(librosa.stft(y=emphasised, n_fft=800, hop_length=200, win_length=800, pad_mode="reflect"))
    mel = librosa.filters.mel(sr=16000, n_fft=800, n_mels=80, fmin=55, fmax=7600) @ spectrum
    db = 20 * np.log10(np.maximum(1e-5, mel)) - 20
    return np.clip(8 * (db + 100) / 100 - 4, -4, 4)


def test_wav2lip_mel_matches_librosa() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(16000 * 2) / 16000
    samples = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2
               + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    ours, reference = mel_spectrogram(samples), librosa_mel(samples.astype(np.float64))
    assert ours.shape == reference.shape == (80, 161)
    assert np.abs(ours - reference).max() < 1e-3
    assert ours.min() < -1 and ours.max() > 1  # the signal spans the scale: the comparison means something


def test_wav2lip_mel_windows_follow_the_video_frames() -> None:
    mel = np.arange(80 * 100, dtype=np.float32).reshape(80, 100)
    windows = mel_windows(mel, 40, 30)
    assert windows.shape == (40, 1, 80, 16)
    for i in (0, 1, 7, 29):
        start = int(80 * i / 30)
        assert np.array_equal(windows[i, 0], mel[:, start : start + 16])
    assert np.array_equal(windows[39, 0], mel[:, 84:100])  # past the end: the last whole window
    assert mel_windows(mel[:, :5], 2, 25).shape == (2, 1, 80, 16)  # shorter than a window: padded with silence


def test_wav2lip_resamples_other_rates() -> None:
    t22 = np.arange(22050) / 22050
    t16 = np.arange(16000) / 16000
    a = mel_spectrogram(np.sin(2 * np.pi * 440 * t22).astype(np.float32), 22050)
    b = mel_spectrogram(np.sin(2 * np.pi * 440 * t16).astype(np.float32))
    assert a.shape == b.shape and np.abs(a[:, 2:-2] - b[:, 2:-2]).mean() < 0.1


# -- the batcher ------------------------------------------------------------------------------------


def test_wav2lip_three_concurrent_jobs_give_what_each_gives_alone(narrow_checkpoint: Path) -> None:
    batcher = LipSyncBatcher(load_wav2lip(narrow_checkpoint), torch.device("cpu"), precision="fp32",
                             max_batch=24, wait=0.05)
    jobs = [inputs(n, seed) for n, seed in ((10, 1), (7, 2), (13, 3))]
    alone = [batcher.infer(mels, faces) for mels, faces in jobs]
    together: list[np.ndarray | None] = [None] * 3
    start = threading.Barrier(3)

    def render(i: int) -> None:
        start.wait()
        together[i] = batcher.infer(*jobs[i])

    threads = [threading.Thread(target=render, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i in range(3):
        assert together[i] is not None and np.array_equal(together[i], alone[i])
    assert max(batcher.batches) > 13  # the jobs shared forward passes


def test_wav2lip_batcher_serves_urgent_requests_first_and_drops_cancelled(narrow_checkpoint: Path) -> None:
    batcher = LipSyncBatcher(load_wav2lip(narrow_checkpoint), torch.device("cpu"), precision="fp32",
                             max_batch=4, wait=0.0)
    with batcher.paused():
        low = batcher.submit(*inputs(4, 1), priority=Priority.BATCH)
        dropped = batcher.submit(*inputs(8, 2), priority=Priority.BATCH)
        high = batcher.submit(*inputs(4, 3), priority=Priority.INTERACTIVE)
        batcher.cancel(dropped)
    high.result()
    assert not low.finished.is_set() or batcher.served.index(high.order) < batcher.served.index(low.order)
    low.result()
    with pytest.raises(RenderCancelled):
        dropped.result()
    assert dropped.order not in batcher.served


def test_wav2lip_batcher_applies_backpressure(narrow_checkpoint: Path) -> None:
    batcher = LipSyncBatcher(load_wav2lip(narrow_checkpoint), torch.device("cpu"), precision="fp32",
                             max_batch=4, wait=0.0, max_pending=8)
    blocked = threading.Event()
    with batcher.paused():
        first = batcher.submit(*inputs(8, 1))

        def more() -> None:
            batcher.submit(*inputs(4, 2)).result()
            blocked.set()

        thread = threading.Thread(target=more)
        thread.start()
        thread.join(0.2)
        assert thread.is_alive() and not blocked.is_set()  # the queue is full: the second render waits
    first.result()
    thread.join()
    assert blocked.is_set()


# -- the renderer -----------------------------------------------------------------------------------


def test_wav2lip_face_box_is_aligned_for_yuv420p() -> None:
    points = np.array([[30.3, 41.7], [90.2, 120.9]], np.float32)
    top, left, bottom, right = face_box(points, 128, 128)
    assert top % 4 == 0 and bottom % 4 == 0 and left % 2 == 0 and right % 2 == 0
    assert top <= 41.7 and bottom >= 120.9 and left <= 30.3 and right >= 90.2 and bottom <= 128


def test_wav2lip_mask_keeps_the_upper_face_and_fades_out() -> None:
    mask = feather_mask(80, 60)
    assert mask[:40].max() == 0  # eyes, blinks: the persona's own
    assert mask[62, 30] > 0.99 and mask[:, 0].max() < 0.05 and mask[-1].max() < 0.05


def test_wav2lip_hub_explains_a_missing_model(tmp_path: Path) -> None:
    assert ModelHub(ModelSettings()).get(LIPSYNC) is None
    with pytest.raises(ModelError, match=r"\[models\] lipsync"):
        ModelHub(ModelSettings(lipsync=tmp_path / "nothing.pth")).get(LIPSYNC)


# -- end to end: the CLI and a chat platform --------------------------------------------------------

SIZE = 128


@pytest.fixture(scope="module")
def personas_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from personas.faces import create_face_persona
    from tests.faces import save_picture, swaying_template

    folder = tmp_path_factory.mktemp("personas")
    faces = tmp_path_factory.mktemp("faces")
    create_face_persona(folder, "astro", save_picture(faces / "astronaut.png"))
    create_face_persona(folder, "template", swaying_template(faces / "template.mp4", 1.0, size=192))
    return folder


def cli_config(tmp_path: Path, personas_dir: Path, checkpoint: Path | None) -> Path:
    path = tmp_path / "config.toml"
    models = f'[models]\nlipsync = "{checkpoint}"\ndevice = "cpu"\nlipsync_precision = "fp32"\n' if checkpoint else ""
    path.write_text(
        f'[agent]\ndatabase = "{tmp_path}/state.db"\n'
        f'[engine]\nwidth = {SIZE}\nheight = {SIZE}\nfps = 10\noutput_dir = "{tmp_path}/out"\n'
        f'cache_dir = "{tmp_path}/cache"\n[personas]\nuser_dirs = ["{personas_dir}"]\n{models}'
    )
    return path


def lower_and_upper_change(neural: np.ndarray, classic: np.ndarray,
                           box: tuple[int, int, int, int]) -> tuple[float, float]:
    """Mean change between two renders' frames in the lower and the upper half of the face box."""
    top, left, bottom, right = box
    middle = (top + bottom) // 2
    diff = np.abs(neural.astype(np.float32) - classic.astype(np.float32))
    return float(diff[:, middle + 4 : bottom, left:right].mean()), float(diff[:, top : middle - 8, left:right].mean())


@pytest.mark.parametrize("persona", ["astro", "template"])
def test_wav2lip_cli_avatar_paints_the_lower_face_only(tmp_path: Path, personas_dir: Path, narrow_checkpoint: Path,
                                                    persona: str) -> None:
    from click.testing import CliRunner

    from core.cli import app
    from tests.media import assert_valid_mp4, decode_frames, speech_clip

    config = cli_config(tmp_path, personas_dir, narrow_checkpoint)
    runner = CliRunner()
    clip = speech_clip(tmp_path / "voice.wav", "Hello there.")  # the same speech (and so head motion) twice
    neural, classic = tmp_path / "neural.mp4", tmp_path / "classic.mp4"
    for out, extra in ((neural, ["--renderer", "wav2lip"]), (classic, [])):
        result = runner.invoke(app, ["avatar", str(clip), "-p", persona, *extra, "-o", str(out), "-c", str(config)])
        assert result.exit_code == 0, result.output
    assert_valid_mp4(neural, width=SIZE, height=SIZE, fps=10)
    a, b = np.stack(decode_frames(neural)), np.stack(decode_frames(classic))
    assert len(a) == len(b) > 5
    from engine.face.landmarks import detect_faces, landmarks_from_detection

    box = face_box(landmarks_from_detection(b[0], detect_faces(b[0])[0]).points, SIZE, SIZE)
    lower, upper = lower_and_upper_change(a, b, box)
    assert lower > 3 * upper and upper < 6, (lower, upper)  # the mouth is the model's, the eyes the persona's


def test_wav2lip_cli_without_the_model_says_how_to_set_it_up(tmp_path: Path, personas_dir: Path) -> None:
    from click.testing import CliRunner

    from core.cli import app

    config = cli_config(tmp_path, personas_dir, None)
    result = CliRunner().invoke(app, ["say", "Hi", "-p", "astro", "--renderer", "wav2lip",
                                      "-o", str(tmp_path / "x.mp4"), "-c", str(config)])
    assert result.exit_code == 1
    assert "[models] lipsync" in result.output and not (tmp_path / "x.mp4").exists()


async def test_wav2lip_chat_say_with_a_members_face(tmp_path: Path, narrow_checkpoint: Path) -> None:
    from core.agent import Agent
    from core.replies import VideoReply
    from core.testing.testbot import MEMBER, TestBot, test_config
    from tests.faces import save_picture

    config = test_config(tmp_path)
    config.engine.width = config.engine.height = SIZE
    config.engine.fps = 10
    async with Agent(config) as agent:  # no [models] lipsync: the option explains itself
        bot = TestBot(agent)
        [answer] = bot.texts(await bot.send("!say --renderer wav2lip Hi"))
        assert "[models] lipsync" in answer
        [say_help] = bot.texts(await bot.send("!help say"))
        assert "--renderer wav2lip: neural lip-sync (photo and template personas) (not set up on this bot " \
            "yet)" in say_help
    config.models.lipsync, config.models.device, config.models.lipsync_precision = narrow_checkpoint, "cpu", "fp32"
    async with Agent(config) as agent:
        bot = TestBot(agent)
        bot.set_picture(MEMBER, save_picture(tmp_path / "me.png"))
        replies = await bot.send("!say --face me --renderer wav2lip Hello everyone")
        [video] = [r for r in replies if isinstance(r, VideoReply)]
        assert video.path.is_file() and agent.models.get(LIPSYNC) is not None
        assert max(agent.models.get(LIPSYNC).batches) > 1  # type: ignore[union-attr]
        [refused] = bot.texts(await bot.send("!say --renderer wav2lip Hi"))  # the default persona is drawn art
        assert "photo and template-video personas" in refused
        assert "not set up" not in bot.texts(await bot.send("!help say"))[0].split("--renderer")[1]


def test_wav2lip_as_a_personas_own_renderer(tmp_path: Path, personas_dir: Path, narrow_checkpoint: Path) -> None:
    import shutil

    from engine.backends import Backends
    from engine.engine import CancelToken
    from engine.pipeline import Pipeline
    from engine.settings import EngineSettings
    from personas.registry import PersonaRegistry
    from tests.media import assert_valid_mp4, speech_clip

    folder = tmp_path / "personas" / "neural"
    shutil.copytree(personas_dir / "astro", folder)
    toml = folder / "persona.toml"
    toml.write_text(toml.read_text().replace('name = "astro"', 'name = "neural"')
                    .replace('renderer = "photo"', 'renderer = "wav2lip"'))
    hub = ModelHub(ModelSettings(lipsync=narrow_checkpoint, device="cpu", lipsync_precision="fp32"))
    backends = Backends.with_defaults()
    hub.register_backends(backends)
    registry = PersonaRegistry(user_dirs=[tmp_path / "personas"], renderers=backends.renderer)
    assert registry.get("neural").renderer == "wav2lip"
    pipe = Pipeline(EngineSettings(width=SIZE, height=SIZE, fps=10), registry, backends)
    request = pipe.settings.request("neural", audio_path=speech_clip(tmp_path / "hi.wav", "Hi."))
    result = pipe(request, tmp_path / "neural.mp4", lambda *_: None, CancelToken())
    assert_valid_mp4(result.path, width=SIZE, height=SIZE, fps=10)
    batcher = hub.get(LIPSYNC)
    assert batcher is not None and sum(batcher.batches) == result.frames
    # The checkpoint is part of the cache key: another model makes another video.
    other = ModelHub(ModelSettings(lipsync=tmp_path / "other.pth"))
    moved = Backends.with_defaults()
    other.register_backends(moved)
    assert Pipeline(pipe.settings, registry, moved).cache_key(request) != pipe.cache_key(request)


class RecordingBatcher:
    """Answers every chunk at once with grey mouths and records what is submitted and cancelled."""

    def __init__(self) -> None:
        from engine.models.lipsync.batcher import Ticket

        self.ticket = Ticket
        self.submitted: list[object] = []
        self.cancelled: list[object] = []

    def submit(self, mels: np.ndarray, faces: np.ndarray, *, priority: int = 0) -> object:
        ticket = self.ticket(priority, len(self.submitted), mels, faces)
        ticket.out[:] = 128
        ticket.finished.set()
        self.submitted.append(ticket)
        return ticket

    def cancel(self, ticket: object) -> None:
        self.cancelled.append(ticket)


def test_wav2lip_a_render_stopped_early_takes_its_frames_out_of_the_batcher(tmp_path: Path) -> None:
    from engine.face.photo import PhotoRenderer
    from engine.face.wav2lip import CHUNK, Wav2LipRenderer
    from engine.renderer import Clip
    from engine.timeline import from_speech
    from engine.types import MotionFrame, Speech, Viseme
    from tests.faces import save_picture

    photo = PhotoRenderer.from_file(save_picture(tmp_path / "astronaut.png"), SIZE, SIZE)
    speech = Speech(np.zeros(16000 * 4, np.float32))
    track = [MotionFrame(Viseme.REST, Viseme.REST, 0.0, 0.0, 0.0, 0.0)] * (3 * CHUNK)
    clip = Clip(speech, from_speech(speech, 25), track, SIZE, SIZE, 25, priority=Priority.BATCH)
    batcher = RecordingBatcher()
    frames = Wav2LipRenderer(photo, lambda i, c: photo.face_points(c.track[i]), batcher).frames(clip)  # type: ignore[arg-type]
    assert next(frames).shape == (SIZE * 3 // 2, SIZE)
    assert len(batcher.submitted) == 2  # the next chunk is with the network while this one is pasted
    frames.close()  # what the pipeline does when a render is cancelled between frames
    assert batcher.cancelled == [batcher.submitted[1]]
    assert {ticket.priority for ticket in batcher.submitted} == {Priority.BATCH}  # type: ignore[attr-defined]


def test_wav2lip_cluster_actor_passes_priority_and_cancels_through(narrow_checkpoint: Path) -> None:
    """The Ray actor's class, called in-process as its threads would: the same batcher underneath."""
    from engine.models.lipsync.cluster import LipSyncActor

    actor = LipSyncActor(ModelSettings(lipsync=narrow_checkpoint, device="cpu", lipsync_precision="fp32"))
    actor.cancel("early")  # a cancel that overtakes its submission
    with pytest.raises(RenderCancelled):
        actor.infer("early", "node-a:1", *inputs(2, 1), Priority.INTERACTIVE)
    outcomes: dict[str, object] = {}

    def call(key: str, label: str, seed: int, priority: int) -> None:
        try:
            outcomes[key] = actor.infer(key, label, *inputs(4, seed), priority)
        except RenderCancelled as exc:
            outcomes[key] = exc

    actor.pause()
    threads = [threading.Thread(target=call, args=args) for args in
               (("low", "node-a:1", 1, Priority.BATCH), ("gone", "node-a:1", 2, Priority.BATCH),
                ("high", "node-b:2", 3, Priority.INTERACTIVE))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(actor._tickets) < 3 and time.monotonic() < deadline:  # the three calls reach the batcher
        threading.Event().wait(0.01)
    orders = {key: ticket.order for key, ticket in actor._tickets.items()}
    assert actor.stats()["waiting"] == ["node-a:1", "node-b:2"]
    actor.cancel("gone")
    actor.resume()
    for thread in threads:
        thread.join(60)
    assert isinstance(outcomes["gone"], RenderCancelled) and orders["gone"] not in actor.batcher.served
    served = list(actor.batcher.served)
    assert served.index(orders["high"]) < served.index(orders["low"])  # the chat member's crops first
    assert ["node-a:1", "node-b:2"] in actor.stats()["groups"]  # both clients' crops in one pass
    assert np.array_equal(outcomes["high"], actor.batcher.infer(*inputs(4, 3)))  # type: ignore[arg-type]
