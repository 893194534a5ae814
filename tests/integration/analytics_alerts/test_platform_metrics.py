"""The platform metrics job against the real stack: the gateway's backends and servers, the
services' /metrics and the queues, written to platform_minutes and read back by the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from analytics.app import create_app
from analytics.platform.collect import PlatformContext, run
from streamcore.auth.roles import Role
from streamcore.cache.redis_client import create_redis
from streamcore.settings import Settings
from tests.streaming_http import Device

pytestmark = pytest.mark.stack


async def _collect(pool: asyncpg.Pool, stack: Settings, now: datetime) -> int:
    client = create_redis(stack)
    try:
        async with aiohttp.ClientSession() as session:
            return await run(PlatformContext(pool, stack, session, client, now=now))
    finally:
        await client.aclose()


@pytest.fixture
async def api(stack: Settings) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(stack))) as client:
        yield client


async def test_the_job_samples_the_stack_and_the_api_serves_rates(
    stack: Settings, pool: asyncpg.Pool, api: TestClient
) -> None:
    now = datetime.now(UTC)
    assert await _collect(pool, stack, now - timedelta(minutes=1)) > 0
    # Traffic through the gateway between the two samples: catalog reads through its cache.
    async with aiohttp.ClientSession() as session:
        for _ in range(10):
            async with session.get(f"{stack.gateway.entry_url}/v1/titles") as titles:
                assert titles.status == 200
    await _collect(pool, stack, now)

    # Oldest first, up to the second sample's minute: each metric's value is then that
    # minute's (without ORDER BY the first sample's, from before the traffic, could win).
    rows = await pool.fetch(
        "SELECT metric, key, value FROM platform_minutes WHERE bucket <= $1 ORDER BY bucket", now
    )
    found = {(r["metric"], r["key"]): r["value"] for r in rows}
    assert found[("healthy_instances", "catalog")] >= 1
    assert found[("instance_weight", "catalog/catalog-1")] > 0
    assert ("queue_depth", "transcode") in found and ("dead_letters", "control") in found
    assert found[("cache_lookups_total", "")] >= 10
    missing = {key for metric, key in found if metric == "missing"}
    assert not missing & {"catalog-1", "streaming-1", "subscriptions-1", "gateway"}

    answer = await api.get(
        "/v1/analytics/platform?since=10m", headers=Device(role=Role.ADMIN).headers(stack)
    )
    assert answer.status == 200, await answer.text()
    body = await answer.json()
    assert set(body) == {"services", "instances", "cache_hit_ratio",
                         "recommendation_latency_ms", "subscriptions", "queues"}  # fmt: skip
    catalog = next(s for s in body["services"] if s["service"] == "catalog")
    (minute,) = catalog["minutes"]
    assert minute["rps"] >= 10 / 60 and minute["latency_ms"] is not None
    assert {"service": "catalog", "name": "catalog-1"}.items() <= next(
        i for i in body["instances"] if i["service"] == "catalog"
    ).items()
    (ratio,) = body["cache_hit_ratio"]
    assert 0 <= ratio["ratio"] <= 1
    assert {q["queue"] for q in body["queues"]} >= {"transcode", "control"}
    assert set(body["subscriptions"]) == {"by_state", "by_plan"}


async def test_a_service_that_does_not_answer_is_recorded_missing(
    stack: Settings, pool: asyncpg.Pool
) -> None:
    # A gateway runtime API nobody answers at: the gateway is missing, the queues are not.
    moved = stack.model_copy(update={"gateway": stack.gateway.model_copy(
        update={"admin_socket": "127.0.0.1:9"})})  # fmt: skip
    await _collect(pool, moved, datetime.now(UTC))
    missing = {r["key"] for r in await pool.fetch(
        "SELECT key FROM platform_minutes WHERE metric = 'missing'")}  # fmt: skip
    assert "gateway" in missing
    assert (
        await pool.fetchval("SELECT count(*) FROM platform_minutes WHERE metric = 'queue_depth'")
        == 4
    )
