"""The dashboard in ``mouthpiece run``: started only with a long enough token, served in the bot's
own event loop next to the other adapters, stopped by the runner's SIGINT/SIGTERM handling."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from adapters.console import ConsoleAdapter
from adapters.http import HttpAdapter
from core.agent import Agent
from core.cli import app
from core.config import Config, Secrets
from core.runner import FatalAdapterError, Runner, SettingsRefused, adapter_states, choose_adapters
from tests.dashboard_kit import TOKEN, dashboard_secrets

SHORT = "s" * 31


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def test_without_the_token_the_port_stays_closed(bot_config: Config) -> None:
    bot_config.dashboard.port = port = _free_port()
    agent = Agent(bot_config, Secrets())
    assert {s.name: s for s in adapter_states(agent.secrets, bot_config)}["http"].missing == (
        "MOUTHPIECE_DASHBOARD_TOKEN",)
    [console] = choose_adapters(agent)
    assert isinstance(console, ConsoleAdapter)
    read_end, write_end = os.pipe()
    with os.fdopen(read_end) as stdin, os.fdopen(write_end, "w") as typed:
        console.stdin = stdin
        running = asyncio.create_task(Runner(agent, [console]).run())
        while not agent.started:
            await asyncio.sleep(0.01)
        assert not _listening(port) and "http" not in agent.adapters
        typed.write("quit\n")
        typed.flush()
        await asyncio.wait_for(running, 30)


def test_a_short_token_is_refused_with_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    states = {s.name: s for s in adapter_states(Secrets(dashboard_token=SHORT), Config())}  # type: ignore[arg-type]
    assert not states["http"].ready and states["http"].describe().startswith("refused: ")
    config = tmp_path / "config.toml"
    config.write_text(f'[agent]\ndatabase = "{tmp_path}/state.db"\n[dashboard]\nport = {_free_port()}\n')
    monkeypatch.setenv("MOUTHPIECE_DASHBOARD_TOKEN", SHORT)
    result = CliRunner().invoke(app, ["run", "-c", str(config)])
    assert result.exit_code == 1
    assert "MOUTHPIECE_DASHBOARD_TOKEN is too short (31 characters): use at least 32" in result.output
    assert SHORT not in result.output
    doctor = CliRunner().invoke(app, ["doctor", "-c", str(config)])
    assert "http       refused: MOUTHPIECE_DASHBOARD_TOKEN is too short" in doctor.output and SHORT not in doctor.output


async def test_a_short_token_stops_choose_adapters(bot_config: Config) -> None:
    agent = Agent(bot_config, Secrets(dashboard_token=SHORT))  # type: ignore[arg-type]
    with pytest.raises(SettingsRefused, match="at least 32"):
        choose_adapters(agent)
    agent.storage.close()


async def test_the_runner_serves_the_dashboard_and_sigint_stops_it_gracefully(bot_config: Config) -> None:
    bot_config.dashboard.port = 0
    agent = Agent(bot_config, dashboard_secrets())
    [dashboard] = choose_adapters(agent)  # the token alone: the dashboard, and no console
    assert isinstance(dashboard, HttpAdapter)
    running = asyncio.create_task(Runner(agent, [dashboard]).run(handle_signals=True))
    await asyncio.wait_for(dashboard.ready.wait(), 30)
    assert dashboard.port and dashboard.base_url == f"http://127.0.0.1:{dashboard.port}"
    async with httpx.AsyncClient(base_url=dashboard.base_url) as client:
        response = await client.get("/api/v1/personas", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200 and response.json()[0]["name"]
        assert agent.adapters["http"] is dashboard
    os.kill(os.getpid(), signal.SIGINT)  # uvicorn's own handlers would keep this from the runner
    await asyncio.wait_for(running, 30)
    assert not agent.started and not _listening(dashboard.port)


async def test_a_port_in_use_stops_only_the_dashboard_with_the_reason(bot_config: Config) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        bot_config.dashboard.port = taken.getsockname()[1]
        agent = Agent(bot_config, dashboard_secrets())
        with pytest.raises(FatalAdapterError, match=r"can't listen on 127\.0\.0\.1:\d+"):
            await HttpAdapter(agent).run()
        agent.storage.close()


def test_connections_send_small_answers_at_once() -> None:
    # asyncio switches Nagle's algorithm off only on sockets that name IPPROTO_TCP; with it on,
    # every small answer waited ~40 ms for the client's delayed acknowledgement.
    listener = HttpAdapter._listen("127.0.0.1", 0)
    try:
        assert listener.proto == socket.IPPROTO_TCP
    finally:
        listener.close()
