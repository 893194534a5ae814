"""Tickets and who gets which channel, through the gateway to the stack's notifications
instance: a ticket opens one socket (the upgrade passes HAProxy), once; a socket gets its
principal's channels only, alerts for admins alone; a client that stops answering pings is
closed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import aiohttp
import pytest
import redis.asyncio as aioredis

from notifications import tickets
from streamcore import notify
from streamcore.auth.principal import Principal
from streamcore.auth.roles import Role
from streamcore.settings import Settings
from tests.integration.notifications.sockets import (
    UPGRADE,
    connect,
    headers_of,
    nothing_more,
    receive,
    receive_where,
    ticket,
)  # fmt: skip
from tests.streaming_http import Device

# The server drops the connection of a socket whose pong is late (aiohttp: 1006, abnormal).
ENDS = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)


async def _refused(gateway: aiohttp.ClientSession, query: str) -> None:
    async with gateway.get(f"/v1/ws{query}", headers=UPGRADE) as response:
        assert response.status == 401, await response.text()
        assert (await response.json())["error"]["code"] == "unauthorized"


async def test_a_ticket_opens_one_socket_through_the_gateway(
    stack: Settings, gateway: aiohttp.ClientSession, redis: aioredis.Redis
) -> None:
    device = Device()
    body = await ticket(gateway, headers_of(stack, device))
    assert body["url"].startswith("ws://") and body["url"].endswith(body["ticket"])
    async with gateway.ws_connect(body["url"]) as ws:
        published = await notify.publish(redis, notify.subscription(device.account_id),
                                         "transition", {"state": "Active"})  # fmt: skip
        found = await receive(ws)
        assert found == {
            "id": published, "channel": notify.subscription(device.account_id),
            "kind": "transition", "data": {"state": "Active"},
        }  # fmt: skip
        await _refused(gateway, f"?ticket={body['ticket']}")  # used once


async def test_no_ticket_an_unknown_or_an_expired_one_is_refused(
    stack: Settings, gateway: aiohttp.ClientSession, redis: aioredis.Redis
) -> None:
    await _refused(gateway, "")
    await _refused(gateway, "?ticket=nothing-of-the-kind")
    caller = Principal(role=Role.VIEWER, account_id=uuid.uuid4(), profile_id=uuid.uuid4())
    expired = await tickets.issue(redis, caller, 0.05, datetime.now(UTC))
    await asyncio.sleep(0.3)
    await _refused(gateway, f"?ticket={expired.value}")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await gateway.ws_connect(f"/v1/ws?ticket={expired.value}")
    assert refused.value.status == 401


async def test_a_ticket_needs_a_signed_in_caller(gateway: aiohttp.ClientSession) -> None:
    async with gateway.post("/v1/ws/tickets") as response:
        assert response.status == 401


async def test_alerts_reach_admins_and_never_viewers(
    stack: Settings, gateway: aiohttp.ClientSession, redis: aioredis.Redis
) -> None:
    viewer, admin = Device(), Device(role=Role.ADMIN)
    async with (
        await connect(gateway, headers_of(stack, viewer)) as seen_by_viewer,
        await connect(gateway, headers_of(stack, admin)) as seen_by_admin,
    ):
        marker = str(uuid.uuid4())
        alert = await notify.publish(redis, notify.ALERTS, "alert", {"marker": marker})
        after = await notify.publish(redis, notify.subscription(viewer.account_id), "x", {})
        # The viewer's next message is its own channel's, published after the alert.
        assert (await receive(seen_by_viewer))["id"] == after
        found = await receive_where(seen_by_admin, notify.ALERTS)
        while found["data"].get("marker") != marker:  # another test's alert, perhaps
            found = await receive_where(seen_by_admin, notify.ALERTS)
        assert found["id"] == alert
        await nothing_more(seen_by_viewer, 0.5)


async def test_a_client_that_does_not_answer_pings_is_closed(
    stack: Settings, gateway: aiohttp.ClientSession
) -> None:
    heartbeat_s = stack.notifications.heartbeat_s
    headers = headers_of(stack, Device())
    async with (
        await connect(gateway, headers, autoping=False) as silent,
        await connect(gateway, headers) as answering,
    ):
        # A client answers pings while it reads: this one reads all along.
        reading = asyncio.create_task(answering.receive())
        loop = asyncio.get_running_loop()
        started = loop.time()
        kinds = []
        while not silent.closed and loop.time() - started < heartbeat_s * 4:
            message = await silent.receive(timeout=heartbeat_s * 4)
            kinds.append(message.type)  # pings, never answered, then the end
            if message.type in ENDS:
                break
        assert aiohttp.WSMsgType.PING in kinds
        assert kinds[-1] in ENDS, kinds
        assert loop.time() - started < heartbeat_s * 3
        await asyncio.sleep(heartbeat_s)  # past another ping for the reading one
        assert not reading.done() and not answering.closed
        reading.cancel()
