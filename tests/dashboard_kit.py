"""The dashboard under test: its app in the test's own event loop (``api`` fixture, through
httpx), or the real server on a free 127.0.0.1 port in a thread of its own (``LiveDashboard``)
for clients that can't share the loop: the browser and the schema fuzzer."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr

from adapters.http import HttpAdapter
from adapters.http.app import build_app
from core.agent import Agent
from core.config import Config, Secrets
from core.testing.testbot import RecordingAdapter

TOKEN = secrets.token_urlsafe(32)
SERVER = "test:s1"
SMALL = 128  # video size: fast renders


def dashboard_config(config: Config) -> Config:
    config.engine.width = config.engine.height = SMALL
    config.dashboard.port = 0
    return config


def dashboard_secrets() -> Secrets:
    return Secrets(dashboard_token=SecretStr(TOKEN))


@dataclass
class Api:
    agent: Agent
    client: httpx.AsyncClient
    platform: RecordingAdapter  # stands in for the chat platform of SERVER

    async def wait_render(self, render_id: str, limit: float = 60.0) -> dict:  # type: ignore[type-arg]
        """The render's status once it has finished, and every status seen on the way in ``seen``."""
        self.seen: list[dict] = []  # type: ignore[type-arg]
        async with asyncio.timeout(limit):
            while True:
                body = (await self.client.get(f"/api/v1/renders/{render_id}")).json()
                self.seen.append(body)
                if body["status"] in ("done", "failed", "cancelled"):
                    return body
                await asyncio.sleep(0.02)


@pytest.fixture
async def api(bot_config: Config) -> AsyncIterator[Api]:
    agent = Agent(dashboard_config(bot_config), dashboard_secrets())
    async with agent:
        platform = RecordingAdapter(agent)
        agent.attach(platform)
        app = build_app(agent, TOKEN)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # as a real server: logged, answered 500
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1",
                                     headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            yield Api(agent, client, platform)
        await app.state.renders.close()


class LiveDashboard:
    """The agent with its dashboard adapter serving on a free port, in a thread with its own loop."""

    def __init__(self, config: Config) -> None:
        self.agent = Agent(dashboard_config(config), dashboard_secrets())
        self.adapter = HttpAdapter(self.agent)
        self.platform = RecordingAdapter(self.agent)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), name="dashboard", daemon=True)
        self.error: BaseException | None = None

    @property
    def url(self) -> str:
        return self.adapter.base_url

    def __enter__(self) -> LiveDashboard:
        self._thread.start()
        if not self._ready.wait(60) or self.error is not None:
            raise RuntimeError(f"the dashboard did not start: {self.error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self.adapter.stop(), self._loop).result(10)
        self._thread.join(30)

    def call(self, coroutine):  # type: ignore[no-untyped-def]
        """Run a coroutine on the server's loop (to look at or prepare its state) and return its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(60)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            async with self.agent:
                self.agent.attach(self.platform)
                self.agent.attach(self.adapter)
                serving = asyncio.create_task(self.adapter.run())
                await asyncio.wait([serving, asyncio.create_task(self.adapter.ready.wait())],
                                   return_when=asyncio.FIRST_COMPLETED)
                self._ready.set()
                await serving
        except BaseException as error:  # noqa: BLE001 (reported to the test by __enter__)
            self.error = error
            self._ready.set()
