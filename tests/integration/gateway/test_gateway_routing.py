"""Requests through a real HAProxy: routing by prefix, JSON errors, request ids, forwarding,
round robin, the agent's weight, the metrics port."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from gateway.registrar import Registrar
from gateway.runtime import RuntimeApi
from streamcore.settings import Settings
from tests.integration.gateway.conftest import join, slot_of, wait_until
from tests.integration.gateway.instance_servers import InstanceServer

pytestmark = pytest.mark.stack

Start = Callable[..., Awaitable[InstanceServer]]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def gateway_overrides() -> dict[str, Any]:
    # A new instance's first check comes at its slot's next `inter` tick: 2 s here rather
    # than 10, so that these tests about routing do not wait for it (test_gateway_health
    # measures the shipped values).
    return {"check_interval_s": 2.0}


@pytest.fixture
async def http(gateway_settings: Settings) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=gateway_settings.gateway.entry_url) as session:
        yield session


async def test_an_unknown_path_is_a_json_404(http: aiohttp.ClientSession, api: RuntimeApi) -> None:
    async with http.get("/nowhere") as response:
        assert response.status == 404
        assert response.content_type == "application/json"
        assert response.headers["Cache-Control"] == "no-store"
        body = await response.json()
    assert body["code"] == "not_found" == body["error"]["code"]
    assert body["request_id"] == response.headers["X-Request-ID"]


async def test_a_backend_without_a_live_instance_is_a_json_503(
    http: aiohttp.ClientSession, api: RuntimeApi, registrar: Registrar
) -> None:
    async with http.get("/v1/titles") as response:
        assert response.status == 503
        assert response.content_type == "application/json"
        body = await response.json()
    assert body["code"] == "unavailable" and body["service"] == "catalog"
    assert UUID.match(response.headers["X-Request-ID"])


async def test_routing_by_prefix_with_request_id_and_forwarded_for(
    http: aiohttp.ClientSession,
    api: RuntimeApi,
    registry_redis: aioredis.Redis,
    registrar: Registrar,
    instances: Start,
    gateway_settings: Settings,
) -> None:
    catalog, origin = await instances("catalog", 1), await instances("origin", 1)
    await join(api, registry_redis, gateway_settings, catalog, origin, timeout_s=10)
    for path, served_by in [("/v1/titles/42", catalog), ("/assets/a/v1/x.m4s", origin)]:
        async with http.get(path) as response:
            assert response.status == 200, path
            assert (await response.json())["service"] == served_by.service
    # A client's well-formed request id is kept, end to end.
    async with http.get("/v1/assets", headers={"X-Request-ID": "client-id-0001"}) as response:
        assert response.headers["X-Request-ID"] == "client-id-0001"
    assert catalog.seen[-1]["X-Request-ID"] == "client-id-0001"
    assert catalog.seen[-1]["X-Forwarded-For"] == "127.0.0.1"
    # A malformed one is replaced by a fresh UUID, the same the service and the client see.
    async with http.get("/v1/assets", headers={"X-Request-ID": "bad id"}) as response:
        echoed = response.headers["X-Request-ID"]
    assert UUID.match(echoed) and catalog.seen[-1]["X-Request-ID"] == echoed
    async with http.get("/v1/assets") as response:
        assert UUID.match(response.headers["X-Request-ID"]) and response.status == 200


async def test_round_robin_over_two_instances(
    http: aiohttp.ClientSession,
    api: RuntimeApi,
    registry_redis: aioredis.Redis,
    registrar: Registrar,
    instances: Start,
    gateway_settings: Settings,
) -> None:
    first, second = await instances("streaming", 1), await instances("streaming", 2)
    await join(api, registry_redis, gateway_settings, first, second, timeout_s=10)
    served = []
    for _ in range(20):
        async with http.get("/v1/sessions") as response:
            served.append((await response.json())["instance"])
    assert Counter(served) == {1: 10, 2: 10}
    assert all(a != b for a, b in itertools.pairwise(served)), served


async def test_the_agent_sets_the_weight(
    http: aiohttp.ClientSession,
    api: RuntimeApi,
    registry_redis: aioredis.Redis,
    registrar: Registrar,
    instances: Start,
    gateway_settings: Settings,
) -> None:
    busy = await instances("streaming", 1, agent_reply="10%")
    idle = await instances("streaming", 2, agent_reply="100%")
    await join(api, registry_redis, gateway_settings, busy, idle, timeout_s=10)

    async def agent_answered() -> bool:
        slot = await slot_of(api, "streaming", busy.port)
        return slot is not None and slot.weight == 10

    await wait_until(agent_answered, 3 * gateway_settings.gateway.agent_interval_s, "10%")
    assert (await slot_of(api, "streaming", idle.port)).weight == 100  # type: ignore[union-attr]
    served = Counter()
    for _ in range(110):
        async with http.get("/v1/progress") as response:
            served[(await response.json())["instance"]] += 1
    assert 5 <= served[1] <= 20, served  # 10 of every 110, give or take a cycle's start
    # The agent relents: back to full weight.
    busy.agent_reply = "100%"

    async def full() -> bool:
        return (await slot_of(api, "streaming", busy.port)).weight == 100  # type: ignore[union-attr]

    await wait_until(full, 3 * gateway_settings.gateway.agent_interval_s, "100%")


async def test_metrics_stats_and_health_on_their_own_port(
    gateway_settings: Settings, api: RuntimeApi
) -> None:
    gateway = gateway_settings.gateway
    base = f"http://{gateway.host}:{gateway.metrics_port}"
    async with aiohttp.ClientSession(base_url=base) as session:
        async with session.get("/metrics") as response:
            assert response.status == 200
            text = await response.text()
        assert 'haproxy_backend_active_servers{proxy="catalog"}' in text
        async with session.get("/stats") as response:
            assert response.status == 200
        async with session.get("/healthz") as response:
            assert response.status == 200 and (await response.json()) == {"status": "ok"}
