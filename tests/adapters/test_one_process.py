"""Several platforms in one process: the runner starts every adapter whose token is set,
and they share one agent, one render engine and one database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import SecretStr

from core.agent import Agent
from core.config import Config
from core.runner import Runner, choose_adapters
from core.testing.fakes.slack import CHANNEL_ID, CHANNEL_NAME, SlackDriver, slack_config, slack_secrets
from core.testing.fakes.slack_server import FakeSlack
from core.testing.fakes.telegram import TelegramDriver
from core.testing.fakes.telegram_api import FakeTelegramAPI
from core.testing.testbot import MEMBER
from tests.media import assert_valid_mp4

SIZE = 128


async def test_telegram_and_slack_serve_side_by_side(bot_config: Config, telegram_api: FakeTelegramAPI,
                                                     slack_api: FakeSlack, tmp_path: Path) -> None:
    config = slack_config(bot_config, slack_api)
    config.engine.width = config.engine.height = SIZE
    config.telegram.api_url, config.telegram.file_url = telegram_api.api_url, telegram_api.file_url
    slack_api.add_channel(CHANNEL_ID, CHANNEL_NAME)
    secrets = slack_secrets(slack_api).model_copy(update={"telegram_token": SecretStr(telegram_api.token)})
    agent = Agent(config, secrets)
    adapters = {adapter.platform: adapter for adapter in choose_adapters(agent)}
    assert sorted(adapters) == ["slack", "telegram"]  # no Discord token: not started, no console
    runner = Runner(agent, list(adapters.values()))
    serving = asyncio.create_task(runner.run())
    try:
        await asyncio.wait_for(asyncio.gather(*(a.ready.wait() for a in adapters.values())), 30)  # type: ignore[attr-defined]
        telegram = TelegramDriver(telegram_api, agent, adapters["telegram"])  # type: ignore[arg-type]
        slack = SlackDriver(slack_api, agent, adapters["slack"])  # type: ignore[arg-type]
        on_telegram, on_slack = await asyncio.gather(telegram.send("/say Hello from Telegram", user=MEMBER),
                                                     slack.send("!say Hello from Slack", user=MEMBER))
        for delivered, name in ((on_telegram, "telegram"), (on_slack, "slack")):
            [video] = [d for d in delivered if d.kind == "video"]
            [(_, data)] = video.files
            (tmp_path / f"{name}.mp4").write_bytes(data)
            assert_valid_mp4(tmp_path / f"{name}.mp4", width=SIZE, height=SIZE, fps=25)
        assert sorted(agent.adapters) == ["slack", "telegram"]
        assert sorted(r.platform for r in agent.storage.recent_renders()) == ["slack", "telegram"]
    finally:
        runner.stop()
        await asyncio.wait_for(serving, 30)
    assert agent.adapters == {}
