"""Slack fixtures: a real agent and the real ``SlackAdapter`` on slack-bolt, against ``FakeSlack``.

Use them in a plugin's tests (``pytest_plugins = ["core.testing.fakes.slack"]``)::

    async def test_hello_on_slack(slack_driver):
        [answer] = await slack_driver.send("!hello", user=MEMBER)
        assert answer.text == "Hello, Ada!"

``slack_driver`` is a ``core.testing.platforms.PlatformDriver`` speaking Socket Mode;
``slack_http_driver`` the same in HTTP mode (signed requests). ``slack_api`` is the
bare ``FakeSlack`` (its ``messages``, ``calls``, ``fail(...)``...), started on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from urllib.parse import urlencode

import pytest

from adapters.slack import SlackAdapter
from core.agent import Agent
from core.config import Config, Secrets
from core.events import User
from core.testing.fakes.slack_server import FakeMessage, FakeSlack
from core.testing.fakes.slack_socket import Ack, SignedPoster
from core.testing.platforms import Delivered

CHANNEL_ID, CHANNEL_NAME = "C0GENERAL", "general"
#: Seconds the socket client waits between liveness checks in tests (10 in production).
TEST_PING_INTERVAL = 0.5


class SlackDriver:
    """Acts as members of the fake workspace would; each action returns what the bot left there."""

    platform = "slack"

    def __init__(self, fake: FakeSlack, agent: Agent, adapter: SlackAdapter) -> None:
        self.fake, self.agent, self.adapter = fake, agent, adapter
        self.channel = CHANNEL_ID
        self.poster: SignedPoster | None = None
        if adapter.settings.mode == "http":
            self.poster = SignedPoster(f"http://127.0.0.1:{adapter.http_port}{adapter.settings.http_path}",
                                       fake.signing_secret)
        #: The bot's acknowledgement of the latest event or command.
        self.last_ack: Ack | None = None
        #: Every event or command delivered: (kind, payload), for ``redeliver``.
        self.deliveries: list[tuple[str, dict[str, object]]] = []

    # -- the PlatformDriver protocol -----------------------------------------------------

    async def send(self, text: str, *, user: User, files: Sequence[Path] = ()) -> list[Delivered]:
        self.member(user)
        shared = [self.fake.add_file(path, mimetype=mimetypes.guess_type(path.name)[0] or "application/octet-stream")
                  for path in files]
        message = self.fake.post_as(user.id, self.channel, text, files=shared)
        return await self.event(self.fake.message_event(message))

    async def join(self, user: User) -> list[Delivered]:
        self.member(user)
        return await self.event({"type": "member_joined_channel", "user": user.id, "channel": self.channel,
                                 "channel_type": "C", "team": self.fake.team_id, "event_ts": "1700000000.000001"})

    async def vote(self, poll: Delivered, option: int, *, user: User, added: bool = True) -> list[Delivered]:
        """``option`` indexes ``poll.options`` (0 is the first)."""
        self.member(user)
        return await self.event(self.fake.react(user.id, poll.channel_id, poll.message_id, poll.options[option],
                                                added=added))

    def set_picture(self, user: User, picture: Path | None) -> None:
        self.member(user)
        self.fake.set_picture(user.id, picture.read_bytes() if picture else None)

    # -- more ways in ------------------------------------------------------------------------

    def member(self, user: User) -> None:
        """Make ``user`` a member of the workspace (admins become workspace admins)."""
        self.fake.add_user(user.id, user.name, is_admin=user.is_admin, is_bot=user.is_bot)

    async def event(self, event: dict[str, object]) -> list[Delivered]:
        """Deliver one Events API event; wait until the bot is done with it."""
        return await self._deliver("events_api", self.fake.event_callback(event))

    async def command(self, command: str, text: str, *, user: User) -> list[Delivered]:
        """Run a slash command (``/say``...); ``last_ack`` holds the acknowledgement."""
        self.member(user)
        return await self._deliver("slash_commands",
                                   self.fake.command_payload(command, text, user_id=user.id, channel=self.channel))

    async def redeliver(self, which: int = -1, *, retry: int = 1) -> list[Delivered]:
        """Deliver ``deliveries[which]`` again, marked as Slack's retry number ``retry`` (Slack
        does so when it thinks the first delivery wasn't acknowledged in time)."""
        kind, payload = self.deliveries[which]
        return await self._deliver(kind, payload, retry=retry)

    async def _deliver(self, kind: str, payload: dict[str, object], *, retry: int = 0) -> list[Delivered]:
        self.deliveries.append((kind, payload))
        since, handled = self.fake.change, self.adapter.handled
        if self.poster is None:
            self.last_ack = await self.fake.socket_mode.deliver(kind, payload, retry_attempt=retry)
        else:
            form = kind == "slash_commands"
            body = urlencode(payload) if form else json.dumps(payload)
            status, answer, seconds = await self.poster.post(
                body, content_type="application/x-www-form-urlencoded" if form else "application/json",
                retry_num=retry)
            assert status == 200, (status, answer)
            self.last_ack = Ack(json.loads(answer) if answer.startswith("{") else {}, seconds)
        await asyncio.wait_for(self.adapter.wait_handled(handled + 1), 60)
        return [delivered(self.fake, m) for m in self.fake.bot_messages(since)]


