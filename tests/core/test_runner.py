"""Several adapters in one process: choosing them, restarting them, stopping them; and ``doctor``."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.console import ConsoleAdapter
from adapters.discord import DiscordAdapter
from core.adapter import Adapter
from core.agent import Agent
from core.cli import app
from core.config import Config, Secrets
from core.runner import (
    Backoff,
    FatalAdapterError,
    Runner,
    adapter_states,
    choose_adapters,
)

SECRET = "MTIz.secret-token-value"
NO_PAUSE = Backoff(first=0.0, longest=0.0)


class ScriptedAdapter(Adapter):
    """Fails ``failures`` times, then serves until stopped; records what happened to it."""

    def __init__(self, agent: Agent, platform: str, failures: list[BaseException] | None = None) -> None:
        super().__init__(agent)
        self.platform = platform  # type: ignore[misc]
        self.failures = list(failures or [])
        self.runs = 0
        self.attached_while_running: list[bool] = []
        self.serving = asyncio.Event()
        self.stopped = asyncio.Event()

    async def run(self) -> None:
        self.runs += 1
        self.attached_while_running.append(self.agent.adapters.get(self.platform) is self)
        if self.failures:
            raise self.failures.pop(0)
        self.serving.set()
        await self.stopped.wait()

    async def stop(self) -> None:
        self.stopped.set()


async def test_adapters_share_one_agent_and_come_back_after_failures(bot_config: Config) -> None:
    agent = Agent(bot_config)
    flaky = ScriptedAdapter(agent, "flaky", [ConnectionError("gateway closed"), OSError("network down")])
    steady = ScriptedAdapter(agent, "steady")
    runner = Runner(agent, [flaky, steady], backoff=NO_PAUSE)
    task = asyncio.create_task(runner.run())
    await flaky.serving.wait()
    await steady.serving.wait()
    assert agent.started and set(agent.adapters) == {"flaky", "steady"}
    assert flaky.runs == 3 and all(flaky.attached_while_running) and steady.runs == 1
    runner.stop()
    await task
    assert not agent.started and agent.adapters == {}


async def test_a_fatal_error_is_not_retried(bot_config: Config, caplog: pytest.LogCaptureFixture) -> None:
    agent = Agent(bot_config)
    broken = ScriptedAdapter(agent, "broken", [FatalAdapterError("the token was rejected")])
    steady = ScriptedAdapter(agent, "steady")
    runner = Runner(agent, [broken, steady], backoff=NO_PAUSE)
    task = asyncio.create_task(runner.run())
    await steady.serving.wait()
    await asyncio.sleep(0)  # let the broken adapter's task finish
    assert broken.runs == 1 and "broken adapter stopped: the token was rejected" in caplog.text
    assert "broken" not in agent.adapters and "steady" in agent.adapters
    runner.stop()
    await task


async def test_sigterm_stops_everything_gracefully(bot_config: Config) -> None:
    agent = Agent(bot_config)
    adapter = ScriptedAdapter(agent, "steady")
    task = asyncio.create_task(Runner(agent, [adapter]).run(handle_signals=True))
    await adapter.serving.wait()
    os.kill(os.getpid(), signal.SIGTERM)
    await task
    assert adapter.stopped.is_set() and not agent.started


async def test_the_console_ends_the_run_when_its_operator_leaves(bot_config: Config) -> None:
    import io

    from rich.console import Console

    agent = Agent(bot_config)
    console = ConsoleAdapter(agent, stdin=io.StringIO("!help\nquit\n"), console=Console(file=io.StringIO()))
    await Runner(agent, [console], backoff=NO_PAUSE).run()
    assert not agent.started


def test_missing_tokens_are_logged_once_each_without_values(bot_config: Config,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    agent = Agent(bot_config, Secrets())
    try:
        [adapter] = choose_adapters(agent)
        assert isinstance(adapter, ConsoleAdapter)
        assert caplog.text.count("discord adapter not started: MOUTHPIECE_DISCORD_TOKEN is not set") == 1
        assert ("slack adapter not started: MOUTHPIECE_SLACK_BOT_TOKEN and MOUTHPIECE_SLACK_APP_TOKEN are not set"
                in caplog.text)
        assert "running on the console" in caplog.text

        caplog.clear()
        agent.secrets = Secrets(discord_token=SECRET)  # type: ignore[arg-type]
        chosen = choose_adapters(agent)
        assert [type(a) for a in chosen] == [DiscordAdapter]
        assert SECRET not in caplog.text and "discord adapter not started" not in caplog.text
    finally:
        agent.storage.close()


def test_adapter_states_name_what_is_missing() -> None:
    states = {s.name: s for s in adapter_states(Secrets(), Config())}
    assert states["console"].ready
    assert states["discord"].missing == ("MOUTHPIECE_DISCORD_TOKEN",) and not states["discord"].ready
    assert set(states) == {"console", "discord", "telegram", "slack", "http"}
    assert all(s.ready or s.missing or s.error for s in states.values())


def test_doctor_lists_each_adapter_and_never_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[agent]\ndatabase = "{tmp_path}/state.db"\n')
    runner = CliRunner()
    monkeypatch.delenv("MOUTHPIECE_DISCORD_TOKEN", raising=False)
    result = runner.invoke(app, ["doctor", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "console    ready" in result.output
    assert "discord    missing MOUTHPIECE_DISCORD_TOKEN" in result.output
    assert f"database:  {tmp_path}/state.db" in result.output
    assert "serves: the console" in result.output

    monkeypatch.setenv("MOUTHPIECE_DISCORD_TOKEN", SECRET)
    result = runner.invoke(app, ["doctor", "-c", str(config)])
    assert "discord    ready" in result.output and "serves: discord" in result.output
    assert SECRET not in result.output


def test_slack_in_http_mode_needs_the_signing_secret_not_the_app_token() -> None:
    config = Config()
    config.slack.mode = "http"
    secrets = Secrets.from_env({"MOUTHPIECE_SLACK_BOT_TOKEN": "xoxb-1", "MOUTHPIECE_SLACK_SIGNING_SECRET": "s"})
    states = {s.name: s for s in adapter_states(secrets, config)}
    assert states["slack"].ready
    assert not {s.name: s for s in adapter_states(secrets, Config())}["slack"].ready  # socket mode: app token
