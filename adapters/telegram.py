"""The Telegram adapter, on python-telegram-bot's ``Application``.

``/avatar``, ``/say``, ``/help`` and every other registered command become the registry's
``!command`` text (``!`` works too); a voice message, audio file or document on the message,
or on the message it replies to, is the clip. Answers come back as videos or round video
notes, polls as inline keyboards whose labels show the counts, progress as an edited status
message. Updates arrive by long polling, or by webhook when ``[telegram] mode = "webhook"``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from pathlib import Path
from urllib.parse import urlparse

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeDefault,
    Chat,
    MaybeInaccessibleMessage,
    Message,
    Update,
)
from telegram import User as TelegramUser
from telegram.constants import ChatMemberStatus, ChatType, MessageEntityType
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from adapters.telegram_input import attachments, command_line, command_menu
from adapters.telegram_replies import PLATFORM, VOTE_DATA, TelegramResponder, poll_key
from core.adapter import MAX_PICTURE_BYTES, Adapter, ChannelUnavailable, ProfilePictureUnavailable
from core.agent import Agent
from core.commands import Command
from core.config import Config, Secrets, TelegramSettings
from core.events import Channel, MemberJoinEvent, MessageEvent, User, VoteEvent
from core.replies import SORRY, Responder
from core.runner import FatalAdapterError

log = logging.getLogger(__name__)

TOKEN_VARIABLE = "MOUTHPIECE_TELEGRAM_TOKEN"
#: Seconds an answer of getChatMember stays trusted.
ADMIN_CACHE_SECONDS = 60.0
ADMIN_STATUSES = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR}
#: Join service messages arrive with "message" updates; "chat_member" would need the bot to be an admin.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]

Context = ContextTypes.DEFAULT_TYPE


class _TokenFilter(logging.Filter):
    """Takes bot tokens out of log lines: every Bot API URL carries the token, and httpx logs
    each request's URL at INFO (python-telegram-bot logs its base URLs at DEBUG)."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(token in message for token in self.tokens):
            for token in self.tokens:
                message = message.replace(token, "<token>")
            record.msg, record.args = message, None
        return True


_HIDDEN_TOKENS = _TokenFilter()
for _logger_name in ("httpx", "telegram.Bot", "telegram.ext.ExtBot"):
    logging.getLogger(_logger_name).addFilter(_HIDDEN_TOKENS)


