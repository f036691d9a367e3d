"""Discord fixtures: a real agent and the real ``DiscordAdapter`` on discord.py, against dpytest.

dpytest replaces discord.py's HTTP client and gateway with an in-process Discord;
everything above them (the client, its cache, event dispatch, ``Message.edit``,
``Attachment.save``…) is discord.py's own code. Use the fixtures in a plugin's
tests (``pytest_plugins = ["core.testing.fakes.discord"]``)::

    async def test_hello_on_discord(discord_driver):
        [answer] = await discord_driver.send("!hello", user=MEMBER)
        assert answer.text == "Hello, Ada!"

- ``discord_driver``: a ``core.testing.platforms.PlatformDriver`` (``send``, ``join``, ``vote``,
  ``set_picture``), plus ``member(user)``, ``guild``, ``channel`` and ``adapter`` for more.
- ``discord_bot``: the dpytest-configured ``discord.Client``, for dpytest's own API
  (``discord.ext.test.verify()``…).
- ``discord_plugins``: override it to load extra plugin objects into the agent.

dpytest has no application commands (slash commands are tested against
``core/testing/fakes/discord_interactions.py``) and no upload limit of its own (tests set
the guild's ``filesize_limit``).
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any, cast

import discord
import discord.ext.test as dpytest
import pytest
from discord.ext.test import backend, callbacks, factories
from discord.http import MultipartParameters

from adapters.discord import DiscordAdapter
from core.agent import Agent
from core.config import Config, Secrets
from core.events import User
from core.testing.platforms import Delivered

pytest_plugins = ["core.testing.testbot"]  # bot_config

#: Members who are admins get this role (Discord's "Manage Server" permission).
ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True)

Snapshot = dict[int, str]  # the bot's message ids → their text, across all channels


class DiscordDriver:
    """Acts as members of the fake guild would; each action returns what the bot left there."""

    platform = "discord"

    def __init__(self, agent: Agent, adapter: DiscordAdapter) -> None:
        self.agent, self.adapter, self.client = agent, adapter, adapter.client
        config = dpytest.get_config()
        self.guild: discord.Guild = config.guilds[0]
        self.channel: discord.TextChannel = next(c for c in config.channels if isinstance(c, discord.TextChannel))
        self._admin_role = backend.make_role("Admins", self.guild, permissions=ADMIN_PERMISSIONS.value)
        # dpytest's @everyone predates threads; Discord's own default lets everyone post in them.
        everyone = self.guild.default_role
        everyone._permissions |= discord.Permissions(send_messages_in_threads=True).value
        self._members: dict[str, discord.Member] = {}
        self._accounts: dict[str, discord.User] = {}  # kept when a member leaves, so a rejoin is the same user
        # dpytest's own reaction bookkeeping miscounts a second emoji: record the bot's here.
        self._bot_reactions: dict[int, list[str]] = {}
        callbacks.set_callback(self._on_bot_reaction, "add_reaction")
        #: Avatars on the fake CDN, by their hash (as discord.py names them in asset URLs).
        self.pictures: dict[str, bytes] = {}

    async def _on_bot_reaction(self, message: discord.Message, emoji: str) -> None:
        self._bot_reactions.setdefault(message.id, []).append(emoji)

    # -- the PlatformDriver protocol -----------------------------------------------------

    async def send(self, text: str, *, user: User, files: Sequence[Path] = ()) -> list[Delivered]:
        before = self.snapshot()
        attachments = [backend.make_attachment(Path(path).resolve()) for path in files]
        backend.make_message(text, self.member(user), self.channel, attachments=attachments)
        await dpytest.run_all_events()
        return self.delivered_since(before)

    async def join(self, user: User) -> list[Delivered]:
        """``user`` joins the guild; one who is in it already leaves first (a rejoin)."""
        before = self.snapshot()
        if user.id in self._members:
            backend.delete_member(self._members.pop(user.id))
        self.member(user, announce=True)
        await dpytest.run_all_events()
        return self.delivered_since(before)

    async def vote(self, poll: Delivered, option: int, *, user: User, added: bool = True) -> list[Delivered]:
        """``option`` indexes ``poll.options`` (0 is the first reaction)."""
        before = self.snapshot()
        channel = self.client.get_channel(int(poll.channel_id))
        assert isinstance(channel, discord.TextChannel)
        message = await channel.fetch_message(int(poll.message_id))
        react = backend.add_reaction if added else backend.remove_reaction
        react(message, cast(Any, self.member(user)), poll.options[option])  # dpytest takes members too
        await dpytest.run_all_events()
        return self.delivered_since(before)

    def set_picture(self, user: User, picture: Path | None, *, in_server: bool = False) -> None:
        """Give ``user`` an avatar (``in_server``: a server avatar, which Discord shows in this guild
        before their own), or none: Discord then shows its stand-in."""
        member = self.member(user)
        key = None
        if picture is not None:
            data = picture.read_bytes()
            key = hashlib.md5(data).hexdigest()
            self.pictures[key] = data
        if in_server:
            member._avatar = key
        else:
            member._user._avatar = key

    # -- building blocks -------------------------------------------------------------------

    def member(self, user: User, *, announce: bool = False) -> discord.Member:
        """The guild member standing for ``user``, made the first time (quietly, unless
        ``announce``: then the bot sees the join); an admin gets a role with Manage Server.
        Ids differ: Discord's are snowflakes."""
        if user.id not in self._members:
            account = self._accounts.setdefault(user.id, backend.make_user(user.name, f"{len(self._accounts) + 1:04}"))
            roles = [self._admin_role] if user.is_admin else []
            state = backend.get_state()
            if not announce:
                state.stop_dispatch()
            try:
                self._members[user.id] = backend.make_member(account, self.guild, nick=user.name, roles=roles)
            finally:
                state.start_dispatch()
        return self._members[user.id]

    def other_guild(self, name: str = "Other Guild") -> discord.TextChannel:
        """A second guild the bot is also in, with one text channel (returned)."""
        state = backend.get_state()
        state.stop_dispatch()
        try:
            guild = backend.make_guild(name)
            channel = backend.make_text_channel("elsewhere", guild)
            assert state.user is not None  # the bot is logged in
            backend.make_member(cast(Any, state.user), guild, nick="bot")
        finally:
            state.start_dispatch()
        return channel

    def thread(self, parent_id: int, name: str = "a thread") -> discord.Thread:
        """A public thread under channel ``parent_id`` (which need not be cached), in the guild's
        cache as the gateway would put it (dpytest has no threads of its own)."""
        stamp = "2030-01-01T00:00:00+00:00"
        data: Any = {"id": factories.make_id(), "guild_id": self.guild.id, "parent_id": parent_id, "type": 11,
                     "owner_id": self.client.user.id if self.client.user else 0, "name": name,
                     "last_message_id": None, "rate_limit_per_user": 0, "message_count": 0, "member_count": 1,
                     "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                         "archive_timestamp": stamp, "locked": False}}
        thread = discord.Thread(guild=self.guild, state=backend.get_state(), data=data)
        self.guild._add_thread(thread)
        return thread

    def deny_bot(self, channel: discord.TextChannel, **permissions: bool) -> None:
        """Take ``permissions`` (e.g. ``attach_files=True``) from the bot in ``channel``.
        (dpytest's own ``set_permission_overrides`` writes an overwrite type discord.py 2 ignores.)"""
        data = backend.facts.dict_from_channel(channel)
        denied = discord.Permissions(**permissions).value
        data["permission_overwrites"] = [{"id": self.guild.me.id, "type": 1, "allow": "0", "deny": str(denied)}]
        backend.get_state().parse_channel_update(data)

    def snapshot(self) -> Snapshot:
        return {m["id"]: m.get("content") or "" for _, m in self._bot_messages()}

    def delivered_since(self, before: Snapshot) -> list[Delivered]:
        """The bot's messages that are new or edited since ``before``, as they are now."""
        changed = [(c, m) for c, m in self._bot_messages() if before.get(m["id"]) != (m.get("content") or "")]
        return [_delivered(c, m, self._bot_reactions.get(m["id"], [])) for c, m in
                sorted(changed, key=lambda pair: pair[1]["id"])]

    def _bot_messages(self) -> Iterable[tuple[int, dict[str, Any]]]:
        """(channel id, message) for each message of the bot, as dpytest holds it now."""
        bot_id = self.client.user.id if self.client.user else None
        for channel_id, messages in backend._cur_config.messages.items():  # type: ignore[union-attr]
            yield from ((channel_id, m) for m in messages if cast(dict[str, Any], m)["author"]["id"] == bot_id)


def _delivered(channel_id: int, message: dict[str, Any], options: list[str]) -> Delivered:
    files = [(a["filename"], _read(a["url"])) for a in message.get("attachments", [])]
    kind = "video" if any(name.endswith(".mp4") for name, _ in files) else "file" if files else "message"
    return Delivered(channel_id=str(channel_id), message_id=str(message["id"]),
                     text=message.get("content") or "", files=files, options=options, kind=kind)


def _read(url: str) -> bytes:
    return Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path)).read_bytes()


