"""The pluggy plugin manager: built-in plugins plus the ``mouthpiece.plugins`` entry points."""

from __future__ import annotations

import importlib
import inspect
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import pluggy
from pluggy import HookCaller

from core import hookspecs

if TYPE_CHECKING:  # the render commands load plugins without the database: sqlmodel stays unimported
    from sqlmodel import SQLModel

hookimpl = pluggy.HookimplMarker("mouthpiece")

log = logging.getLogger(__name__)

BUILTIN_PLUGINS = (
    "plugins.avatar", "plugins.help", "plugins.server", "plugins.announce", "plugins.welcome",
    "plugins.contest", "plugins.housekeeping", "plugins.chat", "plugins.voice", "plugins.dashboard",
    "plugins.persona",
)


#: The hooks that shape a render; ``RENDER_PLUGINS``: the built-in plugins implementing any of
#: them (a test keeps it true). A render alone needs only those and the installed plugins.
RENDER_HOOKS = ("register_personas", "register_backends")
RENDER_PLUGINS: tuple[str, ...] = ()


def build_plugin_manager(disabled: Iterable[str] = (), extra: Iterable[object] = (), *,
                         builtins: Iterable[str] = BUILTIN_PLUGINS) -> pluggy.PluginManager:
    """Register the ``builtins`` plugins, installed entry-point plugins and ``extra`` ones.

    ``disabled`` names plugins (the module's last dotted part, or the entry-point
    name) that are not loaded at all.
    """
    pm = pluggy.PluginManager("mouthpiece")
    pm.add_hookspecs(hookspecs)
    blocked = set(disabled)
    for name in blocked:
        pm.set_blocked(name)
    for module_name in builtins:
        short = module_name.rsplit(".", 1)[-1]
        if short not in blocked:
            pm.register(importlib.import_module(module_name), name=short)
    pm.load_setuptools_entrypoints("mouthpiece.plugins")
    for plugin in extra:
        pm.register(plugin)
    log.info("plugins loaded: %s", ", ".join(sorted(plugin_names(pm))))
    return pm


def migration_folders(pm: pluggy.PluginManager) -> list[Path]:
    """The folders of Alembic revisions the plugins ship for their own tables."""
    folders: list[Path] = []
    pm.hook.register_migrations(register=lambda folder: folders.append(Path(folder)))
    return folders


def declared_models(pm: pluggy.PluginManager) -> list[type[SQLModel]]:
    """The table classes the plugins declare, each once."""
    models: dict[str, type[SQLModel]] = {}
    pm.hook.register_models(register=lambda model: models.setdefault(str(model.__tablename__), model))
    return list(models.values())


def plugin_names(pm: pluggy.PluginManager) -> list[str]:
    return [name for name, plugin in pm.list_name_plugin() if plugin is not None]


async def first_handler(caller: HookCaller, **kwargs: Any) -> bool:
    """Offer an event to ``caller``'s implementations one at a time until one handles it.

    The order is pluggy's: the plugin registered last is asked first (extra plugins, then
    installed entry-point plugins, then the built-ins from the end of ``BUILTIN_PLUGINS``),
    ``tryfirst``/``trylast`` move one to the front or back. An implementation handles the event
    by returning True or an awaitable of True; it is awaited before the next one is asked, so a
    coroutine that declines (returns anything else) passes the event on.
    """
    for impl in reversed(caller.get_hookimpls()):
        result = impl.function(*(kwargs[name] for name in impl.argnames))
        if inspect.isawaitable(result):
            result = await result
        if result is True:
            return True
    return False


async def await_all(results: list[Any]) -> list[Any]:
    """Await the awaitables among hook results, in order (datasette's ``await_me_maybe``)."""
    return [await r if inspect.isawaitable(r) else r for r in results]
