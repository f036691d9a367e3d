"""Unprompted posts reach a channel through the running adapter, or fail clearly."""

from __future__ import annotations

import pytest

from core.adapter import ChannelUnavailable
from core.config import Config, ConfigError, ServerSettings, load_config
from core.replies import TextReply


async def test_open_channel_posts_through_the_attached_adapter(testbot) -> None:  # type: ignore[no-untyped-def]
    responder = await testbot.agent.open_channel("test", "news")
    await responder.send(TextReply("hello"))
    assert testbot.texts(testbot.posts("news")) == ["hello"]
    testbot.adapter.unavailable.add("locked")
    with pytest.raises(ChannelUnavailable, match="no permission"):
        await testbot.agent.open_channel("test", "locked")


async def test_open_channel_on_a_platform_that_is_not_running(testbot) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ChannelUnavailable, match="no discord adapter is running"):
        await testbot.agent.open_channel("discord", "123")
    testbot.agent.detach(testbot.adapter)
    with pytest.raises(ChannelUnavailable):
        await testbot.agent.open_channel("test", "news")


def test_server_settings_fall_back_to_the_default_table() -> None:
    config = Config(servers={"default": ServerSettings(timezone="Europe/Berlin"),
                             "discord:42": ServerSettings(persona="neon", welcome_channel="7")})
    assert config.server("discord", "42").persona == "neon"
    assert config.server("discord", "42").timezone == "UTC"
    assert config.server("telegram", "-100").timezone == "Europe/Berlin"
    assert Config().server("slack", "T1") == ServerSettings()


def test_an_unknown_time_zone_is_a_clear_config_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "config.toml"
    path.write_text('[servers."discord:42"]\ntimezone = "Mars/Olympus"\n')
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
        load_config(path)
