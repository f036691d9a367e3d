"""The hooks a Mouthpiece plugin may implement.

A plugin is a module (or object) with functions decorated by
``pluggy.HookimplMarker("mouthpiece")`` (re-exported as ``core.plugins.hookimpl``)
whose names match the specs below. Third-party plugins are found through the
``mouthpiece.plugins`` entry-point group.

Hooks named ``on_*`` and ``startup``/``shutdown`` may return an awaitable: the
agent awaits whatever they return.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import pluggy

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler
    from sqlmodel import SQLModel

    from core.agent import Agent
    from core.commands import Command
    from core.context import Context
    from core.events import MemberJoinEvent, MessageEvent, VoteEvent

hookspec = pluggy.HookspecMarker("mouthpiece")


@hookspec
def startup(agent: Agent) -> Any:
    """Called once when the agent has started, before any event is handled.

    Open resources here; ``agent`` gives the config, storage, engine and personas.
    """


@hookspec
def shutdown(agent: Agent) -> Any:
    """Called once when the agent stops; release what ``startup`` opened."""


@hookspec
def register_commands(register: Callable[[Command], None]) -> None:
    """Register chat commands: call ``register(Command(...))`` once per command."""


@hookspec
def on_message(event: MessageEvent, ctx: Context) -> Any:
    """A message that is not a command (a mention, a reply, a direct message).

    Return True (or an awaitable of True) when the plugin handled it: the agent offers the
    message to one plugin at a time, the last registered first (``core.plugins.first_handler``),
    and stops at the first that handles it, so two plugins never both answer. Return None or
    False to pass it on.
    """


@hookspec
def on_member_join(event: MemberJoinEvent, ctx: Context) -> Any:
    """A member joined a server or channel the bot is in."""


@hookspec
def on_vote(event: VoteEvent, ctx: Context) -> Any:
    """A member voted (reaction or button) on a poll the bot posted."""


@hookspec
def register_jobs(scheduler: BaseScheduler, agent: Agent) -> None:
    """Add recurring jobs to the agent's APScheduler (jobs persist in the database).

    Called in the process that runs the scheduled jobs, when it takes the lead (see ``on_leadership``).
    """


@hookspec
def on_leadership(agent: Agent) -> Any:
    """This process now runs the scheduled jobs: at start-up, or on taking over from a process
    that died when several share a PostgreSQL database. Catch up on work missed meanwhile
    (a deadline that passed); every process gets ``startup``, only the leader gets this."""


@hookspec
def register_migrations(register: Callable[[Path], None]) -> None:
    """A plugin with tables of its own: ``register(folder)`` with the folder of its Alembic revisions.

    The first revision has ``down_revision = None`` and ``branch_labels = ("<plugin name>",)``;
    the agent upgrades every plugin's line to its head at start-up (see the README's Database section).
    """


@hookspec
def register_models(register: Callable[[type[SQLModel]], None]) -> None:
    """Declare the sqlmodel table classes (``table=True``) the plugin owns: ``register(Model)`` each.

    Their tables come from migrations (``register_migrations``, or Mouthpiece's own); the agent
    refuses to start when a declared model's table is missing, naming it.
    """


@hookspec
def register_personas(register: Callable[..., None]) -> None:
    """Contribute persona folders: call ``register(path)`` for each folder of personas."""


@hookspec
def register_backends(register: Callable[..., None]) -> None:
    """Contribute engine backends: ``register(kind, name, factory)``.

    ``kind`` is ``"tts"`` (factory: ``(text, VoiceSettings) -> Speech``) or
    ``"renderer"`` (an ``engine.renderer.RendererBackend``: checks and fingerprints the assets of
    the personas that name it, and opens renderers that take a whole clip).
    """
