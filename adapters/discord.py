"""The Discord adapter (discord.py): prefix and slash commands, uploads, welcomes and reaction votes.

Every message goes to the agent, which answers the commands of the shared
registry (``!avatar``, ``!say``, ``!help``…); each is also a slash command, built
from its declarations (``adapters/discord_commands.py``). A voice clip
comes as an attachment or as a link in the message, which is fetched safely
(``core.fetch``). Member joins go to ``on_member_join``; number reactions on a
poll the bot posted are votes, found through the poll table so they still count
after a restart (raw reaction events need no message cache).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands

from adapters.discord_commands import install_slash_commands
from adapters.discord_replies import OPTION_EMOJI, PLATFORM, ChannelResponder
from core.adapter import MAX_PICTURE_BYTES, Adapter, ChannelUnavailable, ProfilePictureUnavailable
from core.events import (
    Attachment,
    Channel,
    MemberJoinEvent,
    MessageEvent,
    User,
    VoteEvent,
)
from core.fetch import SafeFetcher, link_attachment
from core.replies import SORRY, TextReply
from core.runner import FatalAdapterError

if TYPE_CHECKING:
    from core.agent import Agent
    from core.config import Config, DiscordSettings, Secrets
    from core.replies import Responder

log = logging.getLogger(__name__)

TOKEN_ENV = "MOUTHPIECE_DISCORD_TOKEN"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
#: The side of the profile pictures fetched from Discord's CDN (it scales them on request).
PICTURE_SIZE = 512


def build_client(settings: DiscordSettings) -> discord.Client:
    """One gateway connection, or ``AutoShardedClient`` when ``[discord] shards`` asks for shards."""
    intents = discord.Intents.default()
    intents.message_content = True  # prefix commands read the text of messages
    intents.members = True  # member joins, and admin rights of the author
    # Text the bot posts may quote members (captions, names): it must never ping @everyone,
    # a role or a member on their behalf.
    mentions = discord.AllowedMentions.none()
    if settings.shards == 0:
        return discord.Client(intents=intents, allowed_mentions=mentions)
    shard_count = None if settings.shards == "auto" else settings.shards
    return discord.AutoShardedClient(intents=intents, shard_count=shard_count, allowed_mentions=mentions)


class DiscordAdapter(Adapter):
    platform = PLATFORM

    def __init__(self, agent: Agent, *, client: discord.Client | None = None,
                 fetcher: SafeFetcher | None = None) -> None:
        super().__init__(agent)
        self.settings = agent.config.discord
        self.client = client or build_client(self.settings)
        self.fetcher = fetcher or SafeFetcher(max_bytes=agent.config.engine.max_audio_bytes)
        self.tree = app_commands.CommandTree(self.client)
        install_slash_commands(self)
        for handler in (self.on_message, self.on_member_join, self.on_raw_reaction_add, self.on_raw_reaction_remove):
            setattr(self.client, handler.__name__, handler)
        self.client.setup_hook = self.sync_commands  # type: ignore[method-assign]

    @classmethod
    def missing_settings(cls, secrets: Secrets, config: Config) -> list[str]:
        return [] if secrets.discord_token is not None else [TOKEN_ENV]

    async def run(self) -> None:
        """Log in and serve; discord.py itself resumes or reconnects a dropped gateway."""
        token = self.agent.secrets.discord_token
        if token is None:
            raise RuntimeError(f"{TOKEN_ENV} is not set")
        if self.client.is_closed():
            self.client.clear()  # a client that was closed can be started once more after clear()
        try:
            await self.client.start(token.get_secret_value(), reconnect=True)
        except discord.LoginFailure:
            raise FatalAdapterError(f"Discord rejected the token in {TOKEN_ENV}") from None
        except discord.PrivilegedIntentsRequired:
            raise FatalAdapterError("the bot needs the Message Content and Server Members intents: switch them on "
                                    "under Bot → Privileged Gateway Intents in the Discord developer portal") from None

    async def stop(self) -> None:
        await self.client.close()

    async def sync_commands(self) -> None:
        """Register the slash commands with Discord: in ``sync_guilds`` at once, else globally."""
        try:
            if self.settings.sync_guilds:
                for guild_id in self.settings.sync_guilds:
                    guild = discord.Object(id=int(guild_id))
                    self.tree.copy_global_to(guild=guild)
                    await self.tree.sync(guild=guild)
            else:
                await self.tree.sync()
        except discord.HTTPException as error:
            log.error("could not sync the slash commands (%s); prefix commands still work", error)

    # -- posting unprompted -------------------------------------------------------------

    async def open_channel(self, channel_id: str, *, server_id: str | None = None) -> Responder:
        channel = await self._channel(channel_id)
        if server_id is not None and channel_of(channel).server_id != server_id:
            raise ChannelUnavailable(f"Discord channel {channel_id} is in another server; pick one of this server's")
        if isinstance(channel, discord.abc.GuildChannel | discord.Thread):
            refusal = why_no_files(channel, channel.guild.me)
            if refusal:
                raise ChannelUnavailable(f"{refusal} (#{channel.name}, {channel_id})")
        return ChannelResponder(channel, self.agent.polls)

    async def open_direct(self, user_id: str) -> Responder:
        try:
            user = self.client.get_user(int(user_id)) or await self.client.fetch_user(int(user_id))
            channel = user.dm_channel or await user.create_dm()
        except (ValueError, discord.HTTPException) as error:
            raise ChannelUnavailable(f"no direct message to Discord user {user_id}: {error}") from None
        return ChannelResponder(channel, self.agent.polls)

    async def _channel(self, channel_id: str) -> discord.abc.Messageable:
        try:
            snowflake = int(channel_id)
        except ValueError:
            raise ChannelUnavailable(f"{channel_id!r} is not a Discord channel id") from None
        channel = self.client.get_channel(snowflake)
        if channel is None:
            try:
                channel = await self.client.fetch_channel(snowflake)
            except (discord.NotFound, discord.Forbidden):
                raise ChannelUnavailable(f"Discord channel {channel_id} is unknown or hidden from the bot") from None
        if not isinstance(channel, discord.abc.Messageable):
            raise ChannelUnavailable(f"Discord channel {channel_id} takes no messages")
        return channel

    # -- members' pictures ---------------------------------------------------------------

    async def profile_picture(self, user_id: str, folder: Path, *, server_id: str) -> Path | None:
        """The member's avatar in this server (a server avatar before their own), as a PNG at most
        ``PICTURE_SIZE`` wide; of an animated avatar, its first frame. None for Discord's stand-in."""
        account = await self._account(int(user_id), server_id)
        asset = getattr(account, "guild_avatar", None) or account.avatar
        if asset is None:
            return None
        try:
            data = await asset.replace(format="png", size=PICTURE_SIZE).read()
        except discord.DiscordException as error:
            raise ProfilePictureUnavailable(f"Discord wouldn't send it ({error})") from None
        if len(data) > MAX_PICTURE_BYTES:
            raise ProfilePictureUnavailable("Discord sent a picture far bigger than an avatar can be")
        path = folder / "profile-picture.png"
        path.write_bytes(data)
        return path

    async def _account(self, user_id: int, server_id: str) -> discord.abc.User:
        guild = self.client.get_guild(int(server_id)) if server_id.isdigit() else None
        found = (guild.get_member(user_id) if guild else None) or self.client.get_user(user_id)
        if found is not None:
            return found
        try:
            return await self.client.fetch_user(user_id)
        except discord.HTTPException as error:
            raise ProfilePictureUnavailable(f"Discord doesn't know you ({error})") from None

    # -- events -----------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        if self.client.user is None or message.author.id == self.client.user.id:
            return
        responder = ChannelResponder(message.channel, self.agent.polls, reference=message)
        try:
            event = MessageEvent(
                platform=self.platform, user=self.user(message.author, message.guild),
                channel=channel_of(message.channel), text=self._without_bot_mention(message.content),
                attachments=self._attachments(message), message_id=str(message.id),
                mentions_bot=self.client.user in message.mentions, replies_to_bot=self._replies_to_bot(message),
            )
        except Exception:  # the agent never raises; a message we can't even read is still answered
            log.exception("could not read Discord message %s", message.id)
            await _apologise(responder)
            return
        await self.agent.handle_message(event, responder)

    async def on_member_join(self, member: discord.Member) -> None:
        channel = greeting_channel(member.guild)
        if channel is None:
            log.warning("%s joined guild %s, but the bot may post in none of its channels", member.id, member.guild.id)
            return
        event = MemberJoinEvent(platform=self.platform, user=self.user(member, member.guild),
                                channel=channel_of(channel))
        await self.agent.handle_member_join(event, ChannelResponder(channel, self.agent.polls))

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self._vote(payload, added=True)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self._vote(payload, added=False)

    async def _vote(self, payload: discord.RawReactionActionEvent, *, added: bool) -> None:
        if self.client.user is None or payload.user_id == self.client.user.id:
            return
        poll = self.agent.polls.poll_for_message(self.platform, str(payload.message_id))
        emoji = str(payload.emoji)
        if poll is None or emoji not in OPTION_EMOJI[:len(poll[1])]:
            return
        channel = self.client.get_channel(payload.channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            return
        guild = self.client.get_guild(payload.guild_id) if payload.guild_id else None
        voter = (payload.member or (guild.get_member(payload.user_id) if guild else None)
                 or self.client.get_user(payload.user_id))
        user = self.user(voter, guild) if voter else User(id=str(payload.user_id), name=str(payload.user_id))
        poll_id, options = poll
        event = VoteEvent(platform=self.platform, user=user, channel=channel_of(channel), poll_id=poll_id,
                          option=options[OPTION_EMOJI.index(emoji)], added=added)
        await self.agent.handle_vote(event, ChannelResponder(channel, self.agent.polls))

    # -- translation --------------------------------------------------------------------

    def user(self, author: discord.abc.User, guild: discord.Guild | None) -> User:
        member = (guild.get_member(author.id) if guild else None) or author
        allowed = getattr(member, "guild_permissions", None)
        is_admin = bool(allowed and (allowed.administrator or allowed.manage_guild))
        return User(id=str(author.id), name=member.display_name, is_admin=is_admin, is_bot=author.bot)

    def _attachments(self, message: discord.Message) -> tuple[Attachment, ...]:
        if message.attachments:
            return tuple(discord_attachment(a) for a in message.attachments)
        link = self.link_attachment(message.content)
        return (link,) if link else ()

    def link_attachment(self, text: str) -> Attachment | None:
        """The first link in ``text`` as an attachment, fetched safely when a plugin downloads it."""
        return link_attachment(text, self.fetcher)

    def _without_bot_mention(self, text: str) -> str:
        """``@Mouthpiece !say hi`` reads as ``!say hi``."""
        assert self.client.user is not None
        return re.sub(rf"^\s*<@!?{self.client.user.id}>\s*", "", text)

    def _replies_to_bot(self, message: discord.Message) -> bool:
        reference = message.reference
        if reference is None or self.client.user is None:
            return False
        replied = reference.resolved or reference.cached_message
        return isinstance(replied, discord.Message) and replied.author.id == self.client.user.id


async def _apologise(responder: ChannelResponder) -> None:
    try:
        await responder.send(TextReply(SORRY))
    except Exception:
        log.exception("could not tell a member that their message failed")


def channel_of(channel: discord.abc.Messageable) -> Channel:
    guild = getattr(channel, "guild", None)
    is_direct = isinstance(channel, discord.DMChannel)
    channel_id = str(cast(discord.abc.Snowflake, channel).id)  # every channel that takes messages has one
    return Channel(id=channel_id, server_id=str(guild.id) if guild else channel_id,
                   name=getattr(channel, "name", None) or ("direct message" if is_direct else ""),
                   server_name=guild.name if guild else "", is_direct=is_direct)


def why_no_files(channel: discord.abc.GuildChannel | discord.Thread, me: discord.Member) -> str | None:
    """Why ``me`` may not post files in ``channel``, or None when it may. A thread needs
    "Send Messages in Threads" rather than "Send Messages", and its rights come from its
    parent channel, which may not be in the cache."""
    try:
        allowed = channel.permissions_for(me)
    except discord.ClientException:
        return "the bot can't see the channel this thread belongs to"
    sends = allowed.send_messages_in_threads if isinstance(channel, discord.Thread) else allowed.send_messages
    if not (allowed.view_channel and sends and allowed.attach_files):
        return "the bot may not post files there"
    return None


def greeting_channel(guild: discord.Guild) -> discord.TextChannel | None:
    """Where Discord itself greets newcomers (the system channel), else the first channel the bot may post in."""
    candidates = [guild.system_channel, *sorted(guild.text_channels, key=lambda c: c.position)]
    return next((c for c in candidates if c is not None and c.permissions_for(guild.me).send_messages), None)


def discord_attachment(attachment: discord.Attachment) -> Attachment:
    name = _SAFE_NAME.sub("_", attachment.filename).lstrip(".") or "clip"

    async def download(folder: Path) -> Path:
        path = folder / name
        await attachment.save(path)
        return path

    return Attachment(filename=name, size=attachment.size, content_type=attachment.content_type, download=download)
