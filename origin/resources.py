"""The origin's resources and app-scoped state, opened and closed by cleanup contexts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import Counter, Gauge, Histogram

from origin import purge_feed
from origin.disk_cache import DiskCache
from origin.memory_cache import MemoryCache
from streamcore.storage.s3 import S3Storage, open_storage
from streamcore.web.metrics import LATENCY_BUCKETS, HttpMetrics
from streamcore.web.service import SETTINGS_KEY


class OriginMetrics(HttpMetrics):
    def __init__(self, cache: MemoryCache, disk: DiskCache) -> None:
        super().__init__("origin")
        self.storage_seconds = Histogram(
            "origin_storage_seconds", "Object storage latency by operation", ["op"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        hits = Gauge("origin_memory_cache_hits", "Memory cache hits", registry=self.registry)
        hits.set_function(lambda: cache.hits)
        misses = Gauge("origin_memory_cache_misses", "Memory cache misses", registry=self.registry)
        misses.set_function(lambda: cache.misses)
        for name, what, read in (
            ("hits", "Disk cache hits", lambda: disk.hits),
            ("misses", "Disk cache misses", lambda: disk.misses),
            ("fills", "Objects read from storage into the disk cache", lambda: disk.storage_reads),
            ("evictions", "Disk cache entries evicted (least recently used)",
             lambda: disk.evictions),
            ("purged", "Disk cache entries dropped by purges", lambda: disk.purged),
            ("bytes", "Bytes of objects held in the disk cache", lambda: disk.size),
            ("entries", "Objects held in the disk cache", lambda: disk.entries),
            ("live", "1 while the disk cache serves (its purge feed is up)",
             lambda: int(disk.live)),
        ):  # fmt: skip
            gauge = Gauge(f"origin_disk_cache_{name}", what, registry=self.registry)
            gauge.set_function(read)
        self.overloaded = Counter(
            "origin_overload_rejections_total", "Requests refused with 503", registry=self.registry
        )


@dataclass
class Load:
    """Requests in flight."""

    inflight: int = 0


STORAGE_KEY = web.AppKey("storage", S3Storage)
CACHE_KEY = web.AppKey("memory_cache", MemoryCache)
DISK_KEY = web.AppKey("disk_cache", DiskCache)
METRICS_KEY = web.AppKey("metrics", OriginMetrics)
LOAD_KEY = web.AppKey("load", Load)


async def storage(app: web.Application) -> AsyncIterator[None]:
    async with open_storage(app[SETTINGS_KEY]) as store:
        app[STORAGE_KEY] = store
        yield


async def disk_cache(app: web.Application) -> AsyncIterator[None]:
    """The disk cache's folder, and the purge feed that keeps it (and the memory cache) true."""
    disk = app[DISK_KEY]
    await disk.open()
    task, stopping = None, asyncio.Event()
    if disk.enabled:
        task = asyncio.create_task(
            purge_feed.follow(app[SETTINGS_KEY], disk, app[CACHE_KEY], stopping),
            name="origin-purge-feed",
        )
    yield
    if task is not None:
        stopping.set()  # not cancelled: see purge_feed's docstring
        await task
    await disk.close()
