"""Slash commands through discord.py, against a fake of Discord's interaction endpoints on 127.0.0.1.

dpytest has no application commands, so ``discord_interactions`` adds them: an
interaction goes in through the gateway parser (``parse_interaction_create``), the
command tree dispatches it to the adapter, and every answer (the acknowledgement,
edits of it, follow-ups, uploads) travels over real HTTP from discord.py's webhook
code to ``FakeInteractionServer``, which keeps each message as members would see it::

    async def test_slash_say(discord_interactions):
        answer = await discord_interactions.invoke("say", {"text": "Hi"}, user=MEMBER)
        assert answer.original.files[0][0].endswith(".mp4")
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import aiohttp
import discord
import pytest
from aiohttp import BodyPartReader, web
from aiohttp.test_utils import TestServer
from discord.ext.test import backend

from core.events import User
from core.testing.fakes.discord import DiscordDriver

APPLICATION_ID = 4242
_ids = itertools.count(9_000_000_000_000_000)


@dataclass
class FakeMessage:
    id: int
    content: str = ""
    files: list[tuple[str, bytes]] = field(default_factory=list)
    edits: int = 0


@dataclass
class Interaction:
    """What one slash command left: the callbacks acknowledging it, its answer and follow-ups."""

    token: str
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    original: FakeMessage | None = None
    followups: list[FakeMessage] = field(default_factory=list)


class FakeInteractionServer:
    """Discord's interaction callback and webhook endpoints, keeping state per interaction token."""

    def __init__(self) -> None:
        self.interactions: dict[str, Interaction] = {}
        #: Tokens past their 15 minutes: Discord answers 401 "Invalid Webhook Token" to them.
        self.expired: set[str] = set()
        #: Set: every new token is refused after the acknowledgement, as if the answer came 15 minutes late.
        self.expire_new_tokens = False
        self.app = web.Application()
        base = "/api/v10"
        self.app.router.add_post(base + "/interactions/{id}/{token}/callback", self.callback)
        self.app.router.add_patch(base + "/webhooks/{app}/{token}/messages/{message}", self.edit)
        self.app.router.add_delete(base + "/webhooks/{app}/{token}/messages/{message}", self.delete)
        self.app.router.add_post(base + "/webhooks/{app}/{token}", self.followup)

    async def callback(self, request: web.Request) -> web.Response:
        interaction = self.interactions[request.match_info["token"]]
        interaction.callbacks.append(await request.json())
        return _json({"interaction": {"id": request.match_info["id"], "type": 2,
                                                  "response_message_loading": True}})

    async def edit(self, request: web.Request) -> web.Response:
        if request.match_info["token"] in self.expired:
            return _invalid_token()
        interaction = self.interactions[request.match_info["token"]]
        target = request.match_info["message"]
        if target == "@original":
            interaction.original = message = interaction.original or FakeMessage(next(_ids))
        else:
            message = next(m for m in interaction.followups if str(m.id) == target)
        payload, files = await _read_body(request)
        message.edits += 1
        if "content" in payload:
            message.content = payload["content"] or ""
        if "attachments" in payload:
            message.files = files
        return _json(_message_json(message))

    async def delete(self, request: web.Request) -> web.Response:
        if request.match_info["token"] in self.expired:
            return _invalid_token()
        interaction = self.interactions[request.match_info["token"]]
        target = request.match_info["message"]
        if target == "@original":
            interaction.original = None
        else:
            interaction.followups = [m for m in interaction.followups if str(m.id) != target]
        return web.Response(status=204)

    async def followup(self, request: web.Request) -> web.Response:
        if request.match_info["token"] in self.expired:
            return _invalid_token()
        payload, files = await _read_body(request)
        message = FakeMessage(next(_ids), payload.get("content") or "", files)
        self.interactions[request.match_info["token"]].followups.append(message)
        return _json(_message_json(message))


def _option_type(value: str | int | float | bool) -> int:
    """Discord's option type of a value: boolean 5, integer 4, number 10, string 3."""
    return 5 if isinstance(value, bool) else 4 if isinstance(value, int) else 10 if isinstance(value, float) else 3


def _invalid_token() -> web.Response:
    return web.Response(status=401, body=json.dumps({"message": "Invalid Webhook Token", "code": 50027}).encode(),
                        headers={"Content-Type": "application/json"})


def _json(data: Any) -> web.Response:
    # discord.py parses a body as JSON only when the content type is exactly this.
    return web.Response(body=json.dumps(data).encode(), headers={"Content-Type": "application/json"})


