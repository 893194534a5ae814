"""Instances joining and leaving a real HAProxy, timed with the shipped check settings.

The times printed here are the ones docs/gateway.md reports ("Measured").
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis

from gateway.registrar import Registrar
from gateway.runtime import AdminState, OpState, RuntimeApi
from streamcore import registry
from streamcore.cache.redis_client import create_redis
from streamcore.settings import Settings
from tests.integration.gateway.conftest import (
    TEST_LEASE_S,
    admission_bound,
    join,
    slot_of,
    wait_until,
)
from tests.integration.gateway.instance_servers import InstanceServer

pytestmark = pytest.mark.stack

Start = Callable[..., Awaitable[InstanceServer]]
# Out within this long, whatever the failure (the bound).
OUT_WITHIN_S = 30


@pytest.fixture
async def http(gateway_settings: Settings) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=gateway_settings.gateway.entry_url) as session:
        yield session


async def state(api: RuntimeApi, server: InstanceServer) -> OpState | None:
    slot = await slot_of(api, server.service, server.port)
    return None if slot is None else slot.operational


async def test_a_registered_instance_joins_once_its_checks_pass(
    http: aiohttp.ClientSession,
    api: RuntimeApi,
    registry_redis: aioredis.Redis,
    registrar: Registrar,
    instances: Start,
    gateway_settings: Settings,
) -> None:
    server = await instances("streaming", 1)
    await registry.register(registry_redis, server.registration, TEST_LEASE_S)
    statuses = []

    async def served() -> bool:
        async with http.get("/v1/sessions") as response:
            statuses.append(response.status)
            return response.status == 200

    took = await wait_until(served, admission_bound(gateway_settings), "served", poll_s=0.05)
    print(f"\nregistered -> first request served: {took:.1f} s")
    slot = await slot_of(api, "streaming", server.port)
    assert slot is not None and slot.check_status == "L7OK"
    # Until then the backend had no live server: JSON 503s, never a request to it unchecked.
    assert set(statuses[:-1]) <= {503}
    assert len(server.seen) == 1


async def test_a_killed_instance_is_out_then_released_once_deregistered(
    http: aiohttp.ClientSession,
    api: RuntimeApi,
    registry_redis: aioredis.Redis,
    registrar: Registrar,
    instances: Start,
    gateway_settings: Settings,
) -> None:
    killed, alive = await instances("streaming", 1), await instances("streaming", 2)
    await join(api, registry_redis, gateway_settings, killed, alive)
    await killed.stop()  # connections refused from now on; its lease still runs

    async def out() -> bool:
        return await state(api, killed) is OpState.DOWN

    took = await wait_until(out, OUT_WITHIN_S, "killed instance out")
    print(f"\nrefused (no traffic): out after {took:.1f} s")
    # Still registered: its slot stays (it may come back on the same port).
    await asyncio.sleep(2 * gateway_settings.registry.sync_interval_s)
    assert await slot_of(api, "streaming", killed.port) is not None
    assert await registry.deregister(registry_redis, killed.registration)

    async def released() -> bool:
        return await slot_of(api, "streaming", killed.port) is None

    took = await wait_until(released, 5 * gateway_settings.registry.sync_interval_s, "released")
    print(f"deregistered and down: released after {took:.1f} s")
    assert await state(api, alive) is OpState.UP


async def test_a_killed_instance_under_traffic_costs_no_request(
    http: aiohttp.ClientSession,
    api: RuntimeApi,
    registry_redis: aioredis.Redis,
    registrar: Registrar,
    instances: Start,
    gateway_settings: Settings,
) -> None:
    killed, alive = await instances("streaming", 1), await instances("streaming", 2)
    await join(api, registry_redis, gateway_settings, killed, alive)
    failures: list[int] = []
    served = 0

    async def traffic() -> None:
        nonlocal served
        while True:
            async with http.get("/v1/progress") as response:
                if response.status != 200:
                    failures.append(response.status)
                served += 1
            await asyncio.sleep(0.02)

    loop = asyncio.create_task(traffic())
    try:
        await asyncio.sleep(0.5)
        await killed.stop()

        async def out() -> bool:
            return await state(api, killed) is OpState.DOWN

        took = await wait_until(out, OUT_WITHIN_S, "killed instance out")
        print(f"\nrefused (under traffic): out after {took:.1f} s, {served} requests served")
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    # Refused connections are retried on the other instance (retry-on conn-failure).
    assert failures == []


async def test_a_hung_instance_is_out_within_30_s(
    api: RuntimeApi,
    registry_redis: aioredis.Redis,
    registrar: Registrar,
    instances: Start,
    gateway_settings: Settings,
) -> None:
    hung = await instances("origin", 1)
    await join(api, registry_redis, gateway_settings, hung)
    hung.hung.set()  # accepts, never answers: each check waits `timeout check`

    async def out() -> bool:
        return await state(api, hung) is OpState.DOWN

    took = await wait_until(out, OUT_WITHIN_S, "hung instance out")
    print(f"\nhung: out after {took:.1f} s")


async def test_scaling_down_drains_then_releases(
    http: aiohttp.ClientSession,
    api: RuntimeApi,
    registry_redis: aioredis.Redis,
    registrar: Registrar,
    instances: Start,
    gateway_settings: Settings,
) -> None:
    leaving, staying = await instances("catalog", 1), await instances("catalog", 2)
    await join(api, registry_redis, gateway_settings, leaving, staying)
    slot = await slot_of(api, "catalog", leaving.port)
    assert slot is not None
    await api.drain("catalog", slot.slot)
    # Still registered while it drains: the registrar leaves a drained slot alone.
    await asyncio.sleep(2 * gateway_settings.registry.sync_interval_s)
    drained = await api.server("catalog", slot.slot)
    assert drained.admin is AdminState.DRAIN
    for _ in range(6):
        async with http.get("/v1/titles") as response:
            assert (await response.json())["instance"] == 2
    assert await api.wait_drained("catalog", slot.slot, timeout_s=5)
    assert await registry.deregister(registry_redis, leaving.registration)
    await leaving.stop()

    async def released() -> bool:
        return (await api.server("catalog", slot.slot)).free

    took = await wait_until(released, 5 * gateway_settings.registry.sync_interval_s, "released")
    print(f"\ndrained, deregistered and stopped: released after {took:.1f} s")


async def test_an_unreachable_registry_or_haproxy_changes_nothing(
    api: RuntimeApi,
    registry_redis: aioredis.Redis,
    registrar: Registrar,
    instances: Start,
    gateway_settings: Settings,
    stack: Settings,
) -> None:
    server = await instances("origin", 1)
    await join(api, registry_redis, gateway_settings, server)
    before = await api.servers()
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        port = closed.getsockname()[1]
        dead_redis = create_redis(stack, dsn=f"redis://127.0.0.1:{port}/0")
        try:
            lost = Registrar(dead_redis, api, backends=["origin"], interval_s=1)
            assert await lost.tick() is None
            assert await lost.tick() is None
        finally:
            await dead_redis.aclose()
    assert [s.endpoint for s in await api.servers()] == [s.endpoint for s in before]
    assert isinstance(api.address, Path)
    nowhere = RuntimeApi(api.address.with_name("gone.sock"))
    assert await Registrar(registry_redis, nowhere, ["origin"], 1).tick() is None
