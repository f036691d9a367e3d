"""How the Slack adapter connects and survives: HTTP mode's signatures, Socket Mode's
reconnects, Slack refusing an upload, missing or rejected tokens."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
import slack_sdk.http_retry.builtin_async_handlers

from adapters.slack import SlackAdapter
from adapters.slack_files import FileHosts
from core.agent import Agent
from core.config import Config, Secrets
from core.testing.fakes.slack import SlackDriver, slack_config
from core.testing.fakes.slack_server import FakeSlack
from core.testing.testbot import MEMBER, test_config
from tests.sleeps import instant_sleeps


async def test_http_mode_answers_signed_events(slack_http_driver: SlackDriver) -> None:
    [video] = await slack_http_driver.send("!say Hello over HTTP", user=MEMBER)
    assert video.kind == "video" and video.files[0][1][4:8] == b"ftyp"
    await slack_http_driver.command("/say", "Hi", user=MEMBER)
    assert slack_http_driver.last_ack is not None and slack_http_driver.last_ack.seconds < 0.3


async def test_http_mode_handles_an_event_slack_retries_once(slack_http_driver: SlackDriver) -> None:
    [greeting] = await slack_http_driver.join(MEMBER)
    assert greeting.kind == "video"
    assert await slack_http_driver.redeliver(retry=1) == []
    assert len(slack_http_driver.agent.storage.recent_renders()) == 1


@pytest.mark.parametrize("forgery", ["bad signature", "stale timestamp", "no signature"])
async def test_http_mode_refuses_unsigned_or_replayed_requests(slack_http_driver: SlackDriver, forgery: str) -> None:
    fake, poster = slack_http_driver.fake, slack_http_driver.poster
    assert poster is not None
    slack_http_driver.member(MEMBER)
    message = fake.post_as(MEMBER.id, slack_http_driver.channel, "!say I should not be said")
    body = json.dumps(fake.event_callback(fake.message_event(message)))
    if forgery == "bad signature":
        status, _, _ = await poster.post(body, signature="v0=" + "0" * 64)
    elif forgery == "stale timestamp":
        status, _, _ = await poster.post(body, timestamp=int(time.time()) - 600)  # signed, but 10 minutes old
    else:
        status, _, _ = await poster.post(body, signature="")
    assert status == 401
    assert slack_http_driver.adapter.handled == 0 and fake.bot_messages() == []


async def test_a_refused_upload_is_told_in_the_thread_and_the_bot_carries_on(slack_driver: SlackDriver,
                                                                            caplog: pytest.LogCaptureFixture) -> None:
    slack_driver.fake.fail("files.completeUploadExternal", "internal_error")
    [answer] = await slack_driver.send("!say Hello", user=MEMBER)
    assert "Slack refused the upload (internal_error)" in answer.text
    request = next(m for m in slack_driver.fake.messages if m.user == MEMBER.id)
    assert slack_driver.fake.message(answer.channel_id, answer.message_id).thread_ts == request.ts
    assert "upload of" in caplog.text and "internal_error" in caplog.text
    slack_driver.fake.fail("upload", "server error")
    [answer] = await slack_driver.send("!say Hello again", user=MEMBER)
    assert "Slack refused the upload" in answer.text
    [video] = await slack_driver.send("!say Hello at last", user=MEMBER)
    assert video.kind == "video"


@pytest.mark.parametrize("abrupt", [False, True], ids=["closed by Slack", "cut off"])
async def test_the_bot_reconnects_after_the_socket_drops(slack_driver: SlackDriver, abrupt: bool) -> None:
    fake = slack_driver.fake
    await fake.socket_mode.drop_connections(abrupt=abrupt)
    await fake.socket_mode.wait_connected(opened=2)
    [answer] = await slack_driver.command("/mouthpiece", "personas", user=MEMBER)
    assert answer.text.startswith("Personas:")
    assert len(fake.called("apps.connections.open")) == 2  # a fresh URL for the new socket


def test_the_settings_needed_depend_on_the_mode() -> None:
    http = Config()
    http.slack.mode = "http"
    bot_only = Secrets(slack_bot_token="xoxb-1")  # type: ignore[arg-type]
    assert SlackAdapter.missing_settings(bot_only, Config()) == ["MOUTHPIECE_SLACK_APP_TOKEN"]
    assert SlackAdapter.missing_settings(bot_only, http) == ["MOUTHPIECE_SLACK_SIGNING_SECRET"]
    assert SlackAdapter.missing_settings(Secrets(), http) == ["MOUTHPIECE_SLACK_BOT_TOKEN",
                                                              "MOUTHPIECE_SLACK_SIGNING_SECRET"]
    full = Secrets(slack_bot_token="xoxb-1", slack_app_token="xapp-1", slack_signing_secret="s")  # type: ignore[arg-type]
    assert SlackAdapter.missing_settings(full, Config()) == SlackAdapter.missing_settings(full, http) == []


async def test_a_missing_token_is_one_clear_log_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with Agent(test_config(tmp_path), secrets=Secrets(slack_bot_token="xoxb-1")) as agent:  # type: ignore[arg-type]
        await SlackAdapter(agent).run()
    [line] = [r for r in caplog.records if r.name == "adapters.slack"]
    assert line.levelno == logging.ERROR
    assert line.getMessage() == "Slack is not started: MOUTHPIECE_SLACK_APP_TOKEN is not set (socket mode)"


async def test_a_rejected_token_stops_the_adapter_with_a_clear_line(slack_api: FakeSlack, tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    secrets = Secrets(slack_bot_token="xoxb-wrong", slack_app_token=slack_api.app_token)  # type: ignore[arg-type]
    async with Agent(slack_config(test_config(tmp_path), slack_api), secrets=secrets) as agent:
        await SlackAdapter(agent).run()
    assert "rejected MOUTHPIECE_SLACK_BOT_TOKEN (invalid_auth)" in caplog.text
    assert "xoxb-wrong" not in caplog.text


def test_files_are_fetched_only_from_slacks_hosts() -> None:
    hosts = FileHosts(["files.slack.com"], "http://127.0.0.1:8080/api/")
    assert hosts.allows("https://files.slack.com/files-pri/T1-F1/voice.ogg")
    assert hosts.allows("http://127.0.0.1:8080/files-pri/F1/voice.ogg")
    for url in ("http://files.slack.com/x.ogg", "https://files.slack.com.evil.example/x.ogg",
                "https://127.0.0.1:8080/x.ogg", "http://127.0.0.1:9999/x.ogg", "file:///etc/passwd"):
        assert not hosts.allows(url), url


async def test_a_rate_limited_post_is_sent_again_after_the_wait_slack_asks_for(slack_driver: SlackDriver,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    waits = instant_sleeps(monkeypatch, slack_sdk.http_retry.builtin_async_handlers)
    slack_driver.fake.fail("chat.postMessage", "ratelimited")
    [answer] = await slack_driver.command("/mouthpiece", "personas", user=MEMBER)
    assert answer.text.startswith("Personas:") and len(slack_driver.fake.called("chat.postMessage")) == 2
    [wait] = waits  # Retry-After, and a random part of a second; driven, not waited out
    assert 1 <= wait < 2
