"""Delivery: across two instances (the stack's, through the gateway, and one built here by the
factory on the same Redis), replay after a reconnect (exactly what was missed, in order, the
newest progress per asset), resync after trimming, and 1001 when an instance shuts down."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis as sync_redis
import redis.asyncio as aioredis
from aiohttp.test_utils import TestServer

from notifications.app import create_app
from streamcore import notify
from streamcore.settings import Settings
from tests.integration.notifications.sockets import (
    connect,
    headers_of,
    nothing_more,
    receive,
)  # fmt: skip
from tests.streaming_http import Device


@pytest.fixture
async def second(stack: Settings) -> AsyncIterator[aiohttp.ClientSession]:
    """A client of another notifications instance, built here by its factory against the
    stack's Redis."""
    async with (
        TestServer(create_app(stack)) as server,
        aiohttp.ClientSession(base_url=str(server.make_url(""))) as session,
    ):
        yield session


async def test_a_message_published_once_reaches_sockets_on_both_instances(
    stack: Settings,
    gateway: aiohttp.ClientSession,
    second: aiohttp.ClientSession,
    redis: aioredis.Redis,
) -> None:
    device = Device()
    headers = headers_of(stack, device)
    channel = notify.progress(device.profile_id)
    async with (
        await connect(gateway, headers) as on_the_stack,
        await connect(second, headers) as here,
    ):
        data = {"asset_id": str(uuid.uuid4()), "position_s": 12.5}
        published = await notify.publish(redis, channel, "progress", data)
        expected = {"id": published, "channel": channel, "kind": "progress", "data": data}
        assert await receive(on_the_stack) == expected
        assert await receive(here) == expected


async def test_a_reconnect_gets_exactly_what_it_missed_in_order(
    stack: Settings, gateway: aiohttp.ClientSession, redis: aioredis.Redis
) -> None:
    device = Device()
    headers = headers_of(stack, device)
    account, progress = notify.subscription(device.account_id), notify.progress(device.profile_id)
    async with await connect(gateway, headers) as ws:
        await notify.publish(redis, account, "transition", {"n": 1})
        last = await notify.publish(redis, account, "transition", {"n": 2})
        assert [(await receive(ws))["data"]["n"] for _ in range(2)] == [1, 2]
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    missed = [
        (account, {"n": 3}), (progress, {"asset_id": a, "position_s": 10}),
        (account, {"n": 4}), (progress, {"asset_id": a, "position_s": 20}),
        (progress, {"asset_id": b, "position_s": 5}),
    ]  # fmt: skip
    ids = [await notify.publish(redis, channel, "k", data) for channel, data in missed]
    assert last is not None
    async with await connect(gateway, headers, last_id=last) as again:
        # The first progress of asset a is superseded by its second: latest wins.
        wanted = [ids[0], ids[2], ids[3], ids[4]]
        assert [(await receive(again))["id"] for _ in wanted] == wanted
        live = await notify.publish(redis, account, "transition", {"n": 5})
        assert (await receive(again))["id"] == live
        await nothing_more(again, 0.5)


async def test_a_last_id_older_than_the_kept_stream_gets_resync_first(
    stack: Settings, gateway: aiohttp.ClientSession, redis: aioredis.Redis
) -> None:
    device = Device()
    channel = notify.jobs(device.account_id)
    first = await notify.publish(redis, channel, "job", {"n": 0}, max_len=10)
    kept = [await notify.publish(redis, channel, "job", {"n": n}, max_len=10) for n in range(12)]
    assert first is not None
    async with await connect(gateway, headers_of(stack, device), last_id=first) as ws:
        assert await receive(ws) == {"type": "resync"}
        # Then what the stream still holds: its last 10.
        assert [(await receive(ws))["id"] for _ in range(10)] == kept[2:]
        await nothing_more(ws, 0.5)
    # Resuming from a message still kept needs no resync.
    async with await connect(gateway, headers_of(stack, device), last_id=kept[9]) as ws:
        assert [(await receive(ws))["id"] for _ in range(2)] == kept[10:]


async def test_a_bad_last_id_is_a_400_before_any_upgrade(
    stack: Settings, gateway: aiohttp.ClientSession
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await connect(gateway, headers_of(stack, Device()), last_id="yesterday")
    assert refused.value.status == 400


async def test_shutting_down_closes_every_socket_with_going_away(stack: Settings) -> None:
    server = TestServer(create_app(stack))
    await server.start_server()
    headers = headers_of(stack, Device())
    async with aiohttp.ClientSession(base_url=str(server.make_url(""))) as session:
        try:
            sockets = [await connect(session, headers) for _ in range(2)]
            # The app's shutdown: what an instance runs once it has drained.
            await server.close()
            for ws in sockets:
                message = await ws.receive(timeout=5)
                assert message.type is aiohttp.WSMsgType.CLOSE, message
                assert message.data == aiohttp.WSCloseCode.GOING_AWAY
        finally:
            await server.close()


async def test_a_celery_task_publishes_with_the_sync_client(
    stack: Settings, gateway: aiohttp.ClientSession
) -> None:
    device = Device()
    channel = notify.jobs(device.account_id)
    async with await connect(gateway, headers_of(stack, device)) as ws:
        with sync_redis.Redis.from_url(stack.redis_dsn) as client:
            published = notify.publish_sync(client, channel, "job", {"state": "ready"})
        assert (await receive(ws))["id"] == published
    # Redis unreachable: a warning and None, never an exception for the task.
    with sync_redis.Redis.from_url("redis://127.0.0.1:1/0", socket_timeout=0.2) as gone:
        assert notify.publish_sync(gone, channel, "job", {}) is None
