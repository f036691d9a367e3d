"""Render workers on a Ray cluster: what the bot gives them to build its backends, and the
``ray start`` command of ``mouthpiece worker`` that makes a machine one of them."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pluggy

    from core.config import Config
    from engine.backends import Backends
    from engine.models import ModelHub
    from engine.pipeline import Pipeline
    from engine.ray_executor import RayExecutor

#: The environment variable holding the cluster's shared token (Ray's token authentication).
TOKEN_ENV = "RAY_AUTH_TOKEN"
DEFAULT_PORT = 6379


def build_backends(config: Config, pm: pluggy.PluginManager, *,
                   on_cluster: bool = False) -> tuple[ModelHub, Backends]:
    """The engine's backends: the default ones, the neural voices of ``[models]`` and the plugins'.
    ``on_cluster``: for a Ray render worker, whose renders share the cluster's lip-sync actors."""
    from engine.backends import Backends
    from engine.models import ModelHub

    shared = None
    if on_cluster:
        from engine.models.lipsync.cluster import ClusterBatcher

        shared = ClusterBatcher
    models = ModelHub(config.models, shared_lipsync=shared)
    backends = Backends.with_defaults(layers_cache=config.engine.cache_dir / "layers")
    models.register_backends(backends)
    pm.hook.register_backends(register=backends.register)
    return models, backends


def worker_backends(config: Config) -> Backends:
    """On a render worker: the bot's backends, built from the bot's config by the same plugins."""
    from core.plugins import build_plugin_manager

    return build_backends(config, build_plugin_manager(config.plugins.disabled), on_cluster=True)[1]


def ray_executor(config: Config, pipeline: Pipeline) -> RayExecutor:
    """The "ray" executor of ``[engine]``: ``pipeline`` run by the workers of ``ray_address``."""
    from engine.ray_executor import RayExecutor
    from engine.ray_worker import WorkerSetup

    assert config.engine.ray_address is not None  # the settings refuse "ray" without it
    key = hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:16]
    setup = WorkerSetup(key, config.engine, functools.partial(worker_backends, config))
    return RayExecutor(pipeline, config.engine.ray_address, setup)


def ray_start_command(*, head: bool, address: str | None, port: int, renders: int, ip: str | None,
                      object_store_mb: int | None, extra: list[str]) -> list[str]:
    """``ray start`` for a head or a worker node offering ``renders`` renders at a time."""
    from engine.ray_worker import RENDER_RESOURCE

    ray = Path(sys.executable).with_name("ray")
    command = [str(ray), "start", "--disable-usage-stats", f"--num-cpus={renders}",
               f"--resources={json.dumps({RENDER_RESOURCE: renders})}"]
    if head:
        command += ["--head", f"--port={port}", "--include-dashboard=false"]
    else:
        command += [f"--address={address}"]
    if ip:
        command.append(f"--node-ip-address={ip}")
    if object_store_mb:
        command.append(f"--object-store-memory={object_store_mb * 1024 * 1024}")
    return command + extra


def ray_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of ``ray start``: token authentication on, usage statistics off.

    Raises ``ValueError`` when no token is set: a cluster without one runs anyone's code."""
    env = dict(os.environ if environ is None else environ)
    if not env.get(TOKEN_ENV):
        raise ValueError(f"set {TOKEN_ENV} to the cluster's shared secret (the same on the bot and every node; "
                         "make one with: python -c 'import secrets; print(secrets.token_hex(32))')")
    env.update(RAY_AUTH_MODE="token", RAY_USAGE_STATS_ENABLED="0")
    return env
