"""Loading operator-supplied model folders: local files only, clear errors that name the config key."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from engine.errors import ModelError

log = logging.getLogger(__name__)

T = TypeVar("T")


def check_folder(folder: Path, key: str, *, kinds: tuple[str, ...], what: str) -> str:
    """The ``model_type`` of the ``save_pretrained`` folder ``folder``; ``ModelError`` unless it is one of ``kinds``."""
    folder = Path(folder)
    setting = f"[models] {key} = \"{folder}\""
    if not folder.is_dir():
        raise ModelError(f"{setting}: that folder does not exist. Put {what} there (see the README's Models section) "
                         f"or remove the {key} setting.")
    config = folder / "config.json"
    try:
        model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type", "")
    except (OSError, ValueError) as error:
        raise ModelError(f"{setting}: no readable config.json there ({error}); it must hold {what} "
                         "saved with save_pretrained().") from error
    if model_type not in kinds:
        raise ModelError(f"{setting}: that folder holds a {model_type or 'unknown'!r} model, not {what}.")
    return str(model_type)


def load(key: str, folder: Path, loader: Callable[[], T]) -> T:
    """Run one ``from_pretrained`` call, turning its failures into a ``ModelError`` naming the setting."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # an agent's log is no terminal
    try:
        return loader()
    except ModelError:
        raise
    except Exception as error:  # loaders raise many kinds: safetensors, missing packages, bad configs...
        log.exception("could not load the %s model from %s", key, folder)
        raise ModelError(f"[models] {key} = \"{folder}\": the model there could not be loaded ({error}).") from error


def folder_fingerprint(*folders: Path | None) -> str:
    """Names, sizes and modification times of the files in ``folders``: changes when a model is replaced."""
    import hashlib

    digest = hashlib.sha256()
    for folder in folders:
        if folder is None:
            continue
        digest.update(f"{folder}\0".encode())
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    stat = path.stat()
                    digest.update(f"{path.relative_to(folder)}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()
