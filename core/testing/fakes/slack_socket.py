"""How events reach a bot from the fake Slack: the Socket Mode websocket, or signed HTTP requests."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

JSON = dict[str, Any]


@dataclass(frozen=True)
class Ack:
    """What the bot answered to one envelope, and how long it took."""

    payload: JSON
    seconds: float


class FakeSocketMode:
    """The websocket ``apps.connections.open`` points the bot at: says hello, delivers
    envelopes, collects their acknowledgements, and can drop the connection."""

    def __init__(self) -> None:
        #: Connections opened so far (a reconnect adds one).
        self.connections_opened = 0
        self._sockets: dict[web.WebSocketResponse, asyncio.Transport] = {}
        self._sockets_changed = asyncio.Condition()
        self._acks: dict[str, asyncio.Future[JSON]] = {}

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()

    async def deliver(self, kind: str, payload: JSON, *, timeout: float = 10.0, retry_attempt: int = 0) -> Ack:
        """Send one envelope (``events_api``, ``slash_commands`` or ``interactive``) over the
        newest connection; returns the bot's acknowledgement. ``retry_attempt`` > 0 marks a
        redelivery, as Slack marks one it thinks wasn't acknowledged in time."""
        socket = await self.wait_connected(timeout=timeout)
        envelope_id = str(uuid.uuid4())
        self._acks[envelope_id] = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        await socket.send_json({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                "accepts_response_payload": kind != "events_api", "retry_attempt": retry_attempt,
                                "retry_reason": "timeout" if retry_attempt else ""})
        try:
            payload = await asyncio.wait_for(self._acks[envelope_id], timeout)
        finally:
            del self._acks[envelope_id]
        return Ack(payload, time.perf_counter() - started)

    async def wait_connected(self, *, opened: int = 1, timeout: float = 10.0) -> web.WebSocketResponse:
        """The newest live connection, once at least ``opened`` connections were ever opened."""
        async with self._sockets_changed:
            await asyncio.wait_for(self._sockets_changed.wait_for(
                lambda: self.connections_opened >= opened and any(not s.closed for s in self._sockets)), timeout)
        return [s for s in self._sockets if not s.closed][-1]

    async def drop_connections(self, *, abrupt: bool = False) -> None:
        """Close every Socket Mode connection as a Slack restart would, or (``abrupt``) cut it
        without a word, as a network failure would."""
        for socket, transport in list(self._sockets.items()):
            if abrupt:
                transport.abort()
            else:
                await socket.close(code=aiohttp.WSCloseCode.GOING_AWAY)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        async with self._sockets_changed:
            assert isinstance(request.transport, asyncio.Transport)
            self._sockets[socket] = request.transport
            self.connections_opened += 1
            self._sockets_changed.notify_all()
        await socket.send_json({"type": "hello", "num_connections": len(self._sockets),
                                "connection_info": {"app_id": "A0FAKE"}, "debug_info": {"host": "fake"}})
        try:
            async for frame in socket:
                if frame.type == aiohttp.WSMsgType.TEXT:
                    ack = json.loads(frame.data)
                    future = self._acks.get(ack.get("envelope_id", ""))
                    if future is not None and not future.done():
                        future.set_result(ack.get("payload") or {})
        finally:
            async with self._sockets_changed:
                del self._sockets[socket]
                self._sockets_changed.notify_all()
        return socket


class SignedPoster:
    """Posts Events API and slash-command requests to a bot in HTTP mode, signed as Slack signs them."""

    def __init__(self, url: str, signing_secret: str) -> None:
        self.url, self.verifier = url, SignatureVerifier(signing_secret)

    def headers(self, body: str, *, timestamp: int | None = None, content_type: str) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        return {"X-Slack-Request-Timestamp": stamp, "Content-Type": content_type,
                "X-Slack-Signature": self.verifier.generate_signature(timestamp=stamp, body=body) or ""}

    async def post(self, body: str, *, content_type: str = "application/json", timestamp: int | None = None,
                   signature: str | None = None, retry_num: int = 0) -> tuple[int, str, float]:
        """Returns the status, body and seconds of the bot's answer; ``signature`` overrides a good one;
        ``retry_num`` > 0 marks a redelivery."""
        headers = self.headers(body, timestamp=timestamp, content_type=content_type)
        if signature is not None:
            headers["X-Slack-Signature"] = signature
        if retry_num:
            headers.update({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"})
        started = time.perf_counter()
        async with (aiohttp.ClientSession() as session,
                    session.post(self.url, data=body.encode(), headers=headers) as response):
            return response.status, await response.text(), time.perf_counter() - started
