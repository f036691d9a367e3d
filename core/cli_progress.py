"""The command line's render progress: a bar on the terminal, only for a render that takes a while.

A sentence is rendered in a fraction of a second, before a bar would be worth drawing, and
importing rich for one costs 30 ms; so the bar appears on the first progress report after
``DRAW_AFTER`` seconds, and rich is imported only then.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress as Bar
    from rich.progress import TaskID

    from engine.engine import Progress

DRAW_AFTER = 0.5  # seconds


class LateProgressBar:
    """A render's ``on_progress``: draws a transient rich bar on ``console()`` once the render has
    taken ``DRAW_AFTER`` seconds; ``close()`` removes it."""

    def __init__(self, persona: str, console: Callable[[], Console],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.persona, self.console, self.clock = persona, console, clock
        self.started = clock()
        self.bar: Bar | None = None
        self.task: TaskID | None = None
        self._lock = threading.Lock()  # reports come from the engine's thread, close() from the caller's

    def __call__(self, progress: Progress) -> None:
        with self._lock:
            if self.bar is None and self.clock() - self.started < DRAW_AFTER:
                return
            shown = {"description": f"{self.persona}: {progress.stage}", "completed": progress.done,
                     "total": max(progress.total, 1)}
            if self.bar is None:
                self.bar = self._bar()
                self.task = self.bar.add_task(**shown)  # type: ignore[arg-type]
                self.bar.start()
            else:
                assert self.task is not None
                self.bar.update(self.task, **shown)  # type: ignore[arg-type]

    def close(self) -> None:
        with self._lock:
            if self.bar is not None:
                self.bar.stop()

    def _bar(self) -> Bar:
        from rich.progress import BarColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn
        from rich.progress import Progress as Bar

        columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn())
        return Bar(*columns, transient=True, console=self.console())
