"""The origin's memory cache: bounded by bytes, expiring, one storage read per concurrent miss."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from origin.memory_cache import MemoryCache
from streamcore.storage import ObjectInfo, StorageUnavailable


def info(key: str, size: int) -> ObjectInfo:
    return ObjectInfo(key=key, size=size, etag="e", last_modified=datetime.now(UTC))


async def test_concurrent_misses_share_one_load() -> None:
    cache = MemoryCache(max_bytes=1024, ttl_s=60)
    loads = 0

    async def load() -> tuple[bytes, ObjectInfo]:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.05)
        return b"#EXTM3U\n", info("k", 8)

    entries = await asyncio.gather(*(cache.get("k", load) for _ in range(25)))
    assert loads == 1
    assert {entry.data for entry in entries} == {b"#EXTM3U\n"}
    await cache.get("k", load)
    assert loads == 1 and cache.hits == 1


async def test_a_failed_load_reaches_every_waiter_and_is_not_cached() -> None:
    cache = MemoryCache(max_bytes=1024, ttl_s=60)
    calls = 0

    async def failing() -> tuple[bytes, ObjectInfo]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.02)
        raise StorageUnavailable("down")

    results = await asyncio.gather(
        *(cache.get("k", failing) for _ in range(5)), return_exceptions=True
    )
    assert calls == 1 and all(isinstance(r, StorageUnavailable) for r in results)
    with pytest.raises(StorageUnavailable):
        await cache.get("k", failing)
    assert calls == 2


async def test_bytes_bound_evicts_the_least_recently_used() -> None:
    cache = MemoryCache(max_bytes=20, ttl_s=60)

    def loader(key: str):  # type: ignore[no-untyped-def]
        async def load() -> tuple[bytes, ObjectInfo]:
            return key.encode() * 10, info(key, 10)

        return load

    for key in ("a", "b"):
        await cache.get(key, loader(key))
    await cache.get("a", loader("a"))  # a is now the most recent
    await cache.get("c", loader("c"))  # evicts b
    misses = cache.misses
    await cache.get("a", loader("a"))
    assert cache.misses == misses
    await cache.get("b", loader("b"))
    assert cache.misses == misses + 1


async def test_entries_expire_after_the_ttl() -> None:
    cache = MemoryCache(max_bytes=1024, ttl_s=0.05)
    loads = 0

    async def load() -> tuple[bytes, ObjectInfo]:
        nonlocal loads
        loads += 1
        return b"x", info("k", 1)

    await cache.get("k", load)
    await asyncio.sleep(0.08)
    await cache.get("k", load)
    assert loads == 2
