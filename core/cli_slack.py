"""``mouthpiece slack-manifest``: the Slack app's manifest, its slash commands made from the
commands' declarations (the installed plugins' included). Paste it at api.slack.com → *Create New
App* → *From a manifest*, or into the app's *App Manifest* page after adding a plugin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

ConfigOption = Annotated[Optional[Path], typer.Option(
    "--config", "-c", help="config.toml to use (default: $MOUTHPIECE_CONFIG, then ./config.toml)")]
UrlOption = Annotated[Optional[str], typer.Option(
    "--request-url", help="HTTP mode: the public address Slack posts events and commands to, e.g. "
                          "https://bot.example/slack/events (default: Socket Mode)")]


def slack_manifest(config: ConfigOption = None, request_url: UrlOption = None) -> None:
    """Print the Slack app manifest (JSON) for the commands of the configured plugins."""
    from adapters.slack_commands import manifest
    from core.commands import CommandRegistry
    from core.config import ConfigError, load_config
    from core.plugins import build_plugin_manager

    try:
        settings = load_config(config)
    except ConfigError as error:
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=1) from None
    registry = CommandRegistry(prefix=settings.agent.prefix)
    build_plugin_manager(settings.plugins.disabled).hook.register_commands(register=registry.register)
    typer.echo(json.dumps(manifest(registry, request_url=request_url), indent=2, ensure_ascii=False))
