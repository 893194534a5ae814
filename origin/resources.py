"""The origin's resources and app-scoped state, opened and closed by cleanup contexts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import Counter, Gauge, Histogram

from origin.memory_cache import MemoryCache
from streamcore.storage.s3 import S3Storage, open_storage
from streamcore.web.metrics import LATENCY_BUCKETS, HttpMetrics
from streamcore.web.service import SETTINGS_KEY


class OriginMetrics(HttpMetrics):
    def __init__(self, cache: MemoryCache) -> None:
        super().__init__("origin")
        self.storage_seconds = Histogram(
            "origin_storage_seconds", "Object storage latency by operation", ["op"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        hits = Gauge("origin_memory_cache_hits", "Memory cache hits", registry=self.registry)
        hits.set_function(lambda: cache.hits)
        misses = Gauge("origin_memory_cache_misses", "Memory cache misses", registry=self.registry)
        misses.set_function(lambda: cache.misses)
        self.overloaded = Counter(
            "origin_overload_rejections_total", "Requests refused with 503", registry=self.registry
        )


@dataclass
class Load:
    """Requests in flight."""

    inflight: int = 0


STORAGE_KEY = web.AppKey("storage", S3Storage)
CACHE_KEY = web.AppKey("memory_cache", MemoryCache)
METRICS_KEY = web.AppKey("metrics", OriginMetrics)
LOAD_KEY = web.AppKey("load", Load)


async def storage(app: web.Application) -> AsyncIterator[None]:
    async with open_storage(app[SETTINGS_KEY]) as store:
        app[STORAGE_KEY] = store
        yield
