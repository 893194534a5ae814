"""The catalog's cache against the stack's real Redis.

Two Cache objects on one Redis stand for two API processes (each has its own LRU). Redis
outages are made with a closed port, or with a TCP proxy in front of the real Redis that can
turn into a black hole (accepts, never answers); the shared Redis itself is never stopped.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from streamcore.cache import BreakerState, Cache, keys
from streamcore.cache.redis_client import create_redis
from streamcore.settings import CacheSettings, Settings

pytestmark = pytest.mark.stack


class DatabaseDown(Exception):
    pass


class Loader:
    """A stand-in for a query: counts calls, can be slow, can fail."""

    def __init__(self, delay: float = 0.0, name: str = "db") -> None:
        self.calls, self.delay, self.name = 0, delay, name
        self.error: BaseException | None = None
        self.called = asyncio.Event()

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        self.called.set()
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return {"call": self.calls, "by": self.name, "tags": ["é"]}


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def redis(stack: Settings) -> AsyncIterator[aioredis.Redis]:
    client = create_redis(stack)
    yield client
    await client.aclose()


@pytest.fixture
def key() -> str:
    return f"test:{uuid.uuid4().hex}"


@pytest.fixture
async def make_cache() -> AsyncIterator[Callable[..., Cache]]:
    caches: list[Cache] = []

    def make(
        client: aioredis.Redis | None, clock: Callable[[], float] = time.time, **kw: Any
    ) -> Cache:
        settings = CacheSettings(**{"ttl_jitter": 0.0, **kw})
        cache = Cache(
            settings, client, CollectorRegistry(), unavailable=(DatabaseDown,), clock=clock
        )
        caches.append(cache)
        return cache

    yield make
    for cache in caches:
        await cache.aclose()


def sample(cache: Cache, name: str, **labels: str) -> float:
    return cache.metrics.registry.get_sample_value(name, labels) or 0.0


async def test_a_miss_loads_once_then_redis_then_the_lru_serve_it(
    redis: aioredis.Redis, make_cache: Callable[..., Cache], key: str
) -> None:
    load = Loader()
    first = await make_cache(redis).get_or_load(key, load, ttl_s=60)
    other_process = make_cache(redis)
    second = await other_process.get_or_load(key, load, ttl_s=60)
    third = await other_process.get_or_load(key, load, ttl_s=60)
    assert [r.tier for r in (first, second, third)] == ["database", "redis", "local"]
    assert {r.raw for r in (first, second, third)} == {'{"call":1,"by":"db","tags":["é"]}'.encode()}
    assert load.calls == 1
    # Stored as JSON in a hash that outlives its freshness by stale_ttl_s (24 h by default).
    stored = await redis.hgetall(keys.entry(key))
    assert stored[b"v"] == first.raw
    assert 24 * 3600 < await redis.ttl(keys.entry(key)) <= 24 * 3600 + 60


async def test_fifty_concurrent_misses_in_one_process_load_once(
    redis: aioredis.Redis, make_cache: Callable[..., Cache], key: str
) -> None:
    load = Loader(delay=0.1)
    cache = make_cache(redis)
    results = await asyncio.gather(*(cache.get_or_load(key, load, ttl_s=60) for _ in range(50)))
    assert load.calls == 1
    assert {r.value["call"] for r in results} == {1}


async def test_two_processes_missing_one_key_load_it_once(
    redis: aioredis.Redis, make_cache: Callable[..., Cache], key: str
) -> None:
    load = Loader(delay=0.2)
    one, two = make_cache(redis, rebuild_wait_s=2.0), make_cache(redis, rebuild_wait_s=2.0)
    results = await asyncio.gather(one.get_or_load(key, load, 60), two.get_or_load(key, load, 60))
    assert load.calls == 1
    assert sorted(r.tier for r in results) == ["database", "redis"]
    assert (
        sample(one, "cache_rebuild_waits_total", result="filled")
        + sample(two, "cache_rebuild_waits_total", result="filled")
        == 1
    )
    assert await redis.exists(keys.lock(key)) == 0  # released by its owner


async def test_a_rebuild_slower_than_the_wait_never_fails_the_other_process(
    redis: aioredis.Redis, make_cache: Callable[..., Cache], key: str
) -> None:
    load = Loader(delay=0.4)
    one, two = make_cache(redis, rebuild_wait_s=0.1), make_cache(redis, rebuild_wait_s=0.1)
    results = await asyncio.gather(one.get_or_load(key, load, 60), two.get_or_load(key, load, 60))
    assert load.calls == 2 and [r.tier for r in results] == ["database", "database"]


async def test_a_hit_near_expiry_is_served_and_refreshed_in_the_background(
    redis: aioredis.Redis, make_cache: Callable[..., Cache], key: str
) -> None:
    clock = FakeClock()
    load = Loader()
    await make_cache(redis, clock).get_or_load(key, load, ttl_s=100)
    clock.now += 85  # in the last 20 % of its freshness
    slow = Loader(delay=1.0, name="refresh")
    reader = make_cache(redis, clock)
    started = time.perf_counter()
    hit = await reader.get_or_load(key, slow, ttl_s=100)
    assert time.perf_counter() - started < 0.5  # the reload did not hold the answer up
    assert (hit.tier, hit.value["call"]) == ("redis", 1)
    await asyncio.wait_for(slow.called.wait(), 2)
    deadline = time.monotonic() + 3
    while await redis.hget(keys.entry(key), "c") != repr(clock.now).encode():
        assert time.monotonic() < deadline, "the background refresh never wrote"
        await asyncio.sleep(0.05)
    refreshed = await make_cache(redis, clock).get_or_load(key, load, ttl_s=100)
    assert (refreshed.tier, refreshed.value["by"]) == ("redis", "refresh")
    assert slow.calls == 1 and load.calls == 1
    assert sample(reader, "cache_early_refreshes_total", result="refreshed") == 1


async def test_invalidate_and_generation_bumps_reach_other_processes(
    redis: aioredis.Redis, make_cache: Callable[..., Cache], key: str
) -> None:
    writer, reader = make_cache(redis), make_cache(redis, local_ttl_s=0.0)
    title, listing, namespace = f"{key}:title", f"{key}:list", f"{key}:titles"
    load = Loader()
    for cache in (writer, reader):
        await cache.get_or_load(title, load, 60)
        await cache.get_or_load(listing, load, 60, depends_on=[namespace])
    assert load.calls == 2
    before = await writer.generation(namespace)
    await writer.bump_generation(namespace)
    assert await reader.generation(namespace) not in (None, before)
    assert (await reader.get_or_load(listing, load, 60, depends_on=[namespace])).tier == "database"
    assert (await reader.get_or_load(title, load, 60)).tier == "redis"
    await writer.invalidate(title)
    assert (await reader.get_or_load(title, load, 60)).tier == "database"
    assert (await writer.get_or_load(title, load, 60)).tier == "redis"  # the reader's reload
    assert load.calls == 4


async def test_a_bump_during_a_load_keeps_the_loaded_value_from_being_fresh(
    redis: aioredis.Redis, make_cache: Callable[..., Cache], key: str
) -> None:
    namespace = f"{key}:titles"
    slow = Loader(delay=0.3)
    loading = asyncio.create_task(
        make_cache(redis).get_or_load(key, slow, 60, depends_on=[namespace])
    )
    await asyncio.wait_for(slow.called.wait(), 2)
    await make_cache(redis).bump_generation(namespace)  # a title changed while it was read
    assert (await loading).tier == "database"
    again = Loader()
    result = await make_cache(redis).get_or_load(key, again, 60, depends_on=[namespace])
    assert result.tier == "database" and again.calls == 1


async def test_database_down_serves_another_process_s_last_known_value(
    redis: aioredis.Redis, make_cache: Callable[..., Cache], key: str
) -> None:
    load = Loader()
    writer = make_cache(redis)
    await writer.get_or_load(key, load, 60)
    await writer.invalidate(key)  # no longer fresh, still last-known
    load.error = DatabaseDown()
    stale = await make_cache(redis).get_or_load(key, load, 60)
    assert (stale.tier, stale.stale, stale.value["call"]) == ("stale", True, 1)
    with pytest.raises(DatabaseDown):
        await make_cache(redis).get_or_load(f"{key}:never-loaded", load, 60)


async def test_a_closed_redis_port_costs_nothing_but_the_cache(
    stack: Settings, make_cache: Callable[..., Cache], key: str
) -> None:
    client = create_redis(stack, dsn=f"redis://127.0.0.1:{_closed_port()}/0")
    try:
        cache = make_cache(client)
        load = Loader()
        results = [await cache.get_or_load(f"{key}:{i}", load, 60) for i in range(6)]
        assert [r.tier for r in results] == ["database"] * 6
        assert cache.breaker.state is BreakerState.OPEN
        assert sample(cache, "cache_redis_errors_total", operation="read") == 5
        assert sample(cache, "cache_requests_total", tier="redis", result="unavailable") == 6
        assert sample(cache, "cache_redis_breaker_state") == 1
        await cache.bump_generation("titles")  # queued, not raised
        assert sample(cache, "cache_pending_invalidations") == 1
    finally:
        await client.aclose()


async def test_an_error_answered_by_redis_skips_the_entry_but_not_redis(
    redis: aioredis.Redis, make_cache: Callable[..., Cache], key: str
) -> None:
    await redis.set(keys.entry(key), "not a hash", ex=60)  # WRONGTYPE for every entry command
    cache = make_cache(redis)
    load = Loader()
    for _ in range(6):
        await cache.invalidate(key)  # keep the LRU out of it
        assert (await cache.get_or_load(key, load, 60)).tier == "database"
    assert cache.breaker.state is BreakerState.CLOSED  # Redis answered: it is not down
    assert sample(cache, "cache_redis_errors_total", operation="read") == 6
    assert sample(cache, "cache_redis_errors_total", operation="invalidate") == 6  # not retried
    assert await redis.exists(keys.lock(key)) == 0
    assert (await cache.get_or_load(f"{key}:other", load, 60)).tier == "database"
    assert (await make_cache(redis).get_or_load(f"{key}:other", load, 60)).tier == "redis"


async def test_the_breaker_stops_paying_timeouts_and_probes_after_the_cool_down(
    stack: Settings, redis: aioredis.Redis, make_cache: Callable[..., Cache], key: str
) -> None:
    async with FlakyProxy(stack.stack.host, stack.stack.redis_port) as proxy:
        client = create_redis(stack, dsn=proxy.dsn(stack))
        try:
            await _breaker_scenario(proxy, make_cache(client, breaker_reset_s=1.0), key, stack)
        finally:
            await client.aclose()


async def _breaker_scenario(proxy: FlakyProxy, cache: Cache, key: str, stack: Settings) -> None:
    load = Loader()
    assert (await cache.get_or_load(f"{key}:warm", load, 60, depends_on=[key])).tier == "database"
    proxy.black_hole()
    timeout = stack.redis.socket_timeout_s
    for i in range(5):  # each pays the timeout (and its one retry), then the loader answers
        started = time.perf_counter()
        assert (await cache.get_or_load(f"{key}:{i}", load, 60)).tier == "database"
        assert time.perf_counter() - started >= timeout
    assert cache.breaker.state is BreakerState.OPEN
    started = time.perf_counter()
    assert (await cache.get_or_load(f"{key}:open", load, 60)).tier == "database"
    assert time.perf_counter() - started < timeout / 2  # Redis not called at all
    assert sample(cache, "cache_redis_errors_total", operation="read") == 5
    await cache.bump_generation(key)  # sent once Redis is back
    await asyncio.sleep(cache.settings.breaker_reset_s)
    await cache.get_or_load(f"{key}:probe", load, 60)  # the probe fails: open again
    assert cache.breaker.state is BreakerState.OPEN
    proxy.restore()
    await asyncio.sleep(cache.settings.breaker_reset_s)
    assert (await cache.get_or_load(f"{key}:warm", load, 60, depends_on=[key])).tier == "database"
    assert cache.breaker.state is BreakerState.CLOSED
    assert sample(cache, "cache_pending_invalidations") == 0
    assert sample(cache, "cache_redis_breaker_transitions_total", state="half_open") == 2
    assert sample(cache, "cache_redis_breaker_transitions_total", state="closed") == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FlakyProxy:
    """A TCP proxy to the real Redis that can become a black hole and come back."""

    def __init__(self, host: str, port: int) -> None:
        self.target, self.up = (host, port), True
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> FlakyProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        self._drop_connections()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    def dsn(self, settings: Settings) -> str:
        return settings.redis_dsn.replace(f":{settings.stack.redis_port}/", f":{self.port}/")

    def black_hole(self) -> None:
        self.up = False
        self._drop_connections()

    def restore(self) -> None:
        self.up = True
        self._drop_connections()

    def _drop_connections(self) -> None:
        for writer in list(self._writers):
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        upstream_writer = None
        try:
            if not self.up:
                await reader.read()  # hold the connection, answer nothing
                return
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
            self._writers.add(upstream_writer)
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
        except OSError:
            pass  # a side closed: the connection is over
        finally:
            for w in (writer, upstream_writer):
                if w is not None:
                    self._writers.discard(w)
                    w.close()
            self._handlers.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()