class TelegramAdapter(Adapter):
    platform = PLATFORM

    def __init__(self, agent: Agent) -> None:
        super().__init__(agent)
        token = agent.secrets.telegram_token
        if token is None:
            raise ValueError(f"{TOKEN_VARIABLE} is not set; the Telegram adapter needs the token BotFather gave you")
        self.settings = agent.config.telegram
        _HIDDEN_TOKENS.tokens.add(token.get_secret_value())
        self.application = (
            Application.builder().token(token.get_secret_value())
            .base_url(self.settings.api_url).base_file_url(self.settings.file_url)
            .concurrent_updates(True)  # one member's render never holds up another's command
            .job_queue(None)  # scheduling is the agent's
            .rate_limiter(flood_control(self.settings))
            .build()
        )
        self.application.add_handler(MessageHandler(filters.StatusUpdate.NEW_CHAT_MEMBERS, self._on_new_members))
        self.application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL,
                                                    self._on_message))
        self.application.add_handler(CallbackQueryHandler(self._on_callback))
        self.application.add_error_handler(self._on_error)
        #: Set while the bot receives updates.
        self.ready = asyncio.Event()
        self._stopping = asyncio.Event()
        self._admins: dict[tuple[int, int], tuple[bool, float]] = {}

    @classmethod
    def missing_settings(cls, secrets: Secrets, config: Config) -> list[str]:
        return [] if secrets.telegram_token is not None else [TOKEN_VARIABLE]

    @property
    def bot(self) -> Bot:
        return self.application.bot

    # -- lifecycle ------------------------------------------------------------------

    async def run(self) -> None:
        app = self.application
        if not await self._initialize():
            return
        try:
            await self._register_commands()
            await app.start()
            await self._start_updates()
            self.agent.attach(self)
            self.ready.set()
            log.info("telegram: @%s is listening (%s)", self.bot.username, self.settings.mode)
            await self._stopping.wait()
        finally:
            self.ready.clear()
            self.agent.detach(self)
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            await app.shutdown()

    async def stop(self) -> None:
        self._stopping.set()

    async def _initialize(self) -> bool:
        """Connect (getMe); while Telegram can't be reached, try again with growing pauses.
        False when ``stop`` came first."""
        pause = 1.0
        while not self._stopping.is_set():
            try:
                await self.application.initialize()
                return True
            except InvalidToken:
                # PTB's message quotes the token itself, so it is not passed on.
                raise FatalAdapterError(f"Telegram rejected the token in {TOKEN_VARIABLE}") from None
            except NetworkError as error:
                log.warning("telegram: cannot reach the Bot API (%s); trying again in %.0f s", error.message, pause)
            try:
                await asyncio.wait_for(self._stopping.wait(), pause)
            except TimeoutError:
                pause = min(pause * 2, 60.0)
        return False

    async def _start_updates(self) -> None:
        updater = self.application.updater
        assert updater is not None
        if self.settings.mode == "polling":
            # PTB keeps polling through dropped connections, retrying with a back-off.
            await updater.start_polling(allowed_updates=ALLOWED_UPDATES, error_callback=self._on_polling_error)
            return
        if not self.settings.webhook_url:
            raise ValueError('[telegram] mode = "webhook" needs webhook_url, the public HTTPS address of the bot')
        secret = self.agent.secrets.telegram_webhook_secret
        await updater.start_webhook(
            listen=self.settings.listen, port=self.settings.port,
            url_path=urlparse(self.settings.webhook_url).path.lstrip("/"), webhook_url=self.settings.webhook_url,
            # Telegram echoes the secret in a header on every update; anything without it is refused.
            secret_token=secret.get_secret_value() if secret else secrets.token_urlsafe(32),
            allowed_updates=ALLOWED_UPDATES,
        )

    async def _register_commands(self) -> None:
        """The command menus Telegram shows after "/", from the commands' declarations: members see
        theirs; admin-only commands show only to a group's administrators and in private chats (where
        the member is the admin of their own chat). The agent still checks rights itself."""
        every = command_menu(self.agent.commands)
        members = [(entry, command) for entry, command in every if not command.admin_only]
        menus: list[tuple[BotCommandScope, list[tuple[BotCommand, Command]]]] = [
            (BotCommandScopeDefault(), members), (BotCommandScopeAllPrivateChats(), every),
            (BotCommandScopeAllChatAdministrators(), every)]
        for scope, entries in menus:
            try:
                await self.bot.set_my_commands([entry for entry, _ in entries], scope=scope)
            except TelegramError as error:
                log.warning("telegram: could not set the command menu (%s): %s", scope.type, error.message)

    # -- unprompted posts ---------------------------------------------------------------

    async def open_channel(self, channel_id: str, *, server_id: str | None = None) -> Responder:
        """A chat to post in. A Telegram "server" is one chat, so with ``server_id`` only that
        chat qualifies, or the channel linked to it (a channel whose discussion group it is, or
        the other way round): a group's admins may announce in their own channel, but never
        send the bot's posts into an unrelated chat the bot happens to be in."""
        chat_id: int | str = int(channel_id) if channel_id.lstrip("-").isdigit() else channel_id
        try:
            chat = await self.bot.get_chat(chat_id)
            if server_id is not None and server_id not in (str(chat.id), str(chat.linked_chat_id)):
                raise ChannelUnavailable(f"telegram chat {channel_id} is neither this chat nor its linked channel")
            if chat.type != ChatType.PRIVATE:
                await self._check_may_post(chat.id, chat.type)
        except TelegramError as error:
            raise ChannelUnavailable(f"telegram chat {channel_id}: {error.message}") from None
        return TelegramResponder(self.bot, chat.id, self.agent.polls, as_note=self.settings.video_notes)

    async def open_direct(self, user_id: str) -> Responder:
        # A member's private chat with the bot has the member's id; it exists once they have started the bot.
        if not user_id.isdigit():
            raise ChannelUnavailable(f"{user_id!r} is not a Telegram user id")
        return TelegramResponder(self.bot, int(user_id), self.agent.polls)

    async def _check_may_post(self, chat_id: int, chat_type: str) -> None:
        member = await self.bot.get_chat_member(chat_id, self.bot.id)
        if member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
            raise ChannelUnavailable(f"the bot is not a member of telegram chat {chat_id}")
        if member.status == ChatMemberStatus.RESTRICTED and not getattr(member, "can_send_messages", True):
            raise ChannelUnavailable(f"the bot may not send messages in telegram chat {chat_id}")
        if chat_type == ChatType.CHANNEL and not getattr(member, "can_post_messages", False):
            raise ChannelUnavailable(f"the bot may not post in telegram channel {chat_id}")

    # -- members' pictures ------------------------------------------------------------------

    async def profile_picture(self, user_id: str, folder: Path, *, server_id: str) -> Path | None:
        """The member's current profile photo (``getUserProfilePhotos``, newest first) in its largest
        size, fetched with ``getFile``. None when they have none, or hide it from bots."""
        if not user_id.isdigit():  # a negative id: the message came from a chat, not a member
            raise ProfilePictureUnavailable("you wrote on behalf of a chat, which has no profile picture of yours")
        try:
            found = await self.bot.get_user_profile_photos(int(user_id), limit=1)
            if not found.photos or not found.photos[0]:
                return None
            largest = max(found.photos[0], key=lambda size: size.width * size.height)
            if (largest.file_size or 0) > MAX_PICTURE_BYTES:
                raise ProfilePictureUnavailable("it is bigger than a profile picture can be")
            file = await largest.get_file()
            return await file.download_to_drive(folder / "profile-picture.jpg")
        except TelegramError as error:
            raise ProfilePictureUnavailable(f"Telegram wouldn't send it ({error.message})") from None

    # -- updates ----------------------------------------------------------------------------

    async def _on_message(self, update: Update, context: Context) -> None:
        message = update.message
        if message is None or message.from_user is None:
            return
        line = command_line(message.text or message.caption or "", self.agent.commands,
                            bot_username=self.bot.username, is_private=message.chat.type == ChatType.PRIVATE)
        clips = attachments(message, max_bytes=self.settings.max_download_bytes)
        if line is None or not (line.text or clips):
            return
        replied = message.reply_to_message
        event = MessageEvent(
            self.platform, _chat_sender(message) or await self._user(message.chat, message.from_user),
            _channel(message.chat),
            text=line.text, attachments=clips, message_id=str(message.message_id),
            mentions_bot=self._mentions_bot(message),
            replies_to_bot=bool(replied and replied.from_user and replied.from_user.id == self.bot.id),
        )
        as_note = self.settings.video_notes if line.as_note is None else line.as_note
        await self.agent.handle_message(event, self._responder(message, as_note=as_note))

    async def _on_new_members(self, update: Update, context: Context) -> None:
        message = update.message
        assert message is not None
        for member in message.new_chat_members:
            if member.is_bot:
                continue
            event = MemberJoinEvent(self.platform, _user(member), _channel(message.chat))
            await self.agent.handle_member_join(event, self._responder(message, as_note=self.settings.video_notes))

    async def _on_callback(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        toast = "This button no longer works."
        try:
            vote = VOTE_DATA.match(query.data or "")
            message = query.message
            known = message and self.agent.polls.poll_for_message(
                self.platform, poll_key(message.chat.id, message.message_id))
            if vote and message and known and int(vote.group(1)) < len(known[1]):
                poll_id, option = known[0], known[1][int(vote.group(1))]
                toast = await self._vote(query.from_user, message, poll_id, option)
        finally:
            try:
                await query.answer(toast)  # always, or the member's button keeps spinning
            except TelegramError as error:  # e.g. a press from before a restart, too old to answer now
                log.warning("telegram: could not answer a button press: %s", error.message)

    async def _vote(self, member: TelegramUser, message: MaybeInaccessibleMessage, poll_id: str, option: str) -> str:
        polls = self.agent.polls
        before = polls.choice(self.platform, poll_id, str(member.id))
        if before == option:
            return "You already voted for this."
        event = VoteEvent(self.platform, await self._user(message.chat, member), _channel(message.chat),
                          poll_id=poll_id, option=option)
        responder = TelegramResponder(self.bot, message.chat.id, polls,
                                      poll_message=message if isinstance(message, Message) else None)
        await self.agent.handle_vote(event, responder)
        if polls.choice(self.platform, poll_id, str(member.id)) != option:
            return "Your vote was not counted."  # a plugin's rule turned it down, and says why
        return "Vote changed." if before else "Vote counted."

    async def _on_error(self, update: object, context: Context) -> None:
        """A handler failed (the agent itself never raises): log it, tell the member, keep running."""
        log.error("telegram: failed to handle an update", exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat is not None:
            try:
                await self.bot.send_message(update.effective_chat.id, SORRY)
            except TelegramError:
                log.exception("telegram: could not report a failure to chat %s", update.effective_chat.id)

    def _on_polling_error(self, error: TelegramError) -> None:
        log.warning("telegram: polling failed (%s); retrying", error)

    # -- translation ----------------------------------------------------------------------

    def _responder(self, message: Message, *, as_note: bool) -> TelegramResponder:
        return TelegramResponder(self.bot, message.chat.id, self.agent.polls, reply_to=message.message_id,
                                 thread_id=message.message_thread_id if message.is_topic_message else None,
                                 as_note=as_note)

    async def _user(self, chat: Chat, member: TelegramUser) -> User:
        return User(id=str(member.id), name=member.full_name, is_bot=member.is_bot,
                    is_admin=await self._is_admin(chat, member.id))

    async def _is_admin(self, chat: Chat, user_id: int) -> bool:
        """The chat's creator or an administrator (getChatMember, trusted for a minute);
        in a private chat the member owns the conversation."""
        if chat.type == ChatType.PRIVATE:
            return True
        key, now = (chat.id, user_id), time.monotonic()
        cached = self._admins.get(key)
        if cached and cached[1] > now:
            return cached[0]
        try:
            is_admin = (await self.bot.get_chat_member(chat.id, user_id)).status in ADMIN_STATUSES
        except TelegramError as error:
            log.warning("telegram: could not check the rights of user %s in chat %s: %s",
                        user_id, chat.id, error.message)
            return False
        self._admins[key] = (is_admin, now + ADMIN_CACHE_SECONDS)
        return is_admin

    def _mentions_bot(self, message: Message) -> bool:
        entities = message.parse_entities() or message.parse_caption_entities()
        mention = f"@{self.bot.username}".lower()
        return any(
            (entity.type == MessageEntityType.MENTION and text.lower() == mention)
            or (entity.type == MessageEntityType.TEXT_MENTION and entity.user is not None
                and entity.user.id == self.bot.id)
            for entity, text in entities.items()
        )


def _chat_sender(message: Message) -> User | None:
    """Who speaks when a message is sent on behalf of a chat (``sender_chat``): the group itself for
    its anonymous admins, or a channel. ``from`` then holds a stand-in bot account, not the sender."""
    sender = message.sender_chat
    if sender is None:
        return None
    return User(id=str(sender.id), name=sender.title or sender.username or str(sender.id),
                is_admin=sender.id == message.chat.id)


def _user(member: TelegramUser) -> User:
    return User(id=str(member.id), name=member.full_name, is_bot=member.is_bot)


def _channel(chat: Chat) -> Channel:
    name = chat.title or chat.full_name or chat.username or str(chat.id)
    return Channel(id=str(chat.id), server_id=str(chat.id), name=name, server_name=name,
                   is_direct=chat.type == ChatType.PRIVATE)


def flood_control(settings: TelegramSettings) -> AIORateLimiter:
    """Keeps sends and edits within Telegram's limits (about 30 a second overall, 20 a minute per
    group; bursts up to those counts go out at once), and tries a call again after the wait
    Telegram asks for when it answers "Too Many Requests: retry after N"."""
    return AIORateLimiter(overall_max_rate=30, overall_time_period=1,
                          group_max_rate=settings.group_messages_per_minute, group_time_period=60,
                          max_retries=settings.flood_retries)
