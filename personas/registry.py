"""All personas the agent knows: the built-ins plus the operator's own folders."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import UnknownPersonaError
from personas.model import PERSONA_FILE, Persona, load_persona

if TYPE_CHECKING:
    from engine.renderer import RendererBackend

log = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).parent / "builtin"
DEFAULT_PERSONA = "friendly"


class PersonaRegistry:
    """Built-ins first (sorted by folder), then each user folder in order; a later name overrides.

    Private personas (a server's own, ``personas.server_personas``) are found only by their exact
    name, an unguessable key: never listed, never picked by style.
    """

    def __init__(
        self,
        user_dirs: Iterable[Path] = (),
        default: str | None = None,
        builtin_dir: Path = BUILTIN_DIR,
        renderers: Mapping[str, RendererBackend] | None = None,
    ) -> None:
        """``renderers``: the registered renderer backends, which check each persona's assets
        (default: the built-in ones)."""
        self._personas: dict[str, Persona] = {}
        self._private: dict[str, Persona] = {}
        self._builtin_dir = builtin_dir
        self._renderers = renderers
        builtins = [load_persona(folder, renderers) for folder in _persona_folders(builtin_dir)]
        for persona in builtins:
            self._personas[persona.name] = persona
        for directory in user_dirs:
            self._load_user_dir(Path(directory))
        if not self._personas:
            raise ValueError(f"no personas found in {builtin_dir} or the user folders")
        self.default = self._pick_default(default, builtins)

    def get(self, name_or_style: str) -> Persona:
        """By name, else by style (both case-insensitive); ``UnknownPersonaError`` lists the choices."""
        wanted = name_or_style.strip().lower()
        if persona := self._personas.get(wanted):
            return persona
        for persona in self._personas.values():
            if persona.style == wanted:
                return persona
        if persona := self._private.get(wanted):
            return persona
        styles = sorted({p.style for p in self._personas.values()})
        raise UnknownPersonaError(
            f"There is no persona or style called '{name_or_style.strip()}'. "
            f"Personas: {', '.join(self.names())}; styles: {', '.join(styles)}."
        )

    def add(self, persona: Persona) -> None:
        """Add a persona loaded elsewhere, replacing one of the same name (a render worker's copy of
        a persona sent by the bot)."""
        self._personas[persona.name] = persona

    def load(self, folder: Path) -> Persona:
        """A persona folder loaded with this registry's renderer backends, not added to it."""
        return load_persona(folder, self._renderers)

    def add_private(self, persona: Persona) -> None:
        self._private[persona.name] = persona

    def remove_private(self, name: str) -> None:
        self._private.pop(name, None)

    def names(self) -> list[str]:
        return list(self._personas)

    def all(self) -> list[Persona]:
        return list(self._personas.values())

    def builtin(self) -> list[Persona]:
        """The personas that ship with Mouthpiece (unless a user persona replaced one)."""
        return [p for p in self._personas.values() if p.root.parent == self._builtin_dir]

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._personas

    def __len__(self) -> int:
        return len(self._personas)

    def _load_user_dir(self, directory: Path) -> None:
        if not directory.is_dir():
            log.info("persona folder %s does not exist; skipping it", directory)
            return
        # A folder that is itself a persona is accepted too, not only a folder of personas.
        folders = [directory] if (directory / PERSONA_FILE).is_file() else _persona_folders(directory)
        for folder in folders:
            try:
                persona = load_persona(folder, self._renderers)
            except (ValueError, OSError) as error:
                log.warning("skipping persona %s: %s", folder, error)
                continue
            if persona.name in self._personas:
                log.info("persona %s from %s replaces the one from %s",
                         persona.name, folder, self._personas[persona.name].root)
            self._personas[persona.name] = persona

    def _pick_default(self, default: str | None, builtins: list[Persona]) -> Persona:
        if default:
            return self.get(default)
        if DEFAULT_PERSONA in self._personas:
            return self._personas[DEFAULT_PERSONA]
        return self._personas[builtins[0].name] if builtins else next(iter(self._personas.values()))


def _persona_folders(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