def _keep_upload_captions(monkeypatch: pytest.MonkeyPatch) -> None:
    """dpytest reads a message's text from the JSON payload, which discord.py moves into the
    multipart body when files come along: hand dpytest that payload, so captions survive."""
    send_message = backend.FakeHttp.send_message

    async def send_with_caption(self, channel_id: int, *, params: MultipartParameters):  # type: ignore[no-untyped-def]
        channel = backend._get_higher_locs(1)["channel"]  # noqa: F841 (dpytest reads it from this frame)
        if params.payload is None and params.multipart:
            payload = json.loads(next(p["value"] for p in params.multipart if p["name"] == "payload_json"))
            params = MultipartParameters(payload=payload, multipart=params.multipart, files=params.files)
        return await send_message(self, channel_id, params=params)

    monkeypatch.setattr(backend.FakeHttp, "send_message", send_with_caption)


def _serve_pictures(monkeypatch: pytest.MonkeyPatch, pictures: dict[str, bytes]) -> None:
    """Discord's CDN for avatars: ``…/avatars/HASH.png`` is the picture stored under HASH (the real
    CDN would scale it to the asked size); dpytest itself only reads local files from it."""
    get_from_cdn = backend.FakeHttp.get_from_cdn

    async def from_cdn(self, url: str) -> bytes:  # type: ignore[no-untyped-def]
        parts = urllib.parse.urlparse(url).path.split("/")
        if "avatars" in parts[:-1]:  # /avatars/USER/HASH.png, /guilds/GUILD/users/USER/avatars/HASH.png
            key = parts[-1].rsplit(".", 1)[0]
            if key not in pictures:
                raise discord.NotFound(backend.FakeRequest(404, "Not Found"), "Unknown asset")  # type: ignore[arg-type]
            return pictures[key]
        return await get_from_cdn(self, url)

    monkeypatch.setattr(backend.FakeHttp, "get_from_cdn", from_cdn)


