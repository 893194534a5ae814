"""The cache without Redis: the LRU in front of the loader, single flight, last-known values."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from streamcore.cache import Cache
from streamcore.settings import CacheSettings


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class DatabaseDown(Exception):
    pass


class Loader:
    def __init__(self, value: Any = None, delay: float = 0.0) -> None:
        self.calls, self.value, self.delay = 0, value, delay
        self.error: BaseException | None = None

    async def __call__(self) -> Any:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return self.value if self.value is not None else {"call": self.calls}


def make_cache(
    clock: FakeClock, registry: CollectorRegistry | None = None, **overrides: Any
) -> Cache:
    settings = CacheSettings(**{"local_ttl_s": 2.0, "stale_ttl_s": 100.0, **overrides})
    return Cache(
        settings, None, registry or CollectorRegistry(), unavailable=(DatabaseDown,), clock=clock
    )


async def test_a_miss_loads_then_the_lru_serves_until_its_ttl() -> None:
    clock, load = FakeClock(), Loader()
    cache = make_cache(clock)
    first = await cache.get_or_load("k", load, ttl_s=60)
    assert (first.value, first.tier, first.stale) == ({"call": 1}, "database", False)
    clock.now += 1.9
    second = await cache.get_or_load("k", load, ttl_s=60)
    assert (second.value, second.tier) == ({"call": 1}, "local")
    clock.now += 0.1
    third = await cache.get_or_load("k", load, ttl_s=60)
    assert (third.value, third.tier, load.calls) == ({"call": 2}, "database", 2)


async def test_the_lru_never_outlives_the_entry_ttl() -> None:
    clock, load = FakeClock(), Loader()
    cache = make_cache(clock, local_ttl_s=30.0, ttl_jitter=0.0)
    await cache.get_or_load("k", load, ttl_s=5)
    clock.now += 5
    assert (await cache.get_or_load("k", load, ttl_s=5)).tier == "database"


async def test_concurrent_misses_of_one_key_load_once() -> None:
    load = Loader(delay=0.05)
    cache = make_cache(FakeClock())
    results = await asyncio.gather(*(cache.get_or_load("k", load, ttl_s=60) for _ in range(50)))
    assert load.calls == 1
    assert {r.raw for r in results} == {b'{"call":1}'}


async def test_each_result_decodes_its_own_copy() -> None:
    cache = make_cache(FakeClock())
    load = Loader({"tags": ["a"]})
    first = await cache.get_or_load("k", load, ttl_s=60)
    first.value["tags"].append("mutated")
    assert (await cache.get_or_load("k", load, ttl_s=60)).value == {"tags": ["a"]}


async def test_database_down_serves_the_last_known_value_marked_stale() -> None:
    clock, load = FakeClock(), Loader()
    cache = make_cache(clock)
    await cache.get_or_load("k", load, ttl_s=10)
    clock.now += 50  # long past fresh, within stale_ttl_s
    load.error = DatabaseDown()
    result = await cache.get_or_load("k", load, ttl_s=10)
    assert (result.value, result.stale, result.tier) == ({"call": 1}, True, "stale")
    clock.now += 100  # past fresh + stale_ttl_s: nothing left to serve
    with pytest.raises(DatabaseDown):
        await cache.get_or_load("k", load, ttl_s=10)


async def test_database_down_without_a_last_known_value_raises() -> None:
    load = Loader()
    load.error = DatabaseDown()
    with pytest.raises(DatabaseDown):
        await make_cache(FakeClock()).get_or_load("k", load, ttl_s=10)


async def test_other_loader_errors_propagate_even_with_a_last_known_value() -> None:
    clock, load = FakeClock(), Loader()
    cache = make_cache(clock)
    await cache.get_or_load("k", load, ttl_s=10)
    clock.now += 20
    load.error = KeyError("not found")
    with pytest.raises(KeyError):
        await cache.get_or_load("k", load, ttl_s=10)


async def test_invalidate_and_bump_end_local_freshness_but_keep_the_fallback() -> None:
    clock, load = FakeClock(), Loader()
    cache = make_cache(clock)
    await cache.get_or_load("title:1", load, ttl_s=60, depends_on=["title:1"])
    await cache.get_or_load("titles:page", load, ttl_s=60, depends_on=["titles"])
    await cache.get_or_load("other", load, ttl_s=60)
    await cache.invalidate("title:1")
    await cache.bump_generation("titles")
    assert (await cache.get_or_load("other", load, ttl_s=60)).tier == "local"
    page = await cache.get_or_load("titles:page", load, ttl_s=60, depends_on=["titles"])
    assert page.tier == "database"
    assert (await cache.get_or_load("title:1", load, ttl_s=60)).tier == "database"
    load.error = DatabaseDown()
    await cache.bump_generation("titles")
    stale = await cache.get_or_load("titles:page", load, ttl_s=60, depends_on=["titles"])
    assert stale.stale and stale.value == {"call": 4}


async def test_disabled_calls_the_loader_every_time() -> None:
    load = Loader()
    cache = make_cache(FakeClock(), enabled=False)
    results = [await cache.get_or_load("k", load, ttl_s=60) for _ in range(3)]
    assert [r.tier for r in results] == ["database"] * 3 and load.calls == 3


async def test_hits_and_misses_per_tier_are_counted() -> None:
    registry = CollectorRegistry()
    cache = make_cache(FakeClock(), registry)
    load = Loader()
    await cache.get_or_load("k", load, ttl_s=60)
    await cache.get_or_load("k", load, ttl_s=60)

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert sample("cache_requests_total", tier="local", result="miss") == 1
    assert sample("cache_requests_total", tier="local", result="hit") == 1
    assert sample("cache_requests_total", tier="redis", result="unavailable") == 1
    assert sample("cache_loads_total", result="ok") == 1
    assert sample("cache_redis_breaker_state") == 0
    await cache.aclose()


async def test_a_repeated_bump_also_ends_values_loaded_just_after_the_first() -> None:
    # A loader reading a lagging replica right after a write may get the old row; the second
    # bump, a replica lag later, ends that value's freshness too.
    load = Loader()
    cache = make_cache(FakeClock())
    await cache.get_or_load("page", load, ttl_s=60, depends_on=["titles"])
    await cache.bump_generation("titles", repeat_after_s=0.05)
    assert (await cache.get_or_load("page", load, 60, depends_on=["titles"])).tier == "database"
    assert (await cache.get_or_load("page", load, 60, depends_on=["titles"])).tier == "local"
    await asyncio.sleep(0.1)
    assert (await cache.get_or_load("page", load, 60, depends_on=["titles"])).tier == "database"
    await cache.invalidate("page", repeat_after_s=10)
    await cache.aclose()  # cancels the pending repeat


async def test_a_load_overtaken_by_an_invalidation_here_is_not_kept_as_fresh() -> None:
    slow, load = Loader(delay=0.05), Loader()
    cache = make_cache(FakeClock())
    loading = asyncio.create_task(cache.get_or_load("title:1", slow, ttl_s=60))
    await asyncio.sleep(0.01)
    await cache.invalidate("title:1")  # the title was written while it was being read
    assert (await loading).tier == "database"
    assert (await cache.get_or_load("title:1", load, ttl_s=60)).tier == "database"
    assert (await cache.get_or_load("title:1", load, ttl_s=60)).tier == "local"
