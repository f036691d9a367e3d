"""The test kit as a plugin author gets it: their plugin and mouthpiece installed, no conftest.py,
no checkout of this repository on the path; the fixtures come from the ``pytest11`` entry point
and the agent loads the plugin through its ``mouthpiece.plugins`` entry point."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "greeter-plugin"  # the README's example project


def test_a_third_party_plugin_project_runs_its_tests_with_the_kit(tmp_path: Path) -> None:
    project, site = tmp_path / "mouthpiece-greeter", tmp_path / "site"
    shutil.copytree(EXAMPLE, project)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(site), str(project)], check=True, capture_output=True)
    (project / "mouthpiece_greeter.py").unlink()  # only the installed copy may be found
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                         cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout, run.stdout
    assert not list(project.rglob("conftest.py"))