def _typed_reactions(state: Any) -> None:
    """discord.py 2.4+ reads a reaction event's ``type`` (normal or super reaction), which
    dpytest 0.7 leaves out; a member's reaction in these tests is a normal one."""
    for name in ("parse_message_reaction_add", "parse_message_reaction_remove"):
        parse = getattr(state, name)

        def with_type(data: dict[str, Any], parse: Any = parse) -> None:
            parse({"type": 0, **data})

        setattr(state, name, with_type)


async def connect_to_dpytest(adapter: DiscordAdapter, monkeypatch: pytest.MonkeyPatch) -> None:
    """Put ``adapter``'s client on dpytest's fake Discord (one guild, one text channel),
    with the fixes to dpytest that discord.py 2.7 needs."""
    _keep_upload_captions(monkeypatch)
    await adapter.client._async_setup_hook()
    dpytest.configure(adapter.client, members=0)
    _typed_reactions(backend.get_state())
    # The command tree was made before dpytest swapped the client's HTTP and state: re-point it.
    adapter.tree._http = adapter.client.http
    backend.get_state()._command_tree = adapter.tree


@pytest.fixture
def discord_plugins() -> Iterable[object]:
    """Extra plugin objects for the agent behind ``discord_driver``; override to add yours."""
    return ()


@pytest.fixture
async def discord_driver(bot_config: Config, discord_plugins: Iterable[object], tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordDriver]:
    # dpytest stores each upload as ./dpytest_N.dat: keep them in the test's folder.
    monkeypatch.chdir(tmp_path)
    secrets = Secrets(discord_token="dpytest")
    async with Agent(bot_config, secrets, extra_plugins=discord_plugins) as agent:
        adapter = DiscordAdapter(agent)  # [discord] shards = 0: one plain client, as dpytest needs
        await connect_to_dpytest(adapter, monkeypatch)
        agent.attach(adapter)
        driver = DiscordDriver(agent, adapter)
        _serve_pictures(monkeypatch, driver.pictures)
        try:
            yield driver
        finally:
            agent.detach(adapter)
            callbacks.remove_callback("add_reaction")
            await dpytest.empty_queue()


@pytest.fixture
def discord_bot(discord_driver: DiscordDriver) -> discord.Client:
    """The dpytest-configured client of ``discord_driver``, for dpytest's own helpers."""
    return discord_driver.client
