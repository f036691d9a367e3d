"""The "ray" executor's parts that need no cluster: request files and persona folders sent as bytes and
put back on the worker, the worker's fingerprint check, the settings and the ``mouthpiece worker`` command."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.cli import app
from core.cluster import ray_environment, ray_start_command
from engine.backends import Backends
from engine.errors import ModelError
from engine.pipeline import Pipeline
from engine.ray_worker import check_fingerprints
from engine.settings import EngineSettings
from engine.shipping import pack_files, pack_folder, unpack_files, unpack_folder
from engine.types import RenderRequest
from personas.model import load_persona
from personas.registry import BUILTIN_DIR, PersonaRegistry


@dataclass(frozen=True)
class FaceRequest(RenderRequest):
    """A request with one more file field, as later features add them."""

    face: Path | None = None


def test_every_path_field_of_a_request_travels_under_its_own_name(tmp_path: Path) -> None:
    (tmp_path / "clip.ogg").write_bytes(b"clip bytes")
    (tmp_path / "me.wav").write_bytes(b"sample bytes")
    (tmp_path / "face.png").write_bytes(b"face bytes")
    request = FaceRequest("friendly", audio_path=tmp_path / "clip.ogg", voice_sample=tmp_path / "me.wav",
                          face=tmp_path / "face.png")
    files = pack_files(request)
    assert sorted(files) == ["audio_path", "face", "voice_sample"]

    there = unpack_files(request, files, tmp_path / "worker")
    assert isinstance(there, FaceRequest)
    for field, data in (("audio_path", b"clip bytes"), ("voice_sample", b"sample bytes"), ("face", b"face bytes")):
        copy = getattr(there, field)
        assert copy.is_relative_to(tmp_path / "worker") and copy.name == getattr(request, field).name
        assert copy.read_bytes() == data
    assert (there.persona, there.text) == (request.persona, request.text)


def test_an_unreadable_file_stays_missing_on_the_worker(tmp_path: Path) -> None:
    request = RenderRequest("friendly", audio_path=tmp_path / "gone.mp3")
    files = pack_files(request)
    assert files["audio_path"].data is None
    there = unpack_files(request, files, tmp_path / "worker")
    assert there.audio_path is not None and there.audio_path.name == "gone.mp3" and not there.audio_path.exists()


def test_a_persona_folder_arrives_with_the_same_fingerprint(tmp_path: Path) -> None:
    original = load_persona(BUILTIN_DIR / "neon")
    dest = unpack_folder(pack_folder(original.root), tmp_path / original.fingerprint / "neon")
    copy = load_persona(dest)
    assert copy.fingerprint == original.fingerprint and copy.name == "neon"
    assert unpack_folder({"persona.toml": b"ignored"}, dest) == dest  # already there: left as it is


def test_a_packed_path_outside_its_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside its folder"):
        unpack_folder({"../escape.txt": b"x"}, tmp_path / "persona")
    assert not (tmp_path / "escape.txt").exists()


def test_a_ray_worker_set_up_unlike_the_bot_refuses_to_render() -> None:
    pipeline = Pipeline(EngineSettings(), PersonaRegistry(), Backends.with_defaults())
    request = RenderRequest("friendly", text="Hello")
    bots = pipeline.fingerprints(request)
    check_fingerprints(pipeline, request, bots)  # the same: renders
    with pytest.raises(ModelError, match=r"\(voice differ\).*same \[models\] folders"):
        check_fingerprints(pipeline, request, {**bots, "voice": "vits:cpu:another-model"})


def test_the_ray_executor_needs_the_head_address() -> None:
    with pytest.raises(ValueError, match="ray_address"):
        EngineSettings(executor="ray")
    assert EngineSettings(executor="ray", ray_address="10.0.0.5:6379").ray_address == "10.0.0.5:6379"
    assert EngineSettings().executor == "local"


def test_ray_worker_nodes_offer_render_slots_and_need_the_token() -> None:
    command = ray_start_command(head=False, address="10.0.0.5:6379", port=6379, renders=3, ip=None,
                                object_store_mb=256, extra=["--block"])
    assert command[1:3] == ["start", "--disable-usage-stats"]
    assert {"--num-cpus=3", '--resources={"mouthpiece_render": 3}', "--address=10.0.0.5:6379",
            f"--object-store-memory={256 * 1024 * 1024}"} <= set(command) and command[-1] == "--block"
    head = ray_start_command(head=True, address=None, port=6380, renders=0, ip="10.0.0.5", object_store_mb=None,
                             extra=[])
    assert {"--head", "--port=6380", "--num-cpus=0", "--node-ip-address=10.0.0.5"} <= set(head)
    with pytest.raises(ValueError, match="RAY_AUTH_TOKEN"):
        ray_environment({"PATH": "/usr/bin"})
    env = ray_environment({"RAY_AUTH_TOKEN": "s3cret"})
    assert env["RAY_AUTH_MODE"] == "token" and env["RAY_AUTH_TOKEN"] == "s3cret"


def test_mouthpiece_worker_refuses_to_start_a_node_without_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAY_AUTH_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["worker", "--address", "10.0.0.5:6379"])
    assert result.exit_code == 1 and "set RAY_AUTH_TOKEN" in result.output
    result = CliRunner().invoke(app, ["worker", "--head", "--address", "10.0.0.5:6379"])
    assert result.exit_code == 1 and "either --head" in result.output


def test_a_ray_render_whose_worker_dies_is_tried_once_more_then_fails_clearly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ray")
    from ray.exceptions import NodeDiedError, WorkerCrashedError

    from engine.engine import CancelToken
    from engine.errors import ClusterError
    from engine.ray_executor import RayExecutor
    from engine.ray_worker import WorkerSetup

    pipeline = Pipeline(EngineSettings(), PersonaRegistry(), Backends.with_defaults())
    executor = RayExecutor(pipeline, "127.0.0.1:1", WorkerSetup("k", EngineSettings(), Backends.with_defaults))
    outcomes: list[object] = []

    def attempt(job: object, report: object, cancel: object) -> tuple[dict[str, object], bytes]:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return {"persona": "friendly", "duration": 1.0, "frames": 25, "width": 512, "height": 512, "fps": 25,
                "timeline_source": "phonemes", "elapsed": 0.5, "cached": False, "path": ""}, b"mp4 bytes"

    monkeypatch.setattr(executor, "connect", lambda: None)
    monkeypatch.setattr(executor, "_folder", lambda persona: "folder ref")
    monkeypatch.setattr(executor, "_attempt", attempt)
    request = RenderRequest("friendly", text="Hello")

    outcomes[:] = [WorkerCrashedError(), "ok"]
    result = executor(request, tmp_path / "out.mp4", lambda *a: None, CancelToken())
    assert result.path == tmp_path / "out.mp4" and result.path.read_bytes() == b"mp4 bytes" and not outcomes

    outcomes[:] = [WorkerCrashedError(), NodeDiedError("gone")]
    with pytest.raises(ClusterError, match="stopped before finishing the video, twice"):
        executor(request, tmp_path / "again.mp4", lambda *a: None, CancelToken())


def test_persona_copies_unused_for_a_week_are_pruned(tmp_path: Path) -> None:
    """A machine keeps one folder per persona version the bot sent; those no render used for a week
    go, the one being unpacked stays whatever its age, and recently used ones stay."""
    import os
    import time

    from engine.ray_worker import PERSONA_COPY_DAYS, prune_persona_copies

    now = time.time()
    ages = {"stale": PERSONA_COPY_DAYS + 1, "fresh": PERSONA_COPY_DAYS - 1, "new-and-old": PERSONA_COPY_DAYS + 3}
    for name, days in ages.items():
        (tmp_path / name / "neon").mkdir(parents=True)
        (tmp_path / name / "neon" / "persona.toml").write_text("name = 'neon'\n")
        os.utime(tmp_path / name, (now - days * 86400, now - days * 86400))
    removed = prune_persona_copies(tmp_path, keep=tmp_path / "new-and-old", now=now)
    assert removed == [tmp_path / "stale"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh", "new-and-old"]
