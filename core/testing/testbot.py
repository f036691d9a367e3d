"""``testbot``: drive a real agent from a test, as Errbot's fixture of the same name does.

Plugin authors use it like this::

    async def test_hello(testbot):
        replies = await testbot.send("!hello")
        assert testbot.texts(replies) == ["Hello!"]

``send`` takes file paths as attachments, ``join`` and ``vote`` raise the other
events; every reply and every status-message edit is recorded, and so is every
unprompted post a plugin makes through ``agent.open_channel`` (``testbot.posts``).
The agent runs on a temporary database and output folders, with the built-in personas.
"""

from __future__ import annotations

import inspect
import mimetypes
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from core.adapter import Adapter, ChannelUnavailable
from core.agent import Agent
from core.config import Config
from core.events import Attachment, Channel, MemberJoinEvent, MessageEvent, User, VoteEvent
from core.replies import Reply, Responder, StatusMessage, TextReply, VideoReply

MEMBER = User(id="u1", name="Ada")
ADMIN = User(id="a1", name="Grace", is_admin=True)
CHANNEL = Channel(id="c1", server_id="s1", name="general", server_name="Test Server")


class FakeClock:
    """A clock a test moves by hand (``clock.now += timedelta(...)``), for plugins whose
    ``clock`` is a module attribute the test replaces."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class RecordingStatus(StatusMessage):
    def __init__(self, responder: RecordingResponder, text: str) -> None:
        self.responder = responder
        self.edits = [text]
        self.late_edits: list[str] = []  # edits after finish(): a bug in whoever sent them
        self.finished = False

    async def update(self, text: str) -> None:
        (self.late_edits if self.finished else self.edits).append(text)

    async def finish(self, reply: Reply | None = None) -> None:
        self.finished = True
        if reply is not None:
            await self.responder.send(reply)


@dataclass
class RecordingResponder(Responder):
    replies: list[Reply] = field(default_factory=list)
    statuses: list[RecordingStatus] = field(default_factory=list)

    async def send(self, reply: Reply) -> None:
        self.replies.append(reply)

    async def status(self, text: str) -> StatusMessage:
        status = RecordingStatus(self, text)
        self.statuses.append(status)
        return status


def local_attachment(path: Path) -> Attachment:
    async def download(folder: Path) -> Path:
        return Path(shutil.copy(path, folder / path.name))

    return Attachment(path.name, path.stat().st_size, mimetypes.guess_type(path.name)[0], download)


class RecordingAdapter(Adapter):
    """Stands in for a platform so plugins can post unprompted; records each channel's posts."""

    platform = "test"

    def __init__(self, agent: Agent) -> None:
        super().__init__(agent)
        self.channels: dict[str, RecordingResponder] = {}
        self.unavailable: set[str] = set()  # channels the bot may not post in
        self.channel_servers: dict[str, str] = {}  # channel id → its server; unlisted ones are in every server
        self.directs: dict[str, RecordingResponder] = {}  # direct messages, by user id
        self.no_direct: set[str] = set()  # users the bot can't write to privately
        self.pictures: dict[str, Path] = {}  # user id → their profile picture; unlisted members have none

    async def run(self) -> None:
        raise NotImplementedError("the test adapter is driven by TestBot, not run")

    async def open_channel(self, channel_id: str, *, server_id: str | None = None) -> Responder:
        if channel_id in self.unavailable:
            raise ChannelUnavailable(f"no permission to post in {channel_id}")
        if server_id is not None and self.channel_servers.get(channel_id, server_id) != server_id:
            raise ChannelUnavailable(f"channel {channel_id} is in another server")
        return self.channels.setdefault(channel_id, RecordingResponder())

    async def open_direct(self, user_id: str) -> Responder:
        if user_id in self.no_direct:
            raise ChannelUnavailable(f"user {user_id} accepts no direct messages")
        return self.directs.setdefault(user_id, RecordingResponder())

    async def profile_picture(self, user_id: str, folder: Path, *, server_id: str) -> Path | None:
        picture = self.pictures.get(user_id)
        return Path(shutil.copy(picture, folder / f"profile-picture{picture.suffix}")) if picture else None


