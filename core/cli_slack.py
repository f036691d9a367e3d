"""``mouthpiece slack-manifest``: the Slack app's manifest, its slash commands made from the
commands' declarations (the installed plugins' included). Paste it at api.slack.com → *Create New
App* → *From a manifest*, or into the app's *App Manifest* page after adding a plugin."""

from __future__ import annotations

import json
from pathlib import Path

import click

from core.cli_common import config_option, load


@click.command("slack-manifest")
@click.option("--request-url", metavar="URL", help="HTTP mode: the public address Slack posts events and commands "
                                                   "to, e.g. https://bot.example/slack/events (default: Socket Mode)")
@config_option()
def slack_manifest(config: Path | None, request_url: str | None) -> None:
    """Print the Slack app manifest (JSON) for the configured plugins' commands."""
    from adapters.slack_commands import manifest
    from core.commands import CommandRegistry
    from core.plugins import build_plugin_manager

    settings = load(config)
    registry = CommandRegistry(prefix=settings.agent.prefix)
    build_plugin_manager(settings.plugins.disabled).hook.register_commands(register=registry.register)
    click.echo(json.dumps(manifest(registry, request_url=request_url), indent=2, ensure_ascii=False))
