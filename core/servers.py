"""Per-server settings: ``config.server(...)`` with the changes admins made by command on top.

An admin's change (``!server persona sakura``) is stored in SQLite, one row per
server and setting, so it survives a restart; clearing it brings the config's
value back. Every plugin reads the merged view through ``agent.server_settings``.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel, select

from core.config import Config, ServerSettings
from core.storage import Storage, utcnow

log = logging.getLogger(__name__)

#: Settings an admin may change by command. Server admins come only from the config,
#: so a chat command can never hand out admin rights.
OVERRIDABLE = frozenset({
    "persona", "timezone", "announce_channel", "welcome_channel", "welcome_template", "welcome_persona",
    "disabled_plugins", "language", "welcome_language",
})


class ServerOverride(SQLModel, table=True):
    """One setting of one server, changed by an admin's command."""

    __table_args__ = (UniqueConstraint("platform", "server_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(index=True)
    server_id: str = Field(index=True)
    key: str
    value_json: str
    changed_by: str = ""
    changed_at: datetime = Field(default_factory=utcnow)


class ServerSettingsStore:
    def __init__(self, storage: Storage, config: Config) -> None:
        self.storage = storage
        self.config = config

    def settings(self, platform: str, server_id: str) -> ServerSettings:
        """The config's settings of this server with its stored overrides applied."""
        merged = self.config.server(platform, server_id)
        for key, value in self._overrides(platform, server_id).items():
            try:
                merged = _with(merged, key, value)
            except ValueError as error:  # e.g. a time zone the system no longer knows
                log.warning("ignoring the stored %s of %s:%s: %s", key, platform, server_id, error)
        return merged

    def change(self, platform: str, server_id: str, key: str, value: Any, *, by: str = "") -> ServerSettings:
        """Store one setting; ``ValueError`` with a message for the admin when it is invalid."""
        if key not in OVERRIDABLE:
            raise ValueError(f"{key} can't be changed by command")
        updated = _with(self.settings(platform, server_id), key, value)
        with self.storage.session() as session:
            row = self._row(session, platform, server_id, key)
            if row is None:
                row = ServerOverride(platform=platform, server_id=server_id, key=key, value_json="")
            row.value_json, row.changed_by, row.changed_at = json.dumps(value), by, utcnow()
            session.add(row)
            session.commit()
        return updated

    def clear(self, platform: str, server_id: str, key: str) -> ServerSettings:
        """Forget the admin's change: the config's value applies again."""
        with self.storage.session() as session:
            row = self._row(session, platform, server_id, key)
            if row is not None:
                session.delete(row)
                session.commit()
        return self.settings(platform, server_id)

    def overridden(self, platform: str, server_id: str) -> set[str]:
        """The settings of this server that an admin changed by command."""
        return set(self._overrides(platform, server_id))

    def _overrides(self, platform: str, server_id: str) -> dict[str, Any]:
        with self.storage.session() as session:
            rows = session.exec(select(ServerOverride).where(
                ServerOverride.platform == platform, ServerOverride.server_id == server_id))
            return {row.key: json.loads(row.value_json) for row in rows if row.key in OVERRIDABLE}

    @staticmethod
    def _row(session: Any, platform: str, server_id: str, key: str) -> ServerOverride | None:
        return session.exec(select(ServerOverride).where(
            ServerOverride.platform == platform, ServerOverride.server_id == server_id,
            ServerOverride.key == key)).first()


def _with(settings: ServerSettings, key: str, value: Any) -> ServerSettings:
    """``settings`` with one field replaced, validated as the config file's values are."""
    try:
        return ServerSettings.model_validate({**settings.model_dump(), key: value})
    except ValidationError as error:
        raise ValueError("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())) from None
