"""A real Ray cluster for the tests: a head and a worker node on loopback, in a network namespace.

Ray replaces 127.0.0.1 with the machine's routable address unless that is the only address
there is, so the cluster lives in a private network (and PID) namespace started with
``unshare``: inside, only loopback exists, and when the namespace's first process ends the
kernel ends every node with it. That first process starts the nodes with ``mouthpiece worker``
(``ray start``, token authentication on, the same random token for every node), then becomes
the bot: an agent whose ``[engine] executor = "ray"``. The tests drive it over a Unix socket
(files are shared with the namespace, the network is not): each call runs a function of
``tests.ray_scenarios`` there and returns what it observed.

    python -m tests.raycluster FOLDER    # run inside the namespace; RayCluster does it
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PORT = 6379
HEAD = f"127.0.0.1:{PORT}"
KEY_ENV = "MOUTHPIECE_TEST_DRIVER_KEY"
START_SECONDS = 300  # a bound, not a wait: the nodes start in ~40 s on two busy cores
#: Dead nodes are noticed in about two seconds instead of Ray's default fifteen or more.
HEALTH_CHECKS = {"health_check_initial_delay_ms": 1000, "health_check_period_ms": 500,
                 "health_check_timeout_ms": 500, "health_check_failure_threshold": 4}
#: Small nodes: one render at a time each, a small object store.
NODE = ["--renders", "1", "--ip", "127.0.0.1", "--object-store-mb", "96"]


def available() -> str | None:
    """Why the cluster can't run here, or None."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return 'Ray is not installed (pip install -e ".[dev,ray]")'
    if os.geteuid() != 0:
        return "a network namespace needs root"
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare and ip (util-linux, iproute2) are needed"
    return None


class RayCluster:
    """The pytest side: starts the namespace, then calls scenarios in the bot inside it."""

    def __init__(self) -> None:
        # Short: Ray's socket paths under it must stay below the 107 bytes a Unix socket allows.
        self.folder = Path(tempfile.mkdtemp(prefix="mp-ray-"))
        self.log = self.folder / "cluster.log"
        self._key = secrets.token_bytes(32)
        self._conn: Connection | None = None
        env = {**os.environ, "RAY_AUTH_TOKEN": secrets.token_hex(32), KEY_ENV: self._key.hex(),
               "PYTHONPATH": str(ROOT)}
        with open(self.log, "wb") as log:
            self._process = subprocess.Popen(
                ["unshare", "--net", "--pid", "--fork", "--mount-proc", "--kill-child",
                 sys.executable, "-m", "tests.raycluster", str(self.folder)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self) -> None:
        socket = self.folder / "driver.sock"
        deadline = time.monotonic() + START_SECONDS
        while not socket.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the test cluster did not start:\n{self.tail()}")
            time.sleep(0.2)
        self._conn = Client(str(socket), family="AF_UNIX", authkey=self._key)

    def call(self, scenario: str, timeout: float = 600, **kwargs: Any) -> Any:
        """Run ``tests.ray_scenarios.<scenario>(bot, **kwargs)`` in the bot; its result, or its failure."""
        if self._conn is None:
            raise RuntimeError("the test cluster is not running (it did not start, or a call timed out)")
        self._conn.send((scenario, kwargs))
        if not self._conn.poll(timeout):
            self._conn.close()
            self._conn = None  # its answer may still come: no later call may take it for its own
            raise TimeoutError(f"{scenario} took more than {timeout} s:\n{self.tail()}")
        status, value = self._conn.recv()
        if status != "ok":
            raise AssertionError(f"{scenario} failed in the cluster's bot:\n{value}")
        return value

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)  # unshare passes it to the namespace's first process
            try:
                self._process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(30)
        shutil.rmtree(self.folder, ignore_errors=True)


# -- inside the namespace ---------------------------------------------------------------------


def start_node(folder: Path, *, head: bool) -> None:
    """``mouthpiece worker`` for a head or a worker node, as an operator runs it."""
    mouthpiece = Path(sys.executable).with_name("mouthpiece")
    where = ["--head", "--port", str(PORT)] if head else ["--address", HEAD]
    ray_options = [f"--temp-dir={folder / 'ray'}"]
    if head:
        ray_options.append(f"--system-config={json.dumps(HEALTH_CHECKS)}")
    subprocess.run([str(mouthpiece), "worker", *where, *NODE, "--", *ray_options],
                   check=True, timeout=START_SECONDS, cwd=ROOT)


def kill_node(node_id: str) -> int:
    """SIGKILL a node's raylet and everything it started, as if its machine lost power; how many died."""
    raylets = [pid for pid in _pids() if f"--node_id={node_id}" in _cmdline(pid)]
    doomed = set()
    for raylet in raylets:
        doomed |= _family(raylet)
    for pid in doomed:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(doomed)


def _pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _family(pid: int) -> set[int]:
    family, todo = {pid}, [pid]
    while todo:
        parent = todo.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            if child not in family:
                family.add(child)
                todo.append(child)
    return family


def serve(folder: Path) -> None:
    from tests import ray_scenarios

    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    start_node(folder, head=True)
    start_node(folder, head=False)
    bot = ray_scenarios.Bot(folder)
    key = bytes.fromhex(os.environ.pop(KEY_ENV))
    with Listener(str(folder / "driver.sock"), family="AF_UNIX", authkey=key) as listener:
        with listener.accept() as conn:
            while True:
                try:
                    name, kwargs = conn.recv()
                except EOFError:
                    return
                try:
                    conn.send(("ok", getattr(ray_scenarios, name)(bot, **kwargs)))
                except Exception:
                    conn.send(("error", traceback.format_exc()))


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
