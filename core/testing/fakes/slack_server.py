"""A fake Slack on 127.0.0.1: the Web API methods a bot uses, file hosting, and Socket Mode.

``FakeSlack`` answers slack_sdk's real HTTP calls (``base_url`` = ``fake.api_url``) and
holds the workspace as members see it: users, channels, messages (with their edits,
files and reactions). Events reach the bot through ``fake.socket_mode`` (the fake
Socket Mode server), or, in HTTP mode, as signed requests (``slack_socket.SignedPoster``).
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from core.testing.fakes.slack_socket import JSON, FakeSocketMode


@dataclass
class FakeFile:
    id: str
    name: str
    mimetype: str
    content: bytes
    title: str = ""
    user: str = ""  # who shared it
    channels: list[str] = field(default_factory=list)  # where
    created: int = field(default_factory=lambda: int(time.time()))


@dataclass
class FakeMessage:
    channel: str
    ts: str
    user: str
    text: str = ""
    thread_ts: str | None = None
    files: list[FakeFile] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)  # emoji name → users, in order
    edits: list[str] = field(default_factory=list)  # earlier texts
    deleted: bool = False
    changed: int = 0  # the fake's change counter when this message last changed
    posted_at: float = field(default_factory=time.perf_counter)


class FakeSlack:
    """One workspace with one bot in it. Start with ``await fake.start()``; ``close()`` at the end."""

    def __init__(self, *, team_id: str = "T0TEST", team_name: str = "Test Workspace") -> None:
        self.team_id, self.team_name = team_id, team_name
        self.bot_token, self.app_token = "xoxb-fake-bot-token", "xapp-fake-app-token"
        self.signing_secret = "fake-signing-secret"
        self.bot_user_id, self.bot_id = "UBOT", "BBOT"
        self.users: dict[str, JSON] = {}
        self.channels: dict[str, JSON] = {}
        self.messages: list[FakeMessage] = []
        self.files: dict[str, FakeFile] = {}
        #: Every Web API call: (method, arguments).
        self.calls: list[tuple[str, JSON]] = []
        #: What the bot sent to slash commands' ``response_url``, in order.
        self.responses: list[JSON] = []
        #: The Authorization header of every file download.
        self.downloads: list[str | None] = []
        #: Members' profile pictures (served on the fake's avatar path), and who fetched one with which header.
        self.pictures: dict[str, bytes] = {}
        self.picture_downloads: list[str | None] = []
        #: Where profile pictures are served from: this fake, unless a test moves them elsewhere.
        self.avatar_base = ""
        #: False: the bot token lacks the files:read scope.
        self.files_read_scope = True
        self.socket_mode = FakeSocketMode()
        self._failures: dict[str, list[str]] = {}
        self._ids = itertools.count(1)
        self._change = 0
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.add_user(self.bot_user_id, "mouthpiece", is_bot=True)

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=256 * 2**20)
        app.add_routes([web.post("/api/{method}", self._api), web.get("/api/{method}", self._api),
                        web.post("/upload/{file_id}", self._upload),
                        web.get("/files-pri/{file_id}/{name}", self._download),
                        web.get("/avatars/{user_id}/{name}", self._avatar),
                        web.post("/respond", self._respond), web.get("/socket-mode", self.socket_mode.handle)])
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        await self.socket_mode.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # -- the workspace --------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, *, is_admin: bool = False, is_owner: bool = False,
                 is_bot: bool = False) -> None:
        self.users[user_id] = {"id": user_id, "team_id": self.team_id, "name": name.lower().replace(" ", "."),
                               "is_admin": is_admin, "is_owner": is_owner, "is_bot": is_bot,
                               "profile": {"display_name": name, "real_name": name}}

    def set_picture(self, user_id: str, content: bytes | None) -> None:
        """The member's uploaded profile picture, or (None) the one Slack generates from their initials."""
        if content is None:
            self.pictures.pop(user_id, None)
        else:
            self.pictures[user_id] = content

    def add_channel(self, channel_id: str, name: str, *, is_member: bool = True, team_id: str | None = None) -> None:
        """A channel of this workspace, or of ``team_id`` (another workspace of an Enterprise Grid org)."""
        is_im = channel_id.startswith("D")
        self.channels[channel_id] = {"id": channel_id, "name": name, "is_channel": not is_im, "is_im": is_im,
                                     "is_member": is_member, "is_archived": False,
                                     "context_team_id": team_id or self.team_id}

    def add_file(self, content: bytes | Path, name: str = "", mimetype: str = "application/octet-stream") -> JSON:
        """Store a member's file; returns the file object a message event carries."""
        if isinstance(content, Path):
            name, content = name or content.name, content.read_bytes()
        file = FakeFile(f"F{next(self._ids):06d}", name, mimetype, content, title=name)
        self.files[file.id] = file
        return self.file_object(file)

    def file_object(self, file: FakeFile) -> JSON:
        url = f"{self.base_url}/files-pri/{file.id}/{file.name}"
        return {"id": file.id, "name": file.name, "title": file.title, "mimetype": file.mimetype,
                "filetype": Path(file.name).suffix.lstrip("."), "size": len(file.content), "mode": "hosted",
                "user": file.user, "channels": file.channels, "created": file.created,
                "url_private": url, "url_private_download": url + "?download=1"}

    def post_as(self, user_id: str, channel: str, text: str, *, files: list[JSON] = (),  # type: ignore[assignment]
                thread_ts: str | None = None) -> FakeMessage:
        """A member's message, as stored; the event for it is ``message_event``."""
        message = self._new_message(channel, user_id, text, thread_ts)
        message.files = [self.files[f["id"]] for f in files]
        for file in message.files:
            file.user = user_id
            file.channels.append(channel)
        return message

    def bot_messages(self, since: int = 0) -> list[FakeMessage]:
        """The bot's messages changed after change number ``since``, still standing."""
        return [m for m in self.messages if m.user == self.bot_user_id and m.changed > since and not m.deleted]

    @property
    def change(self) -> int:
        """A counter bumped by every post, edit, deletion and reaction."""
        return self._change

    def message(self, channel: str, ts: str) -> FakeMessage:
        return next(m for m in self.messages if m.channel == channel and m.ts == ts)

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with ``error`` (``"upload"``: the upload URL fails)."""
        self._failures.setdefault(method, []).extend([error] * times)

    def called(self, method: str) -> list[JSON]:
        return [args for name, args in self.calls if name == method]

    # -- events -----------------------------------------------------------------------------

    def message_event(self, message: FakeMessage, *, channel_type: str = "channel",
                      event_type: str = "message") -> JSON:
        event: JSON = {"type": event_type, "user": message.user, "text": message.text, "ts": message.ts,
                       "channel": message.channel, "channel_type": channel_type, "team": self.team_id,
                       "event_ts": message.ts}
        if message.files:
            event["subtype"] = "file_share"
            event["files"] = [self.file_object(f) for f in message.files]
        if message.thread_ts:
            event["thread_ts"] = message.thread_ts
            event["parent_user_id"] = self.message(message.channel, message.thread_ts).user
        return event

    def event_callback(self, event: JSON) -> JSON:
        """The Events API body around one event."""
        return {"token": "unused", "team_id": self.team_id, "api_app_id": "A0FAKE", "event": event,
                "type": "event_callback", "event_id": f"Ev{next(self._ids):08d}", "event_time": int(time.time()),
                "authorizations": [{"team_id": self.team_id, "user_id": self.bot_user_id, "is_bot": True}]}

    def command_payload(self, command: str, text: str, *, user_id: str, channel: str) -> JSON:
        return {"token": "unused", "team_id": self.team_id, "team_domain": "test", "channel_id": channel,
                "channel_name": self.channels.get(channel, {}).get("name", "directmessage"), "user_id": user_id,
                "user_name": self.users.get(user_id, {}).get("name", user_id), "command": command, "text": text,
                "api_app_id": "A0FAKE", "response_url": f"{self.base_url}/respond",
                "trigger_id": f"{next(self._ids)}.trigger"}

    def react(self, user_id: str, channel: str, ts: str, name: str, *, added: bool = True) -> JSON:
        """A member adds or removes a reaction; returns the event for it."""
        users = self.message(channel, ts).reactions.setdefault(name, [])
        if added and user_id not in users:
            users.append(user_id)
        elif not added and user_id in users:
            users.remove(user_id)
        return {"type": "reaction_added" if added else "reaction_removed", "user": user_id, "reaction": name,
                "item": {"type": "message", "channel": channel, "ts": ts}, "item_user": self.message(channel, ts).user,
                "event_ts": self._next_ts()}

    # -- Web API ---------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: JSON = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.can_read_body:
            args.update(await request.post())
        self.calls.append((method, args))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        wanted = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != wanted:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if failures := self._failures.get(method):
            error = failures.pop(0)
            if error == "ratelimited":  # how Slack says "too fast": HTTP 429 and when to try again
                return web.json_response({"ok": False, "error": error}, status=429, headers={"Retry-After": "1"})
            return web.json_response({"ok": False, "error": error})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        try:
            return web.json_response({"ok": True, **handler(args)})
        except LookupError as error:
            return web.json_response({"ok": False, "error": error.args[0]})

    def _auth_test(self, args: JSON) -> JSON:
        return {"url": "https://test.slack.com/", "team": self.team_name, "user": "mouthpiece",
                "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id}

    def _apps_connections_open(self, args: JSON) -> JSON:
        return {"url": f"ws://127.0.0.1:{self.port}/socket-mode?ticket={uuid.uuid4()}"}

    def _users_info(self, args: JSON) -> JSON:
        if args.get("user") not in self.users:
            raise LookupError("user_not_found")
        user = self.users[args["user"]]
        return {"user": {**user, "profile": {**user["profile"], **self._picture_fields(user["id"])}}}

    def _picture_fields(self, user_id: str) -> JSON:
        """A profile's image fields: every member has image_* URLs, ``is_custom_image`` says whether
        the member uploaded the picture (Slack's stand-in is a generated one)."""
        base = f"{self.avatar_base or self.base_url}/avatars/{user_id}"
        if user_id not in self.pictures:
            return {"is_custom_image": False, "image_192": f"{base}/default_192.png",
                    "image_512": f"{base}/default_512.png"}
        return {"is_custom_image": True, "image_original": f"{base}/original.png",
                **{f"image_{side}": f"{base}/{side}.png" for side in (192, 512, 1024)}}

    def _conversations_info(self, args: JSON) -> JSON:
        if args.get("channel") not in self.channels:
            raise LookupError("channel_not_found")
        return {"channel": self.channels[args["channel"]]}

    def _conversations_open(self, args: JSON) -> JSON:
        """The bot's direct-message conversation with one member (made on first use)."""
        user = str(args.get("users", ""))
        if user not in self.users:
            raise LookupError("user_not_found")
        channel = f"D{user}"
        if channel not in self.channels:
            self.add_channel(channel, user)
        return {"channel": {"id": channel}}

    def _chat_postMessage(self, args: JSON) -> JSON:
        message = self._new_message(self._postable(args.get("channel")), self.bot_user_id, args.get("text", ""),
                                    args.get("thread_ts"))
        return {"channel": message.channel, "ts": message.ts, "message": {"text": message.text, "ts": message.ts}}

    def _chat_update(self, args: JSON) -> JSON:
        message = self._own_message(args)
        message.edits.append(message.text)
        message.text = args.get("text", "")
        self._touch(message)
        return {"channel": message.channel, "ts": message.ts, "text": message.text}

    def _chat_delete(self, args: JSON) -> JSON:
        message = self._own_message(args)
        message.deleted = True
        self._touch(message)
        return {"channel": message.channel, "ts": message.ts}

    def _reactions_add(self, args: JSON) -> JSON:
        message = self._find(args.get("channel"), args.get("timestamp"))
        users = message.reactions.setdefault(args.get("name", ""), [])
        if self.bot_user_id in users:
            raise LookupError("already_reacted")
        users.append(self.bot_user_id)
        self._touch(message)
        return {}

    def _files_list(self, args: JSON) -> JSON:
        found = [f for f in self.files.values() if f.content and f.created >= int(args.get("ts_from", 0))
                 and f.user == args.get("user", f.user) and args.get("channel", "") in (*f.channels, "")]
        found.sort(key=lambda f: f.created, reverse=True)
        return {"files": [self.file_object(f) for f in found[:int(args.get("count", 100))]]}

    def _files_getUploadURLExternal(self, args: JSON) -> JSON:
        if not args.get("filename") or not int(args.get("length", 0)):
            raise LookupError("invalid_arguments")
        file = FakeFile(f"F{next(self._ids):06d}", args["filename"], "", b"")
        self.files[file.id] = file
        return {"upload_url": f"{self.base_url}/upload/{file.id}", "file_id": file.id}

    def _files_completeUploadExternal(self, args: JSON) -> JSON:
        shared = [(self.files[f["id"]], f.get("title") or self.files[f["id"]].name) for f in json.loads(args["files"])]
        if any(not file.content for file, _ in shared):
            raise LookupError("file_not_found")  # never uploaded
        for file, title in shared:
            file.title = title
        message = self._new_message(self._postable(args.get("channel_id")), self.bot_user_id,
                                    args.get("initial_comment", ""), args.get("thread_ts"))
        message.files = [file for file, _ in shared]
        return {"files": [{"id": file.id, "name": file.name, "title": file.title} for file, _ in shared]}

    async def _upload(self, request: web.Request) -> web.Response:
        if failures := self._failures.get("upload"):
            failures.pop(0)
            return web.Response(status=500, text="upload failed")
        file = self.files.get(request.match_info["file_id"])
        if file is None:
            return web.Response(status=404, text="no such upload")
        file.content = await request.read()
        file.mimetype = _mimetype(file.name)
        return web.Response(text=f"OK - {len(file.content)}")

    async def _respond(self, request: web.Request) -> web.Response:
        """A slash command's ``response_url``: needs no token, and works where the bot is no member."""
        self.responses.append(await request.json())
        return web.Response(text="ok")

    async def _download(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization")
        self.downloads.append(authorization)
        if authorization != f"Bearer {self.bot_token}" or not self.files_read_scope:
            # Real Slack answers a missing or weak token with its sign-in page.
            return web.Response(text="<html>Sign in to Slack</html>", content_type="text/html")
        file = self.files.get(request.match_info["file_id"])
        if file is None:
            return web.Response(status=404)
        return web.Response(body=file.content, content_type=file.mimetype)

    async def _avatar(self, request: web.Request) -> web.Response:
        self.picture_downloads.append(request.headers.get("Authorization"))
        content = self.pictures.get(request.match_info["user_id"])
        if content is None:
            return web.Response(status=404)
        return web.Response(body=content, content_type="image/png")

    # -- bookkeeping ---------------------------------------------------------------------------------

    def _postable(self, channel: str | None) -> str:
        info = self.channels.get(channel or "")
        if info is None:
            raise LookupError("channel_not_found")
        if not (info["is_member"] or info["is_im"]):
            raise LookupError("not_in_channel")
        return str(channel)

    def _find(self, channel: str | None, ts: str | None) -> FakeMessage:
        for message in self.messages:
            if message.channel == channel and message.ts == ts and not message.deleted:
                return message
        raise LookupError("message_not_found")

    def _own_message(self, args: JSON) -> FakeMessage:
        message = self._find(args.get("channel"), args.get("ts"))
        if message.user != self.bot_user_id:
            raise LookupError("cant_update_message")
        return message

    def _new_message(self, channel: str, user: str, text: str, thread_ts: str | None) -> FakeMessage:
        message = FakeMessage(channel, self._next_ts(), user, text, thread_ts)
        self.messages.append(message)
        self._touch(message)
        return message

    def _touch(self, message: FakeMessage) -> None:
        self._change += 1
        message.changed = self._change

    def _next_ts(self) -> str:
        return f"{1700000000 + next(self._ids)}.000100"


def _mimetype(name: str) -> str:
    return {".mp4": "video/mp4", ".wav": "audio/wav", ".png": "image/png"}.get(Path(name).suffix.lower(),
                                                                            "application/octet-stream")
