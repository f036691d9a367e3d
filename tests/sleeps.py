"""Waits a library takes by itself (a flood-control retry, a back-off after a dropped poll),
driven instead of spent: the test checks the wait asked for, and goes on at once.

    waits = instant_sleeps(monkeypatch, telegram.ext._aioratelimiter)
    ...
    assert waits == [pytest.approx(1.1)]

``module`` must call ``asyncio.sleep`` through its own ``asyncio`` name. Use it only on a
module whose loops all end (one that sleeps between pings forever would spin).
"""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any

import pytest


class _InstantAsyncio:
    """The ``asyncio`` module, but ``sleep`` records the delay and only yields to the loop."""

    def __init__(self, waits: list[float]) -> None:
        self._waits = waits

    async def sleep(self, delay: float, result: Any = None) -> Any:
        self._waits.append(delay)
        return await asyncio.sleep(0, result)

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)


def instant_sleeps(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> list[float]:
    """Make ``module``'s ``asyncio.sleep`` return at once; the delays it was asked for, in order."""
    waits: list[float] = []
    monkeypatch.setattr(module, "asyncio", _InstantAsyncio(waits))
    return waits
