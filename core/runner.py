"""Running several platform adapters in one process, against one agent (one engine, one database).

Which adapters run is decided by the secrets: an adapter whose environment
variables are missing is not started, and one log line says which variable it
lacks (never a value). With no platform ready, the console runs instead, as a
local try-out. A platform adapter whose connection fails or drops is started
again after a growing pause; one that cannot work as configured (a rejected
token) raises ``FatalAdapterError`` and is left stopped. SIGINT or SIGTERM stop
everything gracefully.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from adapters import ADAPTERS, load_adapter

if TYPE_CHECKING:
    from core.adapter import Adapter
    from core.agent import Agent
    from core.config import Config, Secrets

log = logging.getLogger(__name__)

CONSOLE = "console"
#: Seconds an adapter gets to finish its work once asked to stop, before it is cancelled.
STOP_GRACE = 10.0


class SettingsRefused(Exception):
    """An adapter's settings are unsafe (``Adapter.refused_settings``): nothing is started."""


class FatalAdapterError(Exception):
    """An adapter cannot run as configured (a rejected token, a missing intent); retrying won't help."""


@dataclass(frozen=True)
class AdapterState:
    """Whether one adapter can start: ``missing`` environment variables, or why it can't be loaded."""

    name: str
    missing: tuple[str, ...] = ()
    error: str = ""
    refused: str = ""

    @property
    def ready(self) -> bool:
        return not self.missing and not self.error and not self.refused

    def describe(self) -> str:
        if self.refused:
            return f"refused: {self.refused}"
        if self.error:
            return f"unavailable: {self.error}"
        if self.missing:
            return "missing " + ", ".join(self.missing)
        return "ready"


def adapter_states(secrets: Secrets, config: Config) -> list[AdapterState]:
    """Every known adapter and whether it can start with these secrets and this config."""
    states = []
    for name in ADAPTERS:
        try:
            adapter_class = load_adapter(name)
        except Exception as error:  # noqa: BLE001 (a platform library or module missing: report it, run the rest)
            states.append(AdapterState(name, error=f"{type(error).__name__}: {error}"))
            continue
        states.append(AdapterState(name, missing=tuple(adapter_class.missing_settings(secrets, config)),
                                   refused=adapter_class.refused_settings(secrets, config)))
    return states


def choose_adapters(agent: Agent) -> list[Adapter]:
    """The platform adapters whose secrets are set, or the console when there are none;
    ``SettingsRefused`` when an adapter's settings are unsafe to run with."""
    chosen = []
    for state in adapter_states(agent.secrets, agent.config):
        if state.refused:
            raise SettingsRefused(state.refused)
        if state.name == CONSOLE:
            continue
        if state.ready:
            chosen.append(load_adapter(state.name)(agent))
        elif state.error:
            log.warning("%s adapter not started: %s", state.name, state.error)
        else:
            verb = "is" if len(state.missing) == 1 else "are"
            log.info("%s adapter not started: %s %s not set", state.name, " and ".join(state.missing), verb)
    if not chosen:
        log.info("no platform is configured; running on the console")
        chosen.append(load_adapter(CONSOLE)(agent))
    return chosen


def keep_log_out_of_chat() -> None:
    """On the console the log shares the terminal with the chat: from now on only warnings and
    errors are shown there (the scheduler's INFO lines read like chat), unless DEBUG was asked for."""
    root = logging.getLogger()
    if root.level > logging.DEBUG:
        root.setLevel(max(root.level, logging.WARNING))


def console_as(agent: Agent, name: str) -> list[Adapter]:
    """The console alone, typed on as the member ``name`` (``mouthpiece run --as NAME``)."""
    from adapters.console import ConsoleAdapter
    from adapters.console_commands import member

    return [ConsoleAdapter(agent, user=member(name))]


@dataclass
class Backoff:
    """Pauses between restarts of a failing adapter: ``first``, doubling up to ``longest`` seconds."""

    first: float = 1.0
    longest: float = 300.0


@dataclass
class Runner:
    """Starts the agent once, serves every adapter until stopped, then stops them all."""

    agent: Agent
    adapters: list[Adapter]
    backoff: Backoff = field(default_factory=Backoff)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    async def run(self, *, handle_signals: bool = False) -> None:
        async with self.agent:
            loop = asyncio.get_running_loop()
            if handle_signals:
                for signum in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(signum, self.stop)
            tasks = [asyncio.create_task(self._serve(adapter), name=f"adapter-{adapter.platform}")
                     for adapter in self.adapters]
            try:
                await self._until_stopped_or_done(tasks)
            finally:
                await self._stop_adapters(tasks)
                if handle_signals:
                    for signum in (signal.SIGINT, signal.SIGTERM):
                        loop.remove_signal_handler(signum)

    def stop(self) -> None:
        """Ask every adapter to stop; ``run`` returns once they have."""
        if not self._stopping.is_set():
            log.info("stopping")
            self._stopping.set()

    async def _until_stopped_or_done(self, tasks: list[asyncio.Task[None]]) -> None:
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            while not self._stopping.is_set() and not all(t.done() for t in tasks):
                await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()

    async def _serve(self, adapter: Adapter) -> None:
        """Run ``adapter``; start it again after a pause whenever it fails or its connection ends."""
        delay = self.backoff.first
        self.agent.attach(adapter)
        try:
            while not self._stopping.is_set():
                try:
                    await adapter.run()
                    if self._stopping.is_set() or adapter.platform == CONSOLE:
                        return
                    log.warning("%s connection ended; reconnecting in %.0f s", adapter.platform, delay)
                except FatalAdapterError as error:
                    log.error("%s adapter stopped: %s", adapter.platform, error)
                    return
                except Exception as error:
                    log.warning("%s adapter failed (%s: %s); retrying in %.0f s", adapter.platform,
                                type(error).__name__, error, delay, exc_info=log.isEnabledFor(logging.DEBUG))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                delay = min(delay * 2, self.backoff.longest)
        finally:
            self.agent.detach(adapter)

    async def _stop_adapters(self, tasks: list[asyncio.Task[None]]) -> None:
        self._stopping.set()
        for adapter in self.adapters:
            try:
                await adapter.stop()
            except Exception:
                log.exception("%s adapter did not stop cleanly", adapter.platform)
        _, late = await asyncio.wait(tasks, timeout=STOP_GRACE) if tasks else (set(), set())
        for task in late:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
