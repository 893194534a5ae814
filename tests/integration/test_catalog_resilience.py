"""The catalog under failure, against the stack's own running API process: Redis, a replica and
the database stop while requests flow, and none of those requests fails.

These tests stop and restart services of the session's stack; each restarts what it stopped
and waits until it is healthy again before it ends.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from aiohttp.test_utils import TestClient

from catalog_api.resources import CACHE_KEY
from devstack import control
from devstack.services import Service
from streamcore.cache import catalog_cache
from streamcore.settings import Settings

pytestmark = pytest.mark.stack

REPLICA = "postgres-replica-1"


@pytest.fixture
def titles(stack: Settings, auth: dict[str, str]) -> Iterator[list[str]]:
    genre = f"R{uuid.uuid4().hex[:10]}"
    ids = []
    with httpx.Client(base_url=stack.catalog_api.url, timeout=10) as api:
        for n in range(3):
            body = {"kind": "movie", "title": f"Resilience {n}", "genres": [genre], "year": 2001}
            response = api.post("/v1/titles", json=body, headers=auth)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
    yield [f"/v1/titles/{i}" for i in ids] + [f"/v1/titles?genre={genre}"]


async def _hammer(base: str, paths: list[str], stop: asyncio.Event) -> Counter[str]:
    """GET the paths in turn until `stop`; count answers by status and X-Cache tier."""
    seen: Counter[str] = Counter()
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        i = 0
        while not stop.is_set():
            response = await client.get(paths[i % len(paths)])
            seen[f"{response.status_code}"] += 1
            seen[f"tier:{response.headers.get('X-Cache', '-')}"] += 1
            i += 1
            await asyncio.sleep(0.01)
    return seen


async def _while_hammering(
    stack: Settings, paths: list[str], outage: str, hold_s: float
) -> Counter[str]:
    stop = asyncio.Event()
    load = asyncio.create_task(_hammer(stack.catalog_api.url, paths, stop))
    try:
        await asyncio.sleep(1)
        await asyncio.to_thread(control.stop_service, stack, outage)
        await asyncio.sleep(hold_s)
    finally:
        await asyncio.to_thread(control.restart_service, stack, outage)
        await asyncio.sleep(1)
        stop.set()
    return await load


def _breaker_state(metrics: str) -> float:
    match = re.search(r"^cache_redis_breaker_state(?:\{[^}]*\})? (\S+)$", metrics, re.M)
    assert match, "the breaker's state is not in /metrics"
    return float(match[1])


async def test_redis_stopping_mid_traffic_fails_no_request_and_caching_returns(
    stack: Settings, titles: list[str]
) -> None:
    seen = await _while_hammering(stack, titles, Service.REDIS, hold_s=3)
    assert seen["200"] > 50 and set(k for k in seen if k.isdigit()) == {"200"}, seen
    # While Redis was away, answers came from the LRU and the database; the breaker opened.
    assert seen["tier:DATABASE"] > 0, seen
    # Back: the breaker closes, and entries are served from Redis again (past the LRU's 2 s).
    base = stack.catalog_api.url
    async with httpx.AsyncClient(base_url=base, timeout=5) as api:
        for _ in range(20):
            tiers = set()
            for _ in range(3):
                for path in titles:
                    tiers.add((await api.get(path)).headers["X-Cache"])
                await asyncio.sleep(1)
            state = _breaker_state((await api.get("/metrics")).text)
            if "REDIS" in tiers and state == 0:
                break
        else:
            pytest.fail(f"caching did not come back: tiers {tiers}, breaker {state}")


async def test_a_replica_stopping_mid_traffic_fails_no_request(
    stack: Settings, titles: list[str]
) -> None:
    seen = await _while_hammering(stack, titles, REPLICA, hold_s=3)
    assert seen["200"] > 50 and set(k for k in seen if k.isdigit()) == {"200"}, seen


async def test_without_the_database_last_known_answers_are_served_marked_stale(
    stack: Settings, titles: list[str], client: TestClient
) -> None:
    """Redis up, PostgreSQL (primary and replica) down: what was cached is served, as stale;
    what never was is a 503 with a JSON body, never a 500."""
    for path in titles:
        assert (await client.get(path)).status == 200  # cached now
    # End the entries' freshness (a write elsewhere would do this), keeping the last-known.
    ids = [path.rsplit("/", 1)[1] for path in titles[:-1]]
    await client.app[CACHE_KEY].bump_generation(
        catalog_cache.TITLES, catalog_cache.ASSETS, *map(catalog_cache.title, ids)
    )
    stopped = [REPLICA, Service.POSTGRES]
    try:
        for service in stopped:
            await asyncio.to_thread(control.stop_service, stack, service)
        for path in titles:
            response = await client.get(path)
            assert response.status == 200, await response.text()
            assert response.headers["X-Cache"] == "STALE"
            assert "Stale" in response.headers["Warning"]
        never_cached = await client.get(f"/v1/titles/{uuid.uuid4()}")
        assert never_cached.status == 503
        assert (await never_cached.json())["error"]["code"] == "unavailable"
    finally:
        for service in reversed(stopped):
            await asyncio.to_thread(control.restart_service, stack, service)
    fresh = await client.get(titles[0])
    assert fresh.status == 200
