"""``mouthpiece run``, ``doctor`` and ``worker``: serving the platforms, and the render cluster's nodes."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import TYPE_CHECKING

import click

from core.cli_common import config_option, fail, load
from core.cli_db import database_errors

if TYPE_CHECKING:
    from core.agent import Agent


def _agent(config_path: Path | None) -> Agent:
    from core.agent import Agent
    from core.config import Secrets

    config = load(config_path, serving=True)
    with database_errors():  # a database too new, unreachable or not upgradable: one clear line
        return Agent(config, Secrets.from_env())


@click.command()
@config_option()
@click.option("--as", "as_member", metavar="NAME",
              help="try the console as the member NAME (no admin rights), even with tokens set")
def run(config: Path | None, as_member: str | None) -> None:
    """Serve every platform whose token is set (the console when none is).

    All of them run in this one process, with the web dashboard when MOUTHPIECE_DASHBOARD_TOKEN is set.
    """
    import asyncio

    from core.runner import CONSOLE, Runner, SettingsRefused, choose_adapters, console_as, keep_log_out_of_chat

    gc.enable()

    agent = _agent(config)
    try:
        adapters = console_as(agent, as_member) if as_member is not None else choose_adapters(agent)
    except SettingsRefused as error:
        agent.storage.close()
        raise fail(str(error)) from None
    except ValueError as error:  # --as: a name no member could have
        agent.storage.close()
        raise fail(f"--as: {error}") from None
    # On the console Ctrl-C stays an interrupt, as in any terminal program; a service stops gracefully.
    serving_platforms = any(a.platform != CONSOLE for a in adapters)
    if not serving_platforms:
        keep_log_out_of_chat()
    asyncio.run(Runner(agent, adapters).run(handle_signals=serving_platforms))


@click.command()
@config_option()
def doctor(config: Path | None) -> None:
    """Which platforms can start, and what each is missing.

    Secrets themselves are never shown.
    """
    from core.config import Secrets, find_config_file
    from core.database import describe
    from core.runner import adapter_states

    settings = load(config)
    found = find_config_file(config)
    click.echo(f"config:    {found or 'built-in defaults'}")
    click.echo(f"database:  {describe(settings.agent.database)}")
    models = settings.models
    click.echo(f"models:    asr={models.asr or 'none'}, llm={models.llm or 'none'}, device={models.device}")
    click.echo("adapters:")
    states = adapter_states(Secrets.from_env(), settings)
    for state in states:
        click.echo(f"  {state.name:<10} {state.describe()}")
    platforms = [s.name for s in states if s.ready and s.name != "console"]
    serves = ", ".join(platforms) if platforms else "the console (no platform is ready)"
    click.echo(f"'mouthpiece run' serves: {serves}")


@click.command()
@click.option("--address", help="the head node's host:port (for a worker node)")
@click.option("--head", is_flag=True, help="start the cluster's head node (on the bot's machine)")
@click.option("--renders", type=click.IntRange(min=0),
              help="renders this node runs at once (default: one per core; 0 on a head)")
@click.option("--port", type=int, default=6379, show_default=True, help="the head's port")
@click.option("--ip", help="this node's address as the others reach it")
@click.option("--object-store-mb", type=click.IntRange(min=64), help="Ray object store size in MB")
@click.argument("extra", nargs=-1)
def worker(address: str | None, head: bool, renders: int | None, port: int, ip: str | None,
           object_store_mb: int | None, extra: tuple[str, ...]) -> None:
    """Start this machine as a render-cluster node (`ray start`).

    For [engine] executor = "ray".

    RAY_AUTH_TOKEN must hold the cluster's shared token, the same on the bot and every node.
    More `ray start` options (EXTRA) go after --.
    """
    import os
    import subprocess

    from core.cluster import ray_environment, ray_start_command

    if head == (address is not None):
        raise fail("give either --head (the first node) or --address HOST:PORT (a worker node)")
    try:
        env = ray_environment()
    except ValueError as error:
        raise fail(str(error)) from None
    slots = renders if renders is not None else (0 if head else os.cpu_count() or 1)
    command = ray_start_command(head=head, address=address, port=port, renders=slots, ip=ip,
                                object_store_mb=object_store_mb, extra=list(extra or []))
    click.echo(" ".join(command), err=True)
    try:
        raise SystemExit(subprocess.call(command, env=env))
    except FileNotFoundError:
        raise fail('Ray is not installed here: pip install "mouthpiece[ray]"') from None
