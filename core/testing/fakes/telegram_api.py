"""A fake Telegram Bot API server on 127.0.0.1 for python-telegram-bot to talk to.

It keeps chats, members, messages and files the way Telegram does and answers the Bot API
methods the adapter uses, in Telegram's JSON, with Telegram's error texts. ``getUpdates``
is real long polling: the request is held until an update arrives or its timeout passes.
After ``setWebhook`` it posts each update to the webhook with the secret header instead.
Uploads are kept with their bytes, so a test can open the video the bot sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Self

import aiohttp
from aiohttp import web

TOKEN = "123456:TEST-token"
BOT: dict[str, Any] = {"id": 123456, "is_bot": True, "first_name": "Mouthpiece", "username": "mouthpiece_bot",
       "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
GROUP: dict[str, Any] = {"id": -1001000000001, "type": "supergroup", "title": "Test Group"}
#: The most a bot may download through the public Bot API.
DOWNLOAD_LIMIT = 20 * 1024 * 1024
#: Telegram refuses a media caption longer than this.
CAPTION_LIMIT = 1024
_UPLOAD_METHODS = {"sendVideo": ("video", "video"), "sendVideoNote": ("video_note", "video_note"),
                   "sendDocument": ("document", "file")}
_ADMIN_RIGHTS = ("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                 "can_restrict_members", "can_promote_members", "can_change_info", "can_invite_users",
                 "can_post_stories", "can_edit_stories", "can_delete_stories", "can_post_messages")
_MEMBER_RIGHTS = ("can_change_info", "can_invite_users", "can_pin_messages", "can_send_polls",
                  "can_send_other_messages", "can_add_web_page_previews", "can_manage_topics", "can_send_audios",
                  "can_send_documents", "can_send_photos", "can_send_videos", "can_send_video_notes",
                  "can_send_voice_notes", "can_edit_tag", "can_react_to_messages")
#: Parameters PTB sends JSON-encoded (objects and lists); the rest are plain strings.
_JSON_FIELDS = {"reply_markup", "reply_parameters", "allowed_updates", "commands", "entities", "caption_entities",
                "link_preview_options", "scope"}


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


@dataclass
class StoredMessage:
    """A message as the fake holds it: its Bot API JSON plus what tests look at."""

    data: dict[str, Any]
    from_bot: bool
    kind: str = "message"  # "message", "video", "video_note", "file"
    files: list[tuple[str, bytes]] = field(default_factory=list)
    deleted: bool = False
    changed: int = 0  # the fake's change counter when this message last changed
    texts: list[str] = field(default_factory=list)  # every text it showed, in order
    posted_at: float = field(default_factory=time.monotonic)  # when the fake received it

    @property
    def chat_id(self) -> int:
        return int(self.data["chat"]["id"])

    @property
    def message_id(self) -> int:
        return int(self.data["message_id"])

    @property
    def text(self) -> str:
        return str(self.data.get("text") or self.data.get("caption") or "")

    @property
    def buttons(self) -> list[str]:
        rows = (self.data.get("reply_markup") or {}).get("inline_keyboard", [])
        return [button["text"] for row in rows for button in row]


class FakeTelegramAPI:
    """Use as ``async with FakeTelegramAPI() as api:``; point PTB at ``api.api_url`` / ``api.file_url``."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.bot = dict(BOT)
        self.chats: dict[int, dict[str, Any]] = {GROUP["id"]: dict(GROUP)}
        self.statuses: dict[tuple[int, int], str] = {}  # (chat, user) → "administrator", "restricted", ...
        self.messages: dict[tuple[int, int], StoredMessage] = {}
        self.files: dict[str, tuple[str, bytes, int]] = {}  # file_id → path, content, declared size
        self.profile_photos: dict[int, list[list[dict[str, Any]]]] = {}  # user → photos, newest first, each in sizes
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.commands: list[dict[str, Any]] = []  # the menu everyone sees (the default scope)
        #: Every menu set, by its scope's type ("default", "all_private_chats", "all_chat_administrators"…).
        self.command_menus: dict[str, list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] | None = None
        self.webhook_responses: list[int] = []
        self._failures: dict[str, list[ApiError | None]] = {}
        self._updates: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._changes = itertools.count(1)
        self.changes = 0
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.base = ""

    # -- server -----------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        async with self._arrived:
            self._closing = True  # answers a long poll still held
            self._arrived.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base}/bot"

    @property
    def file_url(self) -> str:
        return f"{self.base}/file/bot"

    # -- what tests do ------------------------------------------------------------------

    def fail(self, method: str, code: int = 400, description: str = "Bad Request", *, drop: bool = False) -> None:
        """Make the next call of ``method`` fail with Telegram's error, or (``drop``) lose its connection."""
        self._failures.setdefault(method, []).append(None if drop else ApiError(code, description))

    def flood(self, method: str, retry_after: int = 1) -> None:
        """Make the next call of ``method`` hit flood control: 429 with ``retry_after`` seconds to wait."""
        error = ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
        self._failures.setdefault(method, []).append(error)

    def set_status(self, chat_id: int, user_id: int, status: str) -> None:
        """The member's standing in a chat: "creator", "administrator", "member", "restricted", "left"…"""
        self.statuses[(chat_id, user_id)] = status

    def add_file(self, content: bytes, path: str, *, size: int | None = None) -> dict[str, Any]:
        """Store a file members sent; ``size`` may claim more than ``content`` (a file too big to fetch)."""
        number = next(self._file_ids)
        file_id = f"file-{number}"
        self.files[file_id] = (path, content, len(content) if size is None else size)
        return {"file_id": file_id, "file_unique_id": f"unique-{number}", "file_size": self.files[file_id][2]}

    def set_profile_photo(self, user_id: int, content: bytes | None, *, thumbnail: bytes = b"thumbnail") -> None:
        """The member's profile photo becomes ``content`` (None: they have none), served as Telegram
        does in several sizes: a 160 px ``thumbnail`` and the 640 px picture itself."""
        if content is None:
            self.profile_photos.pop(user_id, None)
            return
        photos = self.profile_photos.setdefault(user_id, [])
        sizes = [{**self.add_file(data, f"profile_photos/{user_id}-{len(photos)}-{side}.jpg"),
                  "width": side, "height": side} for data, side in ((thumbnail, 160), (content, 640))]
        photos.insert(0, sizes)

    def member_message(self, chat: dict[str, Any], user: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """A message from a member, stored like the bot's, so replies to it work."""
        data = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat, "from": user, **fields}
        self.messages[(chat["id"], data["message_id"])] = StoredMessage(data, from_bot=False)
        return data

    async def push(self, update: dict[str, Any]) -> int:
        """Deliver an update: to the webhook when one is set, else to the next getUpdates."""
        update = {"update_id": next(self._update_ids), **update}
        if self.webhook is not None:
            headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook.get("secret_token") or ""}
            async with aiohttp.ClientSession() as session, \
                    session.post(self.webhook["url"], json=update, headers=headers) as response:
                self.webhook_responses.append(response.status)
        else:
            async with self._arrived:
                self._updates.append(update)
                self._arrived.notify_all()
        return int(update["update_id"])

    def bot_messages(self, since: int = 0) -> list[StoredMessage]:
        """The bot's messages that are still there and changed after change number ``since``."""
        return sorted((m for m in self.messages.values() if m.from_bot and not m.deleted and m.changed > since),
                      key=lambda m: (m.chat_id, m.message_id))

    def called(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    # -- Bot API ---------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await _params(request)
        self.calls.append((method, params))
        failures = self._failures.get(method)
        try:
            if failures:
                failure = failures.pop(0)
                if failure is None:
                    assert request.transport is not None
                    request.transport.close()  # the connection drops mid-request
                    return web.Response()
                raise failure
            handler = getattr(self, f"_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as error:
            answer: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
            if error.retry_after is not None:
                answer["parameters"] = {"retry_after": error.retry_after}
            return web.json_response(answer, status=error.code)
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        for path, content, _ in self.files.values():
            if request.match_info["token"] == self.token and path == request.match_info["path"]:
                return web.Response(body=content)
        return web.Response(status=404)

    async def _getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot

    async def _getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        async with self._arrived:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            try:
                await asyncio.wait_for(self._arrived.wait_for(lambda: bool(self._updates) or self._closing),
                                       float(params.get("timeout") or 0))
            except TimeoutError:
                pass
            return self._updates[:limit]

    async def _deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    async def _setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = params
        return True

    async def _setMyCommands(self, params: dict[str, Any]) -> bool:
        scope = params.get("scope") or {"type": "default"}
        self.command_menus[scope["type"]] = params["commands"]
        if scope["type"] == "default":
            self.commands = params["commands"]
        return True

    async def _getChat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params["chat_id"])
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                                        "premium_subscription": False, "gifts_from_channels": False}}

    async def _getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, user_id = self._chat(params["chat_id"]), int(params["user_id"])
        user = (self.bot if user_id == self.bot["id"]
                else {"id": user_id, "is_bot": False, "first_name": f"user {user_id}"})
        status = self.statuses.get((chat["id"], user_id), "member")
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "administrator":
            member.update(dict.fromkeys(_ADMIN_RIGHTS, True), is_anonymous=False)
        elif status == "creator":
            member["is_anonymous"] = False
        elif status == "restricted":
            member.update(dict.fromkeys(_MEMBER_RIGHTS, False), is_member=True, can_send_messages=False, until_date=0)
        elif status == "kicked":
            member["until_date"] = 0
        return member

    async def _sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._post(params, "message", text=params["text"])

    async def _editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message(params)
        if "text" not in message.data:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        markup = params.get("reply_markup")
        if message.data["text"] == params["text"] and markup == message.data.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply "
                                "markup are exactly the same as a current content and reply markup of the message")
        message.data["text"] = params["text"]
        message.data["edit_date"] = int(time.time())
        _set_markup(message, markup)
        message.texts.append(params["text"])
        return self._changed(message)

    async def _editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message(params)
        if params.get("reply_markup") == message.data.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply "
                                "markup are exactly the same as a current content and reply markup of the message")
        _set_markup(message, params.get("reply_markup"))
        return self._changed(message)

    async def _deleteMessage(self, params: dict[str, Any]) -> bool:
        message = self._message(params, missing="Bad Request: message to delete not found")
        message.deleted = True
        self._changed(message)
        return True

    async def _sendVideo(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._upload("sendVideo", params)

    async def _sendVideoNote(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._upload("sendVideoNote", params)

    async def _sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._upload("sendDocument", params)

    async def _answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        self.callback_answers.append(params)
        return True

    async def _getUserProfilePhotos(self, params: dict[str, Any]) -> dict[str, Any]:
        photos = self.profile_photos.get(int(params["user_id"]), [])
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        return {"total_count": len(photos), "photos": photos[offset:offset + limit]}

    async def _getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        if params["file_id"] not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, _, size = self.files[params["file_id"]]
        if size > DOWNLOAD_LIMIT:
            raise ApiError(400, "Bad Request: file is too big")
        return {"file_id": params["file_id"], "file_unique_id": f"u-{params['file_id']}", "file_size": size,
                "file_path": path}

    # -- helpers --------------------------------------------------------------------------

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        chat = self.chats.get(int(chat_id)) if str(chat_id).lstrip("-").isdigit() else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if self.statuses.get((chat["id"], self.bot["id"])) in ("left", "kicked"):
            raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        return chat

    def _message(self, params: dict[str, Any],
                 missing: str = "Bad Request: message to edit not found") -> StoredMessage:
        message = self.messages.get((int(params["chat_id"]), int(params["message_id"])))
        if message is None or message.deleted:
            raise ApiError(400, missing)
        return message

    def _post(self, params: dict[str, Any], kind: str, **content: Any) -> dict[str, Any]:
        chat = self._chat(params["chat_id"])
        if self.statuses.get((chat["id"], self.bot["id"])) == "restricted":
            raise ApiError(400, "Bad Request: not enough rights to send text messages to the chat")
        data: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
                                "from": self.bot, **content}
        reply = (params.get("reply_parameters") or {}).get("message_id")
        if reply and (original := self.messages.get((chat["id"], int(reply)))) and not original.deleted:
            data["reply_to_message"] = original.data
        message = StoredMessage(data, from_bot=True, kind=kind, texts=[str(content.get("text") or "")])
        _set_markup(message, params.get("reply_markup"))
        self.messages[(chat["id"], data["message_id"])] = message
        return self._changed(message)

    def _upload(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        field_name, kind = _UPLOAD_METHODS[method]
        upload = params.get(field_name)
        if not isinstance(upload, tuple):
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        name, content = upload
        media = {**self.add_file(content, f"{field_name}s/{name}"), "file_name": name}
        if method == "sendVideo":
            media.update(width=int(params.get("width") or 0), height=int(params.get("height") or 0))
        if method != "sendDocument":
            media["duration"] = int(params.get("duration") or 0)
        if method == "sendVideoNote":
            media["length"] = int(params.get("length") or 0)
            del media["file_name"]
        content_fields: dict[str, Any] = {field_name: media}
        if len(params.get("caption") or "") > CAPTION_LIMIT:
            raise ApiError(400, "Bad Request: message caption is too long")
        if params.get("caption"):
            content_fields["caption"] = params["caption"]
        stored = self._post(params, kind, **content_fields)
        self.messages[(stored["chat"]["id"], stored["message_id"])].files.append((name, content))
        return stored

    def _changed(self, message: StoredMessage) -> dict[str, Any]:
        message.changed = self.changes = next(self._changes)
        return message.data


def _set_markup(message: StoredMessage, markup: Any) -> None:
    if markup:
        message.data["reply_markup"] = markup
    else:
        message.data.pop("reply_markup", None)


async def _params(request: web.Request) -> dict[str, Any]:
    """Bot API parameters: form fields (PTB sends objects JSON-encoded) and uploaded files."""
    if request.content_type == "application/json":
        return dict(await request.json())
    params: dict[str, Any] = {}
    for name, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            params[name] = (value.filename, value.file.read())
        else:
            params[name] = json.loads(str(value)) if name in _JSON_FIELDS else str(value)
    return params
