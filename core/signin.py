"""One-time sign-in links to the web dashboard, scoped to one server (``!dashboard``).

A link carries a random code; only its SHA-256 is stored, so the database alone
signs nobody in. A code works once, within its lifetime, for the server it was made in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Field, SQLModel, col, delete, select

from core.storage import Storage, as_utc, utcnow


class SignInLink(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(index=True, unique=True)
    platform: str
    server_id: str
    server_name: str = ""
    user_id: str
    user_name: str = ""
    expires_at: datetime


@dataclass(frozen=True)
class Grant:
    """What a redeemed link signs its holder in as."""

    platform: str
    server_id: str
    server_name: str
    user_id: str
    user_name: str

    @property
    def server(self) -> str:
        return f"{self.platform}:{self.server_id}"


def issue(storage: Storage, grant: Grant, lifetime: timedelta, now: datetime | None = None) -> str:
    """A new code for ``grant``, valid for ``lifetime``; expired links are swept on the way."""
    moment = now or utcnow()
    code = secrets.token_urlsafe(32)
    with storage.session() as session:
        session.exec(delete(SignInLink).where(col(SignInLink.expires_at) < moment))
        session.add(SignInLink(code_hash=_digest(code), platform=grant.platform, server_id=grant.server_id,
                               server_name=grant.server_name, user_id=grant.user_id, user_name=grant.user_name,
                               expires_at=moment + lifetime))
        session.commit()
    return code


def redeem(storage: Storage, code: str, now: datetime | None = None) -> Grant | None:
    """The grant of a valid code, which is used up; None for an unknown, used or expired one."""
    moment = now or utcnow()
    with storage.session() as session:
        row = session.exec(select(SignInLink).where(SignInLink.code_hash == _digest(code))).first()
        if row is None:
            return None
        session.delete(row)
        session.commit()
    if as_utc(row.expires_at) <= moment:
        return None
    return Grant(row.platform, row.server_id, row.server_name, row.user_id, row.user_name)


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()
