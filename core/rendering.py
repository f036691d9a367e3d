"""What a render needs and nothing more: personas, backends, models, the pipeline and its engine.

The agent builds these for the bot; the CLI's render commands build only these, so one
sentence is rendered without opening the database, starting the scheduler or importing
the chat plugins. Plugins shape renders through two hooks, ``register_personas`` and
``register_backends``, so only the plugins that may implement them are loaded here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pluggy

    from core.config import Config
    from engine.backends import Backends
    from engine.engine import RenderEngine
    from engine.models import ModelHub
    from engine.pipeline import Pipeline
    from personas.registry import PersonaRegistry


@dataclass(frozen=True)
class RenderStack:
    config: Config
    personas: PersonaRegistry
    models: ModelHub
    backends: Backends
    pipeline: Pipeline
    engine: RenderEngine


def build_render_stack(config: Config, pm: pluggy.PluginManager) -> RenderStack:
    """Personas (built-in, configured and plugins' folders) and an engine over every backend."""
    from core.cluster import build_backends, ray_executor
    from engine.engine import RenderEngine, RenderFn
    from engine.pipeline import Pipeline
    from personas.registry import PersonaRegistry

    models, backends = build_backends(config, pm)
    folders = list(config.personas.user_dirs)
    pm.hook.register_personas(register=folders.append)
    # A plugin's renderer checks the assets of the personas of its kind as they load.
    personas = PersonaRegistry(user_dirs=folders, default=config.personas.default, renderers=backends.renderer)
    pipeline = Pipeline(config.engine, personas, backends)
    render_fn: RenderFn = pipeline
    if config.engine.executor == "ray":  # the same pipeline, run by the cluster's workers
        render_fn = ray_executor(config, pipeline)
    engine = RenderEngine(config.engine, render_fn, pipeline.cache_key)
    return RenderStack(config, personas, models, backends, pipeline, engine)
