"""The command line's progress bar: none for a quick render, a bar once a render takes a while."""

from __future__ import annotations

import io

from rich.console import Console

from core.cli_progress import DRAW_AFTER, LateProgressBar
from engine.engine import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_quick_render_draws_no_bar_and_a_long_one_does() -> None:
    clock, screen, consoles = Clock(), io.StringIO(), []

    def console() -> Console:
        consoles.append(Console(file=screen, force_terminal=True, width=80))
        return consoles[-1]

    bar = LateProgressBar("sakura", console, clock=clock)
    bar(Progress("j1", "preparing speech", 0, 1, None))
    clock.now += DRAW_AFTER / 2
    bar(Progress("j1", "rendering", 10, 40, None))
    assert consoles == [] and screen.getvalue() == ""  # nothing drawn, rich's console never made

    clock.now += DRAW_AFTER
    bar(Progress("j1", "rendering", 20, 40, None))
    assert len(consoles) == 1 and bar.bar is not None
    task = bar.bar.tasks[0]
    assert (task.description, task.completed, task.total) == ("sakura: rendering", 20, 40)
    bar.bar.refresh()
    assert "sakura: rendering" in screen.getvalue()
    bar.close()
    assert not bar.bar.live.is_started  # stopped: the terminal is handed back


def test_closing_before_anything_was_drawn_is_quiet() -> None:
    bar = LateProgressBar("neon", lambda: Console(file=io.StringIO()), clock=Clock())
    bar.close()
    assert bar.bar is None
