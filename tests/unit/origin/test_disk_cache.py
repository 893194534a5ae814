"""The origin's disk cache with loaders in place of storage (as test_memory_cache.py does): the
bound and LRU order, single-flight fills, purges (one racing a fill), a cache that is not live.
The same against the real stack: tests/integration/test_origin.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from origin.disk_cache import DiskCache
from streamcore.storage import ObjectInfo, ObjectStream


def _reader(
    data: bytes, reads: list[str], key: str, before: Callable[[], Awaitable[None]] | None = None
) -> Callable[[], Awaitable[ObjectStream]]:
    async def read() -> ObjectStream:
        reads.append(key)

        async def chunks() -> AsyncIterator[bytes]:
            if before is not None:
                await before()
            for start in range(0, len(data), 1000):
                yield data[start : start + 1000]

        info = ObjectInfo(key=key, size=len(data), etag="e", last_modified=datetime.now(UTC))
        return ObjectStream(info, len(data), None, chunks(), lambda: None)

    return read


def _read_bytes(path: Path) -> bytes:
    return path.read_bytes()


async def _live(tmp_path: Path, max_bytes: int, max_object: int = 10_000) -> DiskCache:
    cache = DiskCache(tmp_path, max_bytes, max_object)
    await cache.open()
    cache.live = True
    return cache


async def test_the_bound_holds_and_the_least_recently_used_goes(tmp_path: Path) -> None:
    cache, reads = await _live(tmp_path, 2500), []
    for key in ("a", "b"):
        await cache.fill(key, _reader(b"x" * 1000, reads, key))
    assert cache.lookup("a") is not None  # b is now the oldest
    await cache.fill("c", _reader(b"y" * 1000, reads, "c"))
    assert cache.lookup("b") is None and cache.lookup("a") is not None
    assert (cache.size, cache.entries, cache.evictions) == (2000, 2, 1)
    await cache.close()


async def test_concurrent_fills_read_once_and_the_file_is_the_object(tmp_path: Path) -> None:
    cache, reads = await _live(tmp_path, 100_000), []
    data = bytes(range(256)) * 30
    entries = await asyncio.gather(*(cache.fill("k", _reader(data, reads, "k")) for _ in range(10)))
    assert reads == ["k"] and len({e.path for e in entries if e}) == 1
    entry = entries[0]
    assert entry is not None and await asyncio.to_thread(_read_bytes, entry.path) == data
    await cache.close()


async def test_a_purge_during_a_fill_keeps_nothing(tmp_path: Path) -> None:
    cache, reads = await _live(tmp_path, 100_000), []

    async def purge_first() -> None:
        await cache.purge(["assets/x/"])

    racing = _reader(b"z" * 5000, reads, "k", purge_first)
    assert await cache.fill("assets/x/v1/s.m4s", racing) is None
    assert cache.entries == 0 and cache.lookup("assets/x/v1/s.m4s") is None
    await cache.fill("assets/x/v1/s.m4s", _reader(b"z" * 5000, reads, "k"))
    await cache.fill("assets/y/v1/s.m4s", _reader(b"z" * 5000, reads, "k"))
    assert await cache.purge(["assets/x/"]) == 1
    assert cache.lookup("assets/y/v1/s.m4s") is not None and cache.purged == 1
    await cache.close()


async def test_too_large_or_not_live_is_not_kept(tmp_path: Path) -> None:
    cache, reads = await _live(tmp_path, 100_000, max_object=1000), []
    assert await cache.fill("big", _reader(b"b" * 1001, reads, "big")) is None
    cache.live = False
    assert await cache.fill("small", _reader(b"s" * 10, reads, "small")) is None
    assert reads == ["big"] and cache.entries == 0
    await cache.close()
