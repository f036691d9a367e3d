"""Platform adapters; ``ADAPTERS`` maps each name to its class, imported on demand."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.adapter import Adapter

ADAPTERS = {
    "console": "adapters.console:ConsoleAdapter",
    "discord": "adapters.discord:DiscordAdapter",
    "telegram": "adapters.telegram:TelegramAdapter",
    "slack": "adapters.slack:SlackAdapter",
    "http": "adapters.http:HttpAdapter",
}


def load_adapter(name: str) -> type[Adapter]:
    module_name, _, class_name = ADAPTERS[name].partition(":")
    return getattr(importlib.import_module(module_name), class_name)
