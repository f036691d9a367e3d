"""The web dashboard and REST API: an adapter like the others, served by uvicorn in the bot's
own event loop, against the same agent, engine and database.

It starts only when ``MOUTHPIECE_DASHBOARD_TOKEN`` is set, and refuses a token shorter than
``MIN_TOKEN_CHARS``. There is no default credential and none is ever made up or logged.
uvicorn's own SIGINT/SIGTERM handlers are left out: the runner's graceful stop is in charge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator
from typing import TYPE_CHECKING, ClassVar

import uvicorn

from core.adapter import Adapter
from core.runner import FatalAdapterError

if TYPE_CHECKING:
    from core.agent import Agent
    from core.config import Config, Secrets

log = logging.getLogger(__name__)

TOKEN_VARIABLE = "MOUTHPIECE_DASHBOARD_TOKEN"
MIN_TOKEN_CHARS = 32


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the runner handles SIGINT/SIGTERM and calls HttpAdapter.stop


class HttpAdapter(Adapter):
    platform: ClassVar[str] = "http"

    def __init__(self, agent: Agent) -> None:
        super().__init__(agent)
        self.ready = asyncio.Event()
        #: The port it listens on, once ``ready`` (``[dashboard] port = 0`` picks a free one).
        self.port: int | None = None
        self._server: _Server | None = None

    @property
    def base_url(self) -> str:
        """Where admins reach the dashboard (for sign-in links); empty until it listens."""
        settings = self.agent.config.dashboard
        if settings.public_url:
            return settings.public_url.rstrip("/")
        if self.port is None:
            return ""
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        return f"http://{host}:{self.port}"

    @classmethod
    def missing_settings(cls, secrets: Secrets, config: Config) -> list[str]:
        return [] if secrets.dashboard_token else [TOKEN_VARIABLE]

    @classmethod
    def refused_settings(cls, secrets: Secrets, config: Config) -> str:
        token = secrets.dashboard_token.get_secret_value() if secrets.dashboard_token else ""
        if token and len(token) < MIN_TOKEN_CHARS:
            return (f"{TOKEN_VARIABLE} is too short ({len(token)} characters): use at least {MIN_TOKEN_CHARS} "
                    "random characters, e.g. the output of: python3 -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))'")
        return ""

    async def run(self) -> None:
        from adapters.http.app import build_app

        if problem := self.refused_settings(self.agent.secrets, self.agent.config) or (
                "" if self.agent.secrets.dashboard_token else f"{TOKEN_VARIABLE} is not set"):
            raise FatalAdapterError(problem)
        assert self.agent.secrets.dashboard_token is not None
        settings = self.agent.config.dashboard
        listener = self._listen(settings.host, settings.port)
        app = build_app(self.agent, self.agent.secrets.dashboard_token.get_secret_value())
        config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, server_header=False,
                                proxy_headers=False)
        self._server = _Server(config)
        self.port = listener.getsockname()[1]
        serving = asyncio.create_task(self._server.serve(sockets=[listener]))
        try:
            while not self._server.started and not serving.done():
                await asyncio.sleep(0.01)
            if self._server.started:
                log.info("dashboard at http://%s:%d/ (API: /api/v1)", settings.host, self.port)
                self.ready.set()
            await serving
        finally:
            self.ready.clear()
            listener.close()
            await app.state.renders.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True

    @staticmethod
    def _listen(host: str, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP named, so asyncio turns Nagle off on each connection (else small answers wait ~40 ms).
        listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((host, port))
            listener.listen(128)
        except OSError as error:
            listener.close()
            raise FatalAdapterError(f"the dashboard can't listen on {host}:{port}: {error.strerror or error}") from None
        listener.setblocking(False)
        return listener