class TestBot:
    __test__ = False  # not a test class, despite the name

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.adapter = RecordingAdapter(agent)
        agent.attach(self.adapter)
        self.platform = self.adapter.platform
        self.last: RecordingResponder | None = None

    def set_picture(self, user: User, picture: Path | None) -> None:
        """``user``'s profile picture becomes the image file ``picture`` (None: they have none)."""
        if picture is None:
            self.adapter.pictures.pop(user.id, None)
        else:
            self.adapter.pictures[user.id] = picture

    def posts(self, channel_id: str) -> list[Reply]:
        """What plugins posted into ``channel_id`` on their own (announcements, welcomes...)."""
        responder = self.adapter.channels.get(channel_id)
        return responder.replies if responder else []

    async def send(self, text: str, *, user: User = MEMBER, channel: Channel = CHANNEL,
                   attachments: tuple[Path, ...] = ()) -> list[Reply]:
        event = MessageEvent(self.platform, user, channel, text=text,
                             attachments=tuple(local_attachment(p) for p in attachments))
        self.last = RecordingResponder()
        await self.agent.handle_message(event, self.last)
        return self.last.replies

    async def join(self, user: User = MEMBER, channel: Channel = CHANNEL) -> list[Reply]:
        self.last = RecordingResponder()
        await self.agent.handle_member_join(MemberJoinEvent(self.platform, user, channel), self.last)
        return self.last.replies

    async def vote(self, poll_id: str, option: str, *, user: User = MEMBER, channel: Channel = CHANNEL,
                   added: bool = True) -> list[Reply]:
        self.last = RecordingResponder()
        event = VoteEvent(self.platform, user, channel, poll_id=poll_id, option=option, added=added)
        await self.agent.handle_vote(event, self.last)
        return self.last.replies

    async def advance(self, to: datetime) -> list[str]:
        """Run every scheduled job due by ``to`` (see ``advance``); returns their ids."""
        return await advance(self.agent, to)

    @staticmethod
    def texts(replies: list[Reply]) -> list[str]:
        return [r.text for r in replies if isinstance(r, TextReply)]

    @staticmethod
    def videos(replies: list[Reply]) -> list[VideoReply]:
        return [r for r in replies if isinstance(r, VideoReply)]


async def advance(agent: Agent, to: datetime) -> list[str]:
    """Run every job of ``agent``'s scheduler due by ``to``, in time order, as if the clock had
    moved there (the scheduler's own clock never reaches it during a test); returns their ids.
    Works with any running agent, e.g. a platform driver's ``agent``."""
    ran = []
    while due := sorted((j for j in agent.scheduler.get_jobs() if j.next_run_time and j.next_run_time <= to),
                        key=lambda j: j.next_run_time):
        job = due[0]
        fired_at = job.next_run_time
        result = job.func(*job.args, **job.kwargs)
        if inspect.isawaitable(result):
            await result
        ran.append(job.id)
        if agent.scheduler.get_job(job.id) is None:
            continue  # the job removed itself
        following = job.trigger.get_next_fire_time(fired_at, fired_at + timedelta(microseconds=1))
        if following is None:
            agent.scheduler.remove_job(job.id)
        else:
            job.modify(next_run_time=following)
    return ran


def test_config(tmp_path: Path) -> Config:
    """A working config whose every file lives under ``tmp_path``."""
    config = Config()
    config.agent.database = tmp_path / "mouthpiece.db"
    config.engine.output_dir = tmp_path / "out"
    config.engine.cache_dir = tmp_path / "cache"
    config.personas.user_dirs = [tmp_path / "personas"]
    config.console.allowed_dir = tmp_path
    # The hourly retention job would run at every testbot.advance; its tests switch it back on.
    config.plugins.disabled = ["housekeeping"]
    config.engine.workers = 2  # not one per core: tests run alike on any machine
    return config


test_config.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def bot_config(tmp_path: Path) -> Config:
    return test_config(tmp_path)


@pytest.fixture
async def testbot(bot_config: Config):  # type: ignore[no-untyped-def]
    async with Agent(bot_config) as agent:
        yield TestBot(agent)
