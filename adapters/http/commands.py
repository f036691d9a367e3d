"""Changes made from the API or the dashboard run as the same chat commands an admin would
type (``!announce``, ``!server``), so they get the same checks, caps and messages.

The command runs as an event of the server it is for, from the signed-in admin, in the
channel the change concerns; its text answers are collected instead of posted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import HTTPException

from core.context import Context
from core.events import Channel, MessageEvent, ParsedCommand, User
from core.replies import Reply, Responder, StatusMessage, TextReply

if TYPE_CHECKING:
    from adapters.http.auth import Principal
    from core.agent import Agent


@dataclass(frozen=True)
class ServerRef:
    """A server as the API names it: ``PLATFORM:SERVER_ID`` (e.g. ``discord:1234``)."""

    platform: str
    server_id: str

    @classmethod
    def parse(cls, text: str) -> ServerRef:
        platform, _, server_id = text.partition(":")
        if not platform or not server_id:
            raise HTTPException(422, f"Name the server as PLATFORM:SERVER_ID, e.g. discord:1234 (got {text!r}).")
        return cls(platform, server_id)

    def __str__(self) -> str:
        return f"{self.platform}:{self.server_id}"


class _Collected(StatusMessage):
    def __init__(self, sink: list[str]) -> None:
        self.sink = sink

    async def update(self, text: str) -> None:
        pass

    async def finish(self, reply: Reply | None = None) -> None:
        if isinstance(reply, TextReply):
            self.sink.append(reply.text)


@dataclass
class _Collector(Responder):
    texts: list[str] = field(default_factory=list)

    async def send(self, reply: Reply) -> None:
        if isinstance(reply, TextReply):
            self.texts.append(reply.text)

    async def status(self, text: str) -> StatusMessage:
        return _Collected(self.texts)


class _ApiContext(Context):
    @asynccontextmanager
    async def working(self, text: str) -> AsyncIterator[StatusMessage]:
        # A render error travels to the API caller as an error, not into a status message.
        yield await self.status(text)


def admin_of(principal: Principal) -> User:
    """The user a principal acts as in a server; it is that server's admin (the operator, or
    the admin a ``!dashboard`` link was made for)."""
    return User(principal.user_id if principal.server else "dashboard", principal.name, is_admin=True)


async def run_command(agent: Agent, principal: Principal, server: ServerRef, channel_id: str,
                      name: str, args: list[str]) -> str:
    """Run ``!name args`` in ``server`` as its admin; returns the answer. A ``CommandError`` or
    ``RenderError`` propagates with its message for the caller."""
    command = agent.commands.get(name)
    if command is None:
        raise HTTPException(409, f"The {name} command is not available: its plugin is not loaded.")
    channel = Channel(channel_id, server.server_id)
    event = MessageEvent(server.platform, admin_of(principal), channel,
                         text=" ".join([agent.commands.prefix + name, *args]))
    responder = _Collector()
    ctx = _ApiContext(agent, event, responder)
    if command.plugin and not agent.plugin_enabled(command.plugin, event):
        raise HTTPException(409, f"The {command.plugin} plugin is switched off in this server; "
                                 "switch it on in the server's settings first.")
    try:
        with agent.limits.admit(event, ParsedCommand(name, args), exempt=ctx.is_admin):
            await command.handler(ctx, ParsedCommand(name, args))
    finally:
        ctx.cleanup()
    return "\n".join(responder.texts)