def delivered(fake: FakeSlack, message: FakeMessage) -> Delivered:
    """A message as members see it now."""
    kind = "message"
    if message.files:
        kind = "video" if all(f.mimetype.startswith("video/") for f in message.files) else "file"
    options = [name for name, users in message.reactions.items() if fake.bot_user_id in users]
    return Delivered(message.channel, message.ts, message.text, [(f.name, f.content) for f in message.files],
                     options, kind)


def slack_config(config: Config, fake: FakeSlack, *, mode: str = "socket") -> Config:
    """``config`` pointed at the fake, in ``mode``."""
    config.slack.api_url = fake.api_url
    config.slack.mode = mode  # type: ignore[assignment]
    config.slack.http_host, config.slack.http_port = "127.0.0.1", 0
    return config


def slack_secrets(fake: FakeSlack) -> Secrets:
    return Secrets.from_env({"MOUTHPIECE_SLACK_BOT_TOKEN": fake.bot_token, "MOUTHPIECE_SLACK_APP_TOKEN": fake.app_token,
                             "MOUTHPIECE_SLACK_SIGNING_SECRET": fake.signing_secret})


async def running_driver(fake: FakeSlack, config: Config, mode: str = "socket",
                         plugins: Iterable[object] = ()) -> AsyncIterator[SlackDriver]:
    """A started agent (with extra ``plugins``) and adapter on ``fake``; stops both when the iteration ends::

        async for driver in running_driver(slack_api, test_config(tmp_path), plugins=[MyPlugin()]):
            ...
    """
    fake.add_channel(CHANNEL_ID, CHANNEL_NAME)
    config = slack_config(config, fake, mode=mode)
    async with Agent(config, secrets=slack_secrets(fake), extra_plugins=plugins) as agent:
        adapter = SlackAdapter(agent, ping_interval=TEST_PING_INTERVAL)
        agent.attach(adapter)
        task = asyncio.create_task(adapter.run())
        try:
            await asyncio.wait_for(adapter.ready.wait(), 10)
            yield SlackDriver(fake, agent, adapter)
        finally:
            await adapter.stop()
            await task
            agent.detach(adapter)


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
async def slack_driver(slack_api: FakeSlack, bot_config: Config) -> AsyncIterator[SlackDriver]:
    async for driver in running_driver(slack_api, bot_config):
        yield driver


@pytest.fixture
async def slack_http_driver(slack_api: FakeSlack, bot_config: Config) -> AsyncIterator[SlackDriver]:
    async for driver in running_driver(slack_api, bot_config, mode="http"):
        yield driver
