"""``mouthpiece models list|pull NAME|check``: get the optional neural models and check them.

``pull`` fetches from the Hugging Face Hub (``HF_ENDPOINT`` names a mirror) into ``[models]
folder``, loads each model the way the agent will, and only then writes its setting into the
config file. Nothing here runs inside the agent: it never downloads anything itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from core.cli_common import config_option, fail, load

if TYPE_CHECKING:
    from core.config import Config
    from core.model_catalog import Recommended

CONFIG_HELP = "config.toml to use and to write (default: $MOUTHPIECE_CONFIG, then ./config.toml)"


@click.group("models", no_args_is_help=True)
def app() -> None:
    """The optional neural models: list, pull and check them.

    pull downloads one from the Hugging Face Hub (or HF_ENDPOINT); check loads the configured ones.
    """


@contextmanager
def _quiet_loader_log() -> Iterator[None]:
    """The loaders log a failure with its traceback for the agent's log; here the message says it all."""
    logger = logging.getLogger("engine.models.loading")
    was, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = was


def _configured(config: Config, key: str) -> Path | None:
    """The folder ``[models]`` names for ``key`` (dotted for a table), or None."""
    setting, _, entry = key.partition(".")
    value = getattr(config.models, setting, None)
    return value.get(entry) if isinstance(value, dict) else value


@app.command("list")
@config_option(CONFIG_HELP)
def list_models(config: Path | None) -> None:
    """The models you can pull, and which are set up here.

    With the [models] setting each fills.
    """
    from core.model_catalog import GROUPS, available

    settings = load(config)
    rows = [("NAME", "SETTING", "SIZE", "HERE", "WHAT")]
    for model in available():
        folder = _configured(settings, model.key)
        here = "configured" if folder is not None else (
            "downloaded" if (settings.models.folder / model.name).is_dir() else "-")
        rows.append((model.name, model.key, f"~{model.size_mb} MB", here, model.what))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])
    click.echo("\nGroups: " + "; ".join(f"{name} ({what})" for name, what in GROUPS.items()))
    click.echo(f"mouthpiece models pull NAME puts a model in {settings.models.folder}/NAME and sets it in the config.")


@app.command()
@click.argument("name")
@config_option(CONFIG_HELP)
def pull(name: str, config: Path | None) -> None:
    """Download NAME, check that it loads, and set it in the config.

    NAME is a model or a group from 'mouthpiece models list'; it comes from the Hugging Face Hub
    (or HF_ENDPOINT).
    """
    from core.config import find_config_file
    from core.config_edit import set_model_paths
    from core.model_catalog import CatalogError, download, endpoint, resolve

    settings = load(config)
    try:
        models = resolve(name)
    except CatalogError as error:
        raise fail(str(error)) from None
    target = find_config_file(config) or Path("config.toml")
    total = sum(m.size_mb for m in models)
    click.echo(f"Pulling {len(models)} model(s), about {total} MB, from {endpoint() or 'the Hugging Face Hub'} "
               f"into {settings.models.folder}/")
    folders = {m.key: settings.models.folder / m.name for m in models}
    failed = []
    for model in models:
        folder = folders[model.key]
        click.echo(f"==> {model.name} ({model.repo}) → {folder}")
        try:
            download(model, folder)
        except Exception as error:  # noqa: BLE001 (network, missing repository, disk: say which, go on)
            failed.append(model.name)
            click.secho(f"    could not download it: {_reason(error)}", err=True, fg="red")
            folders.pop(model.key)
    with _quiet_loader_log():
        ready = _verified(models, folders, settings, failed)
    if ready:
        values = {key: folder.as_posix() for key, folder in ready.items()}
        set_model_paths(target, values)
        for key, value in values.items():
            click.echo(f"{target}: [models] {key} = \"{value}\"")
    if failed:
        raise fail(f"not set up: {', '.join(failed)} (run the same command again to retry; downloads resume)")


def _verified(models: list[Recommended], folders: dict[str, Path], settings: Config,
              failed: list[str]) -> dict[str, Path]:
    """The downloaded folders that load as the agent will load them; the others are reported."""
    from core.model_catalog import verify
    from engine.errors import ModelError

    ready = {}
    for model in models:
        if model.key not in folders:
            continue
        partner_key = {"speecht5": "hifigan", "hifigan": "speecht5"}.get(model.key)
        partner = (folders.get(partner_key) or _configured(settings, partner_key)) if partner_key else None
        try:
            verify(model.key, folders[model.key], partner)
        except ModelError as error:
            failed.append(model.name)
            click.secho(f"    {model.name} does not load: {error}", err=True, fg="red")
            continue
        click.echo(f"    {model.name} loads: ok")
        ready[model.key] = folders[model.key]
    return ready


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


@app.command()
@config_option(CONFIG_HELP)
def check(config: Path | None) -> None:
    """Load every configured model as the agent would; say which work."""
    from engine.settings import MODEL_KEYS

    settings = load(config)
    keys = [key for key in MODEL_KEYS if getattr(settings.models, key, None) is not None]
    keys += [f"vits_languages.{code}" for code in getattr(settings.models, "vits_languages", {}) or {}]
    if not keys:
        click.echo("No models are configured: everything runs on the model-free defaults. "
                   "See mouthpiece models list.")
        return
    with _quiet_loader_log():
        broken = sum(not _check_one(settings, key) for key in keys)
    if broken:
        raise SystemExit(1)


def _check_one(settings: Config, key: str) -> bool:
    """Load the model ``key`` names (with its partner, for SpeechT5 and its vocoder); say how it went."""
    from core.model_catalog import verify
    from engine.errors import ModelError

    folder = _configured(settings, key)
    assert folder is not None
    partner_key = {"speecht5": "hifigan", "hifigan": "speecht5"}.get(key)
    try:
        verify(key, folder, _configured(settings, partner_key) if partner_key else None)
    except ModelError as error:
        click.secho(f"{key:<18} {error}", fg="red")
        return False
    click.echo(f"{key:<18} {folder}: loads")
    return True
