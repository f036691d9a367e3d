"""The "ray" executor on a real cluster: a head and a worker node started by the tests (see
tests/raycluster.py), with the bot's engine inside the cluster's private network."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import raycluster
from tests.media import assert_valid_mp4

WHY_NOT = raycluster.available()
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")


@pytest.fixture(scope="session")
def cluster() -> Iterator[raycluster.RayCluster]:
    started = raycluster.RayCluster()
    try:
        started.wait_ready()
        yield started
    finally:
        started.stop()


def test_ray_renders_spread_over_both_nodes(cluster: raycluster.RayCluster) -> None:
    seen = cluster.call("spread")  # text, an uploaded clip, a photo to animate, Spanish text
    assert len(seen["nodes"]) == 5 and len(set(seen["nodes"])) == 2, seen["nodes"]
    for result, stages, (done, total) in zip(seen["results"], seen["stages"], seen["last"]):
        path = Path(result["path"])
        assert path.parent == Path(seen["cache_dir"]) and not result["cached"]
        assert result["persona"] == "clusterpal"  # a persona only the bot has: its folder went along
        assert_valid_mp4(path, width=256, height=256, fps=20, duration=result["duration"])
        assert stages[0] in ("queued", "preparing speech") and "rendering" in stages
        assert done == total == result["frames"]


def test_ray_progress_and_cancel_across_the_cluster(cluster: raycluster.RayCluster) -> None:
    seen = cluster.call("cancel")
    assert seen["status"] == "cancelled"
    assert seen["error"] == "RenderCancelled: The render was cancelled."
    assert any("stopped on its worker" in m for m in seen["messages"])  # and its node's slot is free again
    rendering = [done for stage, done, total in seen["progress"] if stage == "rendering"]
    assert rendering and rendering == sorted(rendering) and rendering[-1] < seen["progress"][-1][2]
    assert not seen["cached"] and seen["parts"] == []


def test_ray_remote_bad_input_gives_the_clear_local_message(cluster: raycluster.RayCluster) -> None:
    answers = cluster.call("bad_input")
    for what, answer in answers.items():
        assert answer["remote"] == answer["local"], what
        assert answer["remote"] != "no error" and "ray" not in answer["remote"].lower(), answer
    assert answers["broken upload"]["remote"].startswith("AudioInputError: ")
    assert answers["voice sample"]["remote"].startswith("ModelNotConfiguredError: ")


def test_ray_cache_and_deduplication_answer_locally(cluster: raycluster.RayCluster) -> None:
    seen = cluster.call("cache_and_dedup")
    first, second = seen["together"]
    assert seen["renders_for_two"] == 1 and first["path"] == second["path"]
    assert seen["again"]["cached"] and seen["again"]["path"] == first["path"]
    assert seen["renders_after"] == 1  # the cache hit never reached the cluster
    assert Path(first["path"]).parent == Path(seen["cache_dir"])


def test_ray_killed_worker_node_render_is_retried(cluster: raycluster.RayCluster) -> None:
    seen = cluster.call("kill_worker_node", timeout=900)
    assert seen["killed"] >= 1
    assert any("lost its worker" in m and "trying once more" in m for m in seen["messages"]), seen["messages"]
    assert seen["nodes"].count(seen["victim"]) == 1 and seen["nodes"][-1] == seen["head"]  # retried on the head
    for result in seen["results"]:
        assert_valid_mp4(Path(result["path"]), width=384, height=384, fps=20, duration=result["duration"])


def test_ray_wav2lip_renders_on_both_nodes_share_one_model_actor(cluster: raycluster.RayCluster,
                                                                 tmp_path: Path) -> None:
    from engine.models.lipsync.model import Wav2Lip
    from tests.engine.test_wav2lip import NARROW, random_weights, save_official

    checkpoint = save_official(random_weights(Wav2Lip(NARROW)), tmp_path / "wav2lip_gan.pth")
    seen = cluster.call("wav2lip_shared_actor", checkpoint=str(checkpoint))
    assert len(set(seen["nodes"])) == 2, seen["nodes"]  # one render on each node
    mixed = [group for group in seen["groups"] if len({label.split(":")[0] for label in group}) == 2]
    assert mixed, seen["groups"]  # one forward pass took both nodes' face crops
    assert {label.split(":")[0] for label in mixed[0]} == set(seen["nodes"])
    assert all(count > 5 for count in seen["frames"]), seen["frames"]
    assert seen["largest"] == [0, 0]  # the shared actor gives what the in-process model gives
    assert seen["local_passes"] > 0  # the comparison really ran the in-process model
