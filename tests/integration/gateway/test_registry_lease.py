"""The service registry against the stack's real Redis (a database of its own)."""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import replace

import pytest
import redis.asyncio as aioredis

from streamcore import registry
from streamcore.cache.redis_client import create_redis
from streamcore.registry import Registration
from streamcore.settings import RegistrySettings, Settings

pytestmark = pytest.mark.stack

FAST = RegistrySettings(heartbeat_s=0.2, lease_ttl_s=0.5)


def reg(service: str = "origin", instance: int = 1) -> Registration:
    return Registration(service, instance, "127.0.0.1", 18120 + instance, 18220 + instance)


async def test_register_renew_deregister(registry_redis: aioredis.Redis) -> None:
    mine = reg()
    await registry.register(registry_redis, mine, 30)
    assert await registry.instances(registry_redis) == [mine]
    assert 29_000 < await registry_redis.pttl(mine.key) <= 30_000
    assert await registry.renew(registry_redis, mine, 60)
    assert await registry_redis.pttl(mine.key) > 30_000
    assert await registry.deregister(registry_redis, mine)
    assert await registry.instances(registry_redis) == []


async def test_a_vanished_lease_is_registered_again(registry_redis: aioredis.Redis) -> None:
    mine = reg()
    await registry.register(registry_redis, mine, 30)
    await registry_redis.flushdb()  # as after a Redis restart without persistence
    assert not await registry.renew(registry_redis, mine, 30)
    assert await registry.instances(registry_redis) == [mine]


async def test_deregistering_spares_a_newer_process(registry_redis: aioredis.Redis) -> None:
    old = reg()
    newer = replace(old, pid=old.pid + 1, started_at=old.started_at + 1)
    await registry.register(registry_redis, newer, 30)
    assert not await registry.deregister(registry_redis, old)
    assert await registry.instances(registry_redis) == [newer]


async def test_leases_expire_on_their_own(registry_redis: aioredis.Redis) -> None:
    await registry.register(registry_redis, reg(), 0.3)
    await asyncio.sleep(0.6)
    assert await registry.instances(registry_redis) == []


async def test_instances_scans_every_page(registry_redis: aioredis.Redis) -> None:
    many = [reg("catalog", i) for i in range(1, 251)]
    for one in many:
        await registry.register(registry_redis, one, 30)
    await registry_redis.set(registry.key("catalog", "127.0.0.1", 999), "not json")
    assert await registry.instances(registry_redis) == many


async def test_a_lease_is_held_while_the_body_runs(registry_redis: aioredis.Redis) -> None:
    mine = reg()
    async with registry.lease(registry_redis, mine, FAST):
        assert await registry.instances(registry_redis) == [mine]
        await asyncio.sleep(3 * FAST.lease_ttl_s)  # outlives several TTLs: renewed
        assert await registry.instances(registry_redis) == [mine]
        await registry_redis.flushdb()
        await asyncio.sleep(2 * FAST.heartbeat_s)
        assert await registry.instances(registry_redis) == [mine]  # registered again
    assert await registry.instances(registry_redis) == []


async def test_an_unreachable_registry_never_stops_the_instance(
    stack: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        client = create_redis(stack, dsn=f"redis://127.0.0.1:{closed.getsockname()[1]}/0")
        with caplog.at_level(logging.WARNING, logger="streamcore.registry"):
            async with registry.lease(client, reg(), FAST):
                await asyncio.sleep(5 * FAST.heartbeat_s)
        await client.aclose()
    unreachable = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(unreachable) == 1, "one warning per outage, not one per heartbeat"
    assert any("could not deregister" in r.getMessage() for r in caplog.records)
