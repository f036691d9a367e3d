"""What every ``mouthpiece`` command shares: the ``--config`` option and the one-line failure.

The command line is built on click directly: it parses a command in a few milliseconds,
which matters when the whole command is one sentence rendered in a third of a second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from core.config import Config

F = TypeVar("F", bound=Callable[..., Any])

CONFIG_HELP = "config.toml to use (default: $MOUTHPIECE_CONFIG, then ./config.toml)"


def config_option(help: str = CONFIG_HELP) -> Callable[[F], F]:
    """``--config/-c PATH``, handed to the command as ``config`` (None: the usual search)."""
    return click.option("--config", "-c", "config", type=click.Path(path_type=Path), default=None, help=help)


class CommandFailed(click.ClickException):
    """Exit status 1 after one red line on stderr: ``error: MESSAGE``."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.secho(f"error: {self.message}", err=True, fg="red")


def fail(message: str) -> CommandFailed:
    """The exception to raise (``raise fail(...) from None``) when the user must change something."""
    return CommandFailed(message)


def load(config_path: Path | None, *, serving: bool = False) -> Config:
    """The chosen config, or exit with its problem; one-shot commands log only warnings and errors."""
    from core.config import ConfigError, load_config

    try:
        config = load_config(config_path)
    except ConfigError as error:
        raise fail(str(error)) from None
    level = logging.getLevelName(config.agent.log_level.upper())
    logging.basicConfig(level=level if serving else max(level, logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return config
