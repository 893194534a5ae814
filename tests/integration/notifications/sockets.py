"""Helpers of the notifications tests: tickets, sockets and their messages, through the
gateway (the stack's notifications instances) or a service built here by its factory."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from streamcore.settings import Settings
from tests.streaming_http import Device

# A handshake's headers, sent by hand to read the refusal's JSON body (ws_connect raises).
UPGRADE = {
    "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}  # fmt: skip


def headers_of(stack: Settings, device: Device) -> dict[str, str]:
    return {"Authorization": device.headers(stack)["Authorization"]}


async def ticket(http: aiohttp.ClientSession, headers: dict[str, str]) -> dict[str, Any]:
    async with http.post("/v1/ws/tickets", headers=headers) as response:
        assert response.status == 201, await response.text()
        body: dict[str, Any] = await response.json()
    return body


async def connect(
    http: aiohttp.ClientSession, headers: dict[str, str], last_id: str | None = None, **kw: Any
) -> aiohttp.ClientWebSocketResponse:
    """A socket opened with a fresh ticket (and `last_id`, to resume)."""
    url = (await ticket(http, headers))["url"]
    if last_id is not None:
        url += f"&last_id={last_id}"
    return await http.ws_connect(url, **kw)


async def receive(ws: aiohttp.ClientWebSocketResponse, timeout_s: float = 5.0) -> dict[str, Any]:
    # One deadline for the message: receive(timeout=) restarts at every ping it answers.
    async with asyncio.timeout(timeout_s):
        message = await ws.receive()
    assert message.type is aiohttp.WSMsgType.TEXT, message
    found: dict[str, Any] = json.loads(message.data)
    return found


async def receive_where(
    ws: aiohttp.ClientWebSocketResponse, channel: str, timeout_s: float = 5.0
) -> dict[str, Any]:
    """The next message on `channel` (a shared channel may carry others' messages first)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        found = await receive(ws, max(0.1, deadline - loop.time()))
        if found.get("channel") == channel:
            return found


async def nothing_more(ws: aiohttp.ClientWebSocketResponse, wait_s: float = 1.0) -> None:
    """No message comes within `wait_s`."""
    try:
        async with asyncio.timeout(wait_s):
            message = await ws.receive()
    except TimeoutError:
        return
    raise AssertionError(f"unexpected message: {message}")
