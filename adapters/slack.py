"""The Slack adapter, on slack-bolt's asyncio app.

Socket Mode by default: the bot opens a websocket to Slack with the app-level token,
so no public URL is needed, and the SDK reconnects when the socket drops. HTTP mode
(``[slack] mode = "http"``) serves Slack's Events API and slash commands on
``http_path``; bolt refuses any request whose signature or timestamp doesn't check
out against the signing secret.

What members do, and what the agent sees:

- a message (``!say hi``), or a file shared with the comment ``!avatar`` → ``MessageEvent``,
  answered in the message's thread; a mention of the bot (``@Mouthpiece !say hi``) works
  too, and the mention is taken off the front of the text;
- ``/NAME ARGS`` (for the commands the app's manifest lists) and ``/mouthpiece NAME ARGS`` →
  ``!NAME ARGS``, acknowledged at once, then answered in the channel; ``/mouthpiece`` alone or
  ``/mouthpiece help [COMMAND]`` answers only the asker, with help from the declarations. A
  slash command can't carry a file, so a command that takes a voice clip gets the member's
  newest one in the channel (``adapters/slack_commands.py``);
- joining a channel the bot is in → ``MemberJoinEvent``;
- a number reaction (1️⃣ …) on a poll the bot posted → ``VoteEvent``; removing it withdraws the vote.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.app.async_server import AsyncSlackAppServer
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_commands import (
    CATCH_ALL_COMMAND,
    HELP_PREFIX,
    command_line,
    help_topic,
    primary_file,
    recent_file,
)
from adapters.slack_dedupe import RecentKeys
from adapters.slack_files import FileHosts, file_attachment, member_picture
from adapters.slack_replies import NUMBER_EMOJI, SlackResponder, poll_message_id
from core.adapter import Adapter, ChannelUnavailable
from core.commands import CommandError
from core.config import Config, Secrets, SlackSettings
from core.events import (
    Attachment,
    Channel,
    MemberJoinEvent,
    MessageEvent,
    User,
    VoteEvent,
)

if TYPE_CHECKING:
    from slack_bolt.context.ack.async_ack import AsyncAck
    from slack_bolt.context.respond.async_respond import AsyncRespond

    from core.agent import Agent
    from core.replies import Responder

log = logging.getLogger(__name__)

#: Message subtypes that are a member speaking; the rest are edits, joins, bot posts...
MEMBER_SUBTYPES = {None, "file_share", "thread_broadcast"}
PROFILE_TTL = 60.0  # seconds a member's name and admin flag are trusted
RECENT_MESSAGES = 1024  # message ids remembered so a mention's two events answer once
RECENT_EVENTS = 4096  # event ids remembered so an event Slack delivers again is handled once
AUTH_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "not_allowed_token_type"}


class SlackAdapter(Adapter):
    platform = "slack"

    def __init__(self, agent: Agent, *, ping_interval: float = 10.0) -> None:
        super().__init__(agent)
        self.settings: SlackSettings = agent.config.slack
        secrets = agent.secrets
        self._bot_token = _reveal(secrets.slack_bot_token)
        self._app_token = _reveal(secrets.slack_app_token)
        self.client = AsyncWebClient(token=self._bot_token, base_url=self.settings.api_url)
        # Slack answers posting or editing too fast (chat.postMessage: about one a second per channel)
        # with HTTP 429 and Retry-After; waiting and sending again keeps the answer from being lost.
        self.client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        http = self.settings.mode == "http"
        self.app = AsyncApp(client=self.client, signing_secret=_reveal(secrets.slack_signing_secret),
                            request_verification_enabled=http, url_verification_enabled=http, ssl_check_enabled=http)
        self.file_hosts = FileHosts(self.settings.file_hosts, self.settings.api_url)
        self.avatar_hosts = FileHosts(self.settings.avatar_hosts, self.settings.api_url)
        self.ping_interval = ping_interval
        #: Set once the bot is connected (socket) or listening (http).
        self.ready = asyncio.Event()
        #: The port the HTTP endpoint listens on, once ready (useful when configured as 0).
        self.http_port: int | None = None
        #: Platform events fully handled so far; ``wait_handled`` waits for a count.
        self.handled = 0
        self.bot_user_id = ""
        self.team_id = ""
        self.team_name = ""
        self._handled_changed = asyncio.Condition()
        self._stopping = asyncio.Event()
        self._profiles: dict[str, tuple[float, User]] = {}
        self._channel_names: dict[str, str] = {}
        self._recent_messages = RecentKeys(RECENT_MESSAGES)
        self._recent_events = RecentKeys(RECENT_EVENTS)
        self._register_listeners()

    @classmethod
    def missing_settings(cls, secrets: Secrets, config: Config) -> list[str]:
        """Socket Mode needs the bot and app tokens; HTTP mode the bot token and signing secret."""
        mode = config.slack.mode
        needed = {"slack_bot_token": secrets.slack_bot_token,
                  "slack_app_token" if mode == "socket" else "slack_signing_secret":
                      secrets.slack_app_token if mode == "socket" else secrets.slack_signing_secret}
        return [f"MOUTHPIECE_{name.upper()}" for name, value in needed.items() if value is None]

    # -- lifecycle ----------------------------------------------------------------------

    async def run(self) -> None:
        if missing := self.missing_settings(self.agent.secrets, self.agent.config):
            log.error("Slack is not started: %s is not set (%s mode)", " and ".join(missing), self.settings.mode)
            return
        if not await self._identify():
            return
        if self.settings.mode == "socket":
            await self._serve_socket_mode()
        else:
            await self._serve_http()

    async def stop(self) -> None:
        self._stopping.set()

    async def wait_handled(self, count: int) -> None:
        """Wait until ``count`` platform events have been handled from start to finish."""
        async with self._handled_changed:
            await self._handled_changed.wait_for(lambda: self.handled >= count)

    async def _identify(self) -> bool:
        """Learn the bot's user id and workspace; False when Slack rejects the token."""
        delay = 1.0
        while not self._stopping.is_set():
            try:
                identity = await self.client.auth_test()
            except SlackApiError as error:
                if error.response.get("error") in AUTH_ERRORS:
                    log.error("Slack is not started: it rejected MOUTHPIECE_SLACK_BOT_TOKEN (%s)",
                              error.response["error"])
                    return False
                log.warning("Slack auth.test failed (%s); retrying in %.0f s", error.response.get("error"), delay)
            except (SlackClientError, OSError) as error:
                log.warning("cannot reach Slack (%s); retrying in %.0f s", error, delay)
            else:
                self.bot_user_id, self.team_id = identity["user_id"], identity["team_id"]
                self.team_name = identity.get("team", "")
                return True
            await _sleep_unless(self._stopping, delay)
            delay = min(delay * 2, 60.0)
        return False

    async def _serve_socket_mode(self) -> None:
        handler = AsyncSocketModeHandler(self.app, self._app_token, web_client=self.client,
                                         ping_interval=self.ping_interval)
        try:
            await handler.connect_async()  # retries until connected; reconnects on its own afterwards
            log.info("Slack: connected to workspace %s over Socket Mode", self.team_name or self.team_id)
            self.ready.set()
            await self._stopping.wait()
        finally:
            await handler.close_async()

    async def _serve_http(self) -> None:
        server = AsyncSlackAppServer(port=self.settings.http_port, path=self.settings.http_path, app=self.app)
        runner = web.AppRunner(server.web_app)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.settings.http_host, self.settings.http_port)
            await site.start()
            self.http_port = runner.addresses[0][1]
            log.info("Slack: serving events for workspace %s on port %d%s", self.team_name or self.team_id,
                     self.http_port, self.settings.http_path)
            self.ready.set()
            await self._stopping.wait()
        finally:
            await runner.cleanup()

    # -- events -------------------------------------------------------------------------

    def _register_listeners(self) -> None:
        self.app.middleware(self._once_per_event)
        self.app.event("message")(self._on_message)
        self.app.event("app_mention")(self._on_message)
        self.app.event("member_joined_channel")(self._on_member_joined)
        self.app.event("reaction_added")(self._on_reaction)
        self.app.event("reaction_removed")(self._on_reaction)
        for command in (CATCH_ALL_COMMAND, *(f"/{c.name}" for c in self.agent.commands.all())):
            self.app.command(command)(self._on_command)

    async def _once_per_event(self, body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        """Drop an event already seen (same ``event_id``): Slack redelivers events it thinks
        weren't acknowledged, and a join or a vote must not be handled twice. The redelivery
        is acknowledged, so Slack stops retrying."""
        event_id = body.get("event_id")
        if isinstance(event_id, str) and not self._recent_events.first_sight(event_id):
            log.info("Slack delivered event %s again; it was handled already", event_id)
            async with self._handling("redelivered event"):
                return BoltResponse(status=200, body="")
        await next()
        return None

    @asynccontextmanager
    async def _handling(self, what: str) -> AsyncIterator[None]:
        """Count the event as handled however it ends; a failure is logged, never raised into bolt."""
        try:
            yield
        except Exception:
            log.exception("failed to handle a Slack %s", what)
        finally:
            async with self._handled_changed:
                self.handled += 1
                self._handled_changed.notify_all()

    async def _on_message(self, event: dict[str, Any]) -> None:
        async with self._handling(event.get("type", "message")):
            from_member = event.get("subtype") in MEMBER_SUBTYPES and event.get("user") and not event.get("bot_id")
            if from_member and self._first_sight(event["channel"], event["ts"]):
                await self._handle_message(event)

    async def _handle_message(self, event: dict[str, Any]) -> None:
        channel_id, ts = event["channel"], event["ts"]
        text = event.get("text", "")
        mention = f"<@{self.bot_user_id}>"
        is_direct = event.get("channel_type") == "im" or channel_id.startswith("D")
        message = MessageEvent(
            self.platform, await self._user(event["user"]), await self._channel(channel_id, is_direct),
            text=re.sub(rf"^\s*{re.escape(mention)}\s*", "", text),
            attachments=tuple(file_attachment(f, token=self._bot_token, hosts=self.file_hosts,
                                              max_bytes=self.agent.config.engine.max_audio_bytes)
                              for f in event.get("files", ())),
            message_id=ts,
            mentions_bot=event.get("type") == "app_mention" or mention in text,
            replies_to_bot=event.get("thread_ts", ts) != ts and event.get("parent_user_id") == self.bot_user_id,
        )
        thread = event.get("thread_ts") or (None if is_direct else ts)
        await self.agent.handle_message(message, self._responder(channel_id, thread))

    async def _on_command(self, ack: AsyncAck, respond: AsyncRespond, command: dict[str, Any]) -> None:
        topic = help_topic(command["command"], command.get("text", ""))
        # within Slack's 3 s; the invocation stays visible, but a request for help is only the asker's
        await ack(response_type="ephemeral" if topic is not None else "in_channel")
        async with self._handling(command["command"]):
            channel_id = command["channel_id"]
            is_direct = command.get("channel_name") == "directmessage" or channel_id.startswith("D")
            user, channel = await self._user(command["user_id"]), await self._channel(channel_id, is_direct)
            if topic is not None:
                await respond(self._help(MessageEvent(self.platform, user, channel), topic), response_type="ephemeral")
                return
            try:
                responder = await self.open_channel(command["channel_id"])
            except ChannelUnavailable:
                # Slash commands work in every conversation, even where the bot can't post (a channel
                # it wasn't invited to, a DM between two members); only the response URL reaches the member.
                await respond(f"I can't post here. Invite me with `/invite <@{self.bot_user_id}>`, or use "
                              f"{command['command']} in a channel I'm in.", response_type="ephemeral")
                return
            line = command_line(command["command"], command.get("text", ""))
            files: tuple[Attachment, ...] = ()
            if wanted := primary_file(self.agent.commands.get(line.split()[0].lower())):
                files = await recent_file(self.client, wanted, command["user_id"], channel_id, token=self._bot_token,
                                          hosts=self.file_hosts, max_bytes=self.agent.config.engine.max_audio_bytes)
            message = MessageEvent(self.platform, user, channel, text=f"{self.agent.config.agent.prefix}{line}",
                                   attachments=files, message_id=command.get("trigger_id", ""))
            await self.agent.handle_message(message, responder)

    def _help(self, event: MessageEvent, topic: str) -> str:
        """Help for the slash commands, as the asker may see it here."""
        try:
            return self.agent.help(event, topic, prefix=HELP_PREFIX)
        except CommandError as error:
            return str(error)

    async def _on_member_joined(self, event: dict[str, Any]) -> None:
        async with self._handling("member_joined_channel"):
            user = await self._user(event["user"])
            if user.is_bot:
                return
            channel = await self._channel(event["channel"], is_direct=False)
            await self.agent.handle_member_join(MemberJoinEvent(self.platform, user, channel),
                                                self._responder(event["channel"]))

    async def _on_reaction(self, event: dict[str, Any]) -> None:
        async with self._handling(event["type"]):
            item = event.get("item", {})
            emoji = event.get("reaction", "").split("::")[0]  # "one::skin-tone-2" is still "one"
            if item.get("type") != "message" or emoji not in NUMBER_EMOJI:
                return
            found = self.agent.polls.poll_for_message(self.platform, poll_message_id(item["channel"], item["ts"]))
            if found is None or NUMBER_EMOJI.index(emoji) >= len(found[1]):
                return
            poll_id, options = found
            vote = VoteEvent(self.platform, await self._user(event["user"]),
                             await self._channel(item["channel"], False),
                             poll_id=poll_id, option=options[NUMBER_EMOJI.index(emoji)],
                             added=event["type"] == "reaction_added")
            await self.agent.handle_vote(vote, self._responder(item["channel"], item["ts"]))

    # -- posting --------------------------------------------------------------------------

    async def open_channel(self, channel_id: str, *, server_id: str | None = None) -> Responder:
        try:
            info = (await self.client.conversations_info(channel=channel_id))["channel"]
        except SlackApiError as error:
            raise ChannelUnavailable(f"Slack channel {channel_id}: {error.response.get('error')}") from error
        if not (info.get("is_member") or info.get("is_im")):
            raise ChannelUnavailable(f"the bot is not a member of Slack channel {channel_id}; /invite it there")
        if server_id is not None and server_id != channel_id and not _in_workspace(info, server_id):
            raise ChannelUnavailable(f"Slack channel {channel_id} belongs to another workspace")
        return self._responder(channel_id)

    async def open_direct(self, user_id: str) -> Responder:
        try:
            channel = (await self.client.conversations_open(users=user_id))["channel"]["id"]
        except SlackApiError as error:
            reason = error.response.get("error")
            raise ChannelUnavailable(f"no direct message to Slack user {user_id}: {reason}") from error
        return self._responder(channel)

    def _responder(self, channel_id: str, thread_ts: str | None = None) -> SlackResponder:
        return SlackResponder(self.client, self.agent.polls, channel_id, thread_ts)

    # -- who and where ----------------------------------------------------------------------

    async def profile_picture(self, user_id: str, folder: Path, *, server_id: str) -> Path | None:
        return await member_picture(self.client, user_id, folder, hosts=self.avatar_hosts)

    async def _user(self, user_id: str) -> User:
        """A member's display name and admin flag (workspace admins and owners), cached briefly."""
        cached = self._profiles.get(user_id)
        if cached and time.monotonic() - cached[0] < PROFILE_TTL:
            return cached[1]
        try:
            info = (await self.client.users_info(user=user_id))["user"]
        except SlackApiError as error:
            log.warning("Slack users.info %s failed: %s", user_id, error.response.get("error"))
            return User(user_id, user_id, is_bot=user_id == self.bot_user_id)
        profile = info.get("profile", {})
        user = User(user_id, profile.get("display_name") or profile.get("real_name") or info.get("name") or user_id,
                    is_admin=bool(info.get("is_admin") or info.get("is_owner")),
                    is_bot=bool(info.get("is_bot")) or user_id in (self.bot_user_id, "USLACKBOT"))
        self._profiles[user_id] = (time.monotonic(), user)
        return user

    async def _channel(self, channel_id: str, is_direct: bool) -> Channel:
        if is_direct:
            return Channel(channel_id, server_id=channel_id, server_name=self.team_name, is_direct=True)
        if channel_id not in self._channel_names:
            try:
                info = (await self.client.conversations_info(channel=channel_id))["channel"]
                self._channel_names[channel_id] = info.get("name", "")
            except SlackApiError as error:
                log.warning("Slack conversations.info %s failed: %s", channel_id, error.response.get("error"))
                return Channel(channel_id, server_id=self.team_id, server_name=self.team_name)
        return Channel(channel_id, server_id=self.team_id, name=self._channel_names[channel_id],
                       server_name=self.team_name)

    def _first_sight(self, channel_id: str, ts: str) -> bool:
        """True the first time a message is seen: a mention arrives as two events with their own
        ids, ``message`` and ``app_mention`` (redeliveries are dropped by ``_once_per_event``)."""
        return self._recent_messages.first_sight(f"{channel_id}:{ts}")


def _in_workspace(info: dict[str, Any], team_id: str) -> bool:
    """Whether a channel (``conversations.info``) is part of workspace ``team_id``. A bot token
    installed in one workspace sees only that workspace's channels, and the ones shared with
    it (Slack Connect, listed in ``shared_team_ids``); an org-wide install on Enterprise Grid
    sees the channels of every workspace of the org, so the team really has to be compared."""
    teams = {info.get("context_team_id"), *(info.get("shared_team_ids") or ())} - {None}
    return not teams or team_id in teams


def _reveal(secret: Any) -> str:
    return secret.get_secret_value() if secret is not None else ""


async def _sleep_unless(stopping: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stopping.wait(), seconds)
    except TimeoutError:
        pass