async def _read_body(request: web.Request) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    if not request.content_type.startswith("multipart/"):
        return await request.json(), []
    payload: dict[str, Any] = {}
    files = []
    async for part in await request.multipart():
        if not isinstance(part, BodyPartReader):  # Discord's uploads are flat, never nested multiparts
            continue
        if part.name == "payload_json":
            payload = json.loads(await part.text())
        else:
            files.append((part.filename or "", bytes(await part.read())))
    return payload, files


def _message_json(message: FakeMessage) -> dict[str, Any]:
    return {"id": str(message.id), "channel_id": "0", "content": message.content, "type": 0, "flags": 0,
            "author": {"id": str(APPLICATION_ID), "username": "FakeApp", "discriminator": "0001", "avatar": None},
            "attachments": [], "embeds": [], "mentions": [], "mention_roles": [], "pinned": False,
            "mention_everyone": False, "tts": False, "timestamp": "2026-01-01T00:00:00+00:00",
            "edited_timestamp": None}


class SlashDriver:
    """Invokes the adapter's slash commands as a member would, through discord.py's command tree."""

    def __init__(self, driver: DiscordDriver, server: FakeInteractionServer) -> None:
        self.driver, self.server = driver, server

    async def invoke(self, name: str, options: dict[str, str | int | float | bool], *, user: User,
                     attachments: dict[str, Path] | None = None) -> Interaction:
        """``/name`` with ``options`` (sent as Discord types them: text, integer, number, boolean) and
        file ``attachments``; returns the interaction once handled."""
        resolved: dict[str, Any] = {}
        opts = [{"name": k, "type": _option_type(v), "value": v} for k, v in options.items()]
        for option_name, path in (attachments or {}).items():
            attachment = backend.make_attachment(path.resolve())
            resolved[str(attachment.id)] = attachment.to_dict()
            opts.append({"name": option_name, "type": 11, "value": str(attachment.id)})
        data = {"id": str(next(_ids)), "name": name, "type": 1, "options": opts}
        if resolved:
            data["resolved"] = {"attachments": resolved}
        return await self._interact(2, data, user)

    async def autocomplete(self, name: str, option: str, current: str, *, user: User) -> list[dict[str, Any]]:
        """The suggestions the adapter offers while ``option`` of ``/name`` reads ``current``."""
        data = {"id": str(next(_ids)), "name": name, "type": 1,
                "options": [{"name": option, "type": 3, "value": current, "focused": True}]}
        interaction = await self._interact(4, data, user)
        return interaction.callbacks[-1]["data"]["choices"]

    async def _interact(self, kind: int, data: dict[str, Any], user: User) -> Interaction:
        member = self.driver.member(user)
        token = f"token-{next(_ids)}"
        self.server.interactions[token] = interaction = Interaction(token)
        if self.server.expire_new_tokens:
            self.server.expired.add(token)
        member_json = backend.facts.dict_from_member(member)
        member_json["permissions"] = str(member.guild_permissions.value)
        backend.get_state().parse_interaction_create(cast(Any, {  # a slash command's payload, as the gateway sends it
            # An interaction's id is a snowflake of when it was made: its token lasts 15 minutes from then.
            "id": str(discord.utils.time_snowflake(discord.utils.utcnow()) + next(_ids) % 4096),
            "application_id": str(APPLICATION_ID), "type": kind, "data": data,
            "guild_id": str(self.driver.guild.id), "channel_id": str(self.driver.channel.id),
            "channel": backend.facts.dict_from_channel(self.driver.channel),
            "member": member_json, "token": token, "version": 1, "locale": "en-US",
            "attachment_size_limit": self.driver.guild.filesize_limit, "app_permissions": "0",
        }))
        # The command tree answers in a task of its own (not one of dpytest's events): wait for it.
        await asyncio.gather(*(t for t in asyncio.all_tasks() if t.get_name() == "CommandTree-invoker"))
        return interaction


@pytest.fixture
async def discord_interactions(discord_driver: DiscordDriver,
                               monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SlashDriver]:
    server = FakeInteractionServer()
    client = discord_driver.client
    backend.get_state().application_id = APPLICATION_ID
    async with TestServer(server.app, host="127.0.0.1") as test_server, aiohttp.ClientSession() as session:
        monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{test_server.port}/api/v10")
        monkeypatch.setattr(client.http, "_HTTPClient__session", session)
        yield SlashDriver(discord_driver, server)
