"""What the platform benchmarks share: a throw-away config with the members' rate limits off,
since the benchmarks send one command after another as the same member on purpose."""

from __future__ import annotations

from pathlib import Path

from core.config import Config, LimitSettings
from tests.testbot import test_config


def benchmark_config(folder: Path) -> Config:
    config = test_config(folder)
    config.limits = LimitSettings(user_per_minute=0, server_per_minute=0, user_concurrent_jobs=0)
    return config
