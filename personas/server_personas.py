"""A server's own personas: a photo or template video an admin made into a persona with
``!persona add NAME``, usable (``--persona NAME``) and listed only in that server.

Each is a face persona folder (``personas.faces``) under ``server-personas/`` next to the
database, named by a random key. The key is also its name in the persona registry, where it
is private (never listed, never found by style, too long to guess), so the engine renders
it like any persona while no other server can name it. A row says whose it is and what the
server calls it; at start-up every row's folder is loaded again.
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, UniqueConstraint, col, select

from core.storage import Storage, utcnow
from engine.errors import InputError
from personas.model import Persona
from personas.registry import PersonaRegistry

log = logging.getLogger(__name__)

SERVER_PERSONAS_DIR = "server-personas"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


class ServerPersona(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "server_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str
    server_id: str = Field(index=True)
    name: str  # what the server calls it (``--persona NAME``)
    key: str = Field(unique=True)  # its folder, and its private name in the registry
    created_by: str
    created_at: datetime = Field(default_factory=utcnow)


class ServerPersonas:
    """The server personas in the database, kept loaded in ``registry`` as private personas."""

    def __init__(self, storage: Storage, registry: PersonaRegistry, *, max_per_server: int) -> None:
        self.storage, self.registry, self.max_per_server = storage, registry, max_per_server
        self.folder = storage.data_dir / SERVER_PERSONAS_DIR
        with storage.session() as session:
            rows = list(session.exec(select(ServerPersona)))
        for row in rows:
            try:
                registry.add_private(registry.load(self.folder / row.key))
            except (ValueError, OSError) as error:
                log.warning("server persona %s of %s:%s can't be loaded: %s", row.name, row.platform,
                            row.server_id, error)

    def find(self, platform: str, server_id: str, name: str) -> Persona | None:
        """The server's own persona called ``name``, if it has one."""
        row = self._row(platform, server_id, name)
        return None if row is None else self._loaded(row)

    def listed(self, platform: str, server_id: str) -> list[tuple[str, Persona]]:
        """The server's own personas with their names, by name."""
        with self.storage.session() as session:
            query = select(ServerPersona).where(col(ServerPersona.platform) == platform,
                                                col(ServerPersona.server_id) == server_id)
            rows = sorted(session.exec(query), key=lambda r: r.name)
        return [(row.name, persona) for row in rows if (persona := self._loaded(row))]

    def _loaded(self, row: ServerPersona) -> Persona | None:
        try:
            return self.registry.get(row.key)
        except InputError:
            return None  # its folder failed to load at start-up (logged then)

    def add(self, platform: str, server_id: str, name: str, face: Path, *, created_by: str) -> Persona:
        """Make ``face`` (a photo or 1–30 s video, checked) the server's persona ``name``. ``InputError``
        (``FaceInputError`` for the face) says what is wrong; nothing is kept when it fails.
        Blocking: checking a face takes a moment."""
        from personas.faces import create_face_persona

        name = name.strip().lower()
        self._check_name(platform, server_id, name)
        key = "sp-" + secrets.token_hex(14)
        persona = create_face_persona(self.folder, key, face, display_name=name)
        try:
            self.storage.add(ServerPersona(platform=platform, server_id=server_id, name=name, key=key,
                                           created_by=created_by))
        except IntegrityError:  # another admin added the same name meanwhile
            shutil.rmtree(self.folder / key, ignore_errors=True)
            raise InputError(f"This server already has a persona called {name}.") from None
        self.registry.add_private(persona)
        return persona

    def remove(self, platform: str, server_id: str, name: str) -> bool:
        """Delete the server's persona ``name`` (row, registry entry, folder); False when there is none."""
        with self.storage.session() as session:
            row = session.exec(select(ServerPersona).where(
                col(ServerPersona.platform) == platform, col(ServerPersona.server_id) == server_id,
                col(ServerPersona.name) == name.strip().lower())).first()
            if row is None:
                return False
            session.delete(row)
            session.commit()
        self.registry.remove_private(row.key)
        shutil.rmtree(self.folder / row.key, ignore_errors=True)
        return True

    def _check_name(self, platform: str, server_id: str, name: str) -> None:
        if not _NAME.match(name):
            raise InputError(f"'{name}' can't be a persona name: use up to 32 lowercase letters, digits, - and _, "
                             "starting with a letter or digit.")
        if name in self.registry:
            raise InputError(f"There is already a persona called {name} on this bot; pick another name.")
        if self._row(platform, server_id, name) is not None:
            raise InputError(f"This server already has a persona called {name}. "
                             f"Remove it first to replace it.")
        with self.storage.session() as session:
            count = len(list(session.exec(select(ServerPersona.id).where(
                col(ServerPersona.platform) == platform, col(ServerPersona.server_id) == server_id))))
        if count >= self.max_per_server:
            raise InputError(f"This server has {count} personas of its own, the most it may have. "
                             "Remove one first.")

    def _row(self, platform: str, server_id: str, name: str) -> ServerPersona | None:
        with self.storage.session() as session:
            return session.exec(select(ServerPersona).where(
                col(ServerPersona.platform) == platform, col(ServerPersona.server_id) == server_id,
                col(ServerPersona.name) == name.strip().lower())).first()
