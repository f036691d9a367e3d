"""Rate limits on the commands that render: per member and per server, and a cap on a
member's commands running at once.

Sliding one-minute windows, kept in memory: a restart forgets them, which only ever
lets someone in sooner. Admins are exempt. Which commands count is configured
(``[limits] rated_commands``): help and listings cost nothing and are never limited.
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from contextlib import contextmanager
from typing import Callable, Hashable, Iterator

from core.commands import CommandError
from core.config import LimitSettings
from core.events import Event, ParsedCommand

WINDOW_SECONDS = 60.0
#: Past this many remembered members or servers, forget those with no recent request.
_PRUNE_ABOVE = 4096


class LimitExceeded(CommandError):
    """A rated command refused for now; the message says how long to wait."""


class SlidingWindow:
    """At most ``limit`` hits per key in any ``period`` seconds (0: no limit)."""

    def __init__(self, limit: int, period: float = WINDOW_SECONDS) -> None:
        self.limit, self.period = limit, period
        self._hits: dict[Hashable, deque[float]] = {}

    def wait(self, key: Hashable, now: float) -> float:
        """Seconds until ``key`` may hit again; 0 when it may now."""
        hits = self._recent(key, now)
        if not self.limit or len(hits) < self.limit:
            return 0.0
        return hits[0] + self.period - now

    def hit(self, key: Hashable, now: float) -> None:
        if not self.limit:
            return
        self._recent(key, now).append(now)
        if len(self._hits) > _PRUNE_ABOVE:
            for stale in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.period]:
                del self._hits[stale]

    def _recent(self, key: Hashable, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.period:
            hits.popleft()
        return hits


class Limits:
    def __init__(self, settings: LimitSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self.rated = {name.strip().lower() for name in settings.rated_commands}
        self.per_user = SlidingWindow(settings.user_per_minute)
        self.per_server = SlidingWindow(settings.server_per_minute)
        self.running: Counter[tuple[str, str]] = Counter()

    def applies_to(self, command: ParsedCommand) -> bool:
        """Whether ``command`` is rated: by its name, or its name and first word."""
        first = command.args[0].lower() if command.args else ""
        return command.name in self.rated or f"{command.name} {first}" in self.rated

    @contextmanager
    def admit(self, event: Event, command: ParsedCommand, *, exempt: bool = False) -> Iterator[None]:
        """Hold a place for ``command`` while it runs, or raise ``LimitExceeded``."""
        if exempt or not self.applies_to(command):
            yield
            return
        user = (event.platform, event.user.id)
        server = (event.platform, event.channel.server_id)
        cap = self.settings.user_concurrent_jobs
        if cap and self.running[user] >= cap:
            raise LimitExceeded("You already have a video rendering; wait for it to finish, then try again.")
        now = self.clock()
        if wait := self.per_user.wait(user, now):
            raise LimitExceeded(f"Slow down a little: try again in {_seconds(wait)}.")
        if wait := self.per_server.wait(server, now):
            raise LimitExceeded(f"This server is asking for a lot of videos right now: try again in {_seconds(wait)}.")
        self.per_user.hit(user, now)
        self.per_server.hit(server, now)
        self.running[user] += 1
        try:
            yield
        finally:
            self.running[user] -= 1
            if not self.running[user]:
                del self.running[user]


def _seconds(wait: float) -> str:
    return f"{max(1, math.ceil(wait))} s"
