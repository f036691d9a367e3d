"""Who is asking: the operator's token (``Authorization: Bearer``, compared in constant time),
or a dashboard session (an HttpOnly, SameSite=Strict cookie) opened with that token or
with a one-time ``!dashboard`` link, which limits it to one server.

Sessions are kept in the database, so a restart signs nobody out; a new token signs everyone
out. A session's requests that change something must carry its CSRF token (a form field, or
the ``X-CSRF-Token`` header).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import HTTPException, Request

from core.dashboard_sessions import SessionStore
from core.storage import Storage, utcnow

SESSION_COOKIE = "mouthpiece_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Sessions kept at most; past this the ones nearest to expiry go first.
MAX_SESSIONS = 1000


@dataclass(frozen=True)
class Principal:
    """Someone signed in: the operator (``server`` None: every server) or a server's admin."""

    user_id: str
    name: str
    server: str | None = None
    server_name: str = ""
    csrf: str = ""  # the session's; empty for the bearer token

    def may_use(self, server: str) -> bool:
        return self.server is None or self.server == server


OPERATOR = Principal("api", "API")


class Sessions:
    """The operator's token, and the sessions opened with it (kept in the database: ``core.dashboard_sessions``)."""

    def __init__(self, token: str, lifetime: timedelta, storage: Storage,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._token = hashlib.sha256(token.encode()).digest()
        self._store = SessionStore(storage, token, MAX_SESSIONS)
        self.lifetime = lifetime
        self.clock = clock

    def token_matches(self, offered: str) -> bool:
        # Both sides hashed to the same length first, so not even the token's length leaks.
        return hmac.compare_digest(hashlib.sha256(offered.encode("utf-8", "surrogatepass")).digest(), self._token)

    def open(self, principal: Principal) -> str:
        """A new session for ``principal``; returns the cookie value."""
        now = self.clock()
        return self._store.open(principal.user_id, principal.name, principal.server, principal.server_name,
                                expires_at=now + self.lifetime, now=now)

    def get(self, session_id: str) -> Principal | None:
        holder = self._store.get(session_id, self.clock())
        if holder is None:
            return None
        return Principal(holder.user_id, holder.name, holder.server, holder.server_name, csrf=holder.csrf)

    def close(self, session_id: str) -> None:
        self._store.close(session_id)


class NotSignedIn(HTTPException):
    def __init__(self, detail: str) -> None:
        super().__init__(401, detail, headers={"WWW-Authenticate": 'Bearer realm="mouthpiece"'})


def api_principal(request: Request) -> Principal:
    """The API's caller: the bearer token, or a session cookie (with its CSRF token on changes)."""
    sessions: Sessions = request.app.state.sessions
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, offered = header.partition(" ")
        if scheme.lower() != "bearer" or not offered.strip():
            raise NotSignedIn("Send the dashboard token as 'Authorization: Bearer TOKEN'.")
        if not sessions.token_matches(offered.strip()):
            raise NotSignedIn("That token is not valid.")
        return OPERATOR
    principal = session_principal(request)
    if principal is None:
        raise NotSignedIn("Sign in first: send 'Authorization: Bearer TOKEN', or sign in to the dashboard.")
    if request.method not in SAFE_METHODS:
        check_csrf(principal, request.headers.get(CSRF_HEADER, ""))
    return principal


def session_principal(request: Request) -> Principal | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    return request.app.state.sessions.get(cookie) if cookie else None


def check_csrf(principal: Principal, offered: str) -> None:
    if not principal.csrf or not hmac.compare_digest(offered.encode("utf-8", "surrogatepass"),
                                                      principal.csrf.encode()):
        raise HTTPException(403, "This request lacks the page's CSRF token: reload the page and try again.")
