"""Web dashboard sessions, kept in the database so that a restart signs nobody out.

The cookie holds a random session id. A row is found by an HMAC of that id keyed with the
dashboard token, so the database alone opens no session (and holds nothing of the token), and
setting a new ``MOUTHPIECE_DASHBOARD_TOKEN`` (say, after a leak) signs everyone out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Field, SQLModel, col, delete, func, select

from core.storage import Storage, as_utc


class DashboardSession(SQLModel, table=True):
    key: str = Field(primary_key=True)  # HMAC-SHA256 of the cookie's session id, keyed with the token
    user_id: str
    name: str
    server: str | None = None  # "platform:server_id" for a server's admin; None for the operator
    server_name: str = ""
    csrf: str
    expires_at: datetime = Field(index=True)


@dataclass(frozen=True)
class Holder:
    """Who a session signs in, as stored."""

    user_id: str
    name: str
    server: str | None
    server_name: str
    csrf: str


class SessionStore:
    """Sessions of one dashboard token in ``storage``; at most ``limit`` (those nearest expiry go first)."""

    def __init__(self, storage: Storage, token: str, limit: int) -> None:
        self.storage = storage
        self._token = token.encode("utf-8", "surrogatepass")
        self.limit = limit

    def open(self, user_id: str, name: str, server: str | None, server_name: str, expires_at: datetime,
             now: datetime) -> str:
        """A new session, with a fresh CSRF token; returns its id (for the cookie)."""
        session_id = secrets.token_urlsafe(32)
        with self.storage.session() as db:
            db.exec(delete(DashboardSession).where(col(DashboardSession.expires_at) <= now))
            count = db.exec(select(func.count()).select_from(DashboardSession)).one()
            if count >= self.limit:
                nearest = select(DashboardSession.key).order_by(col(DashboardSession.expires_at)).limit(
                    count - self.limit + 1)
                db.exec(delete(DashboardSession).where(col(DashboardSession.key).in_(nearest)))
            db.add(DashboardSession(key=self._key(session_id), user_id=user_id, name=name,
                                    server=server, server_name=server_name, csrf=secrets.token_urlsafe(24),
                                    expires_at=expires_at))
            db.commit()
        return session_id

    def get(self, session_id: str, now: datetime) -> Holder | None:
        """The holder of a live session opened under this token; an expired one is deleted."""
        with self.storage.session() as db:
            row = db.get(DashboardSession, self._key(session_id))
            if row is None:
                return None
            if as_utc(row.expires_at) <= now:
                db.delete(row)
                db.commit()
                return None
            return Holder(row.user_id, row.name, row.server, row.server_name, row.csrf)

    def close(self, session_id: str) -> None:
        with self.storage.session() as db:
            db.exec(delete(DashboardSession).where(col(DashboardSession.key) == self._key(session_id)))
            db.commit()

    def _key(self, session_id: str) -> str:
        return hmac.new(self._token, session_id.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
