"""The API's resources, opened and closed by cleanup contexts, and the keys they live under."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Hashable
from functools import partial
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web
from celery import Celery

from catalog_api.metrics import CatalogMetrics
from cdn_adapters.base import CdnAdapter
from cdn_adapters.playback import ImageUrls
from streamcore.cache import Cache
from streamcore.cache.breaker import BreakerState
from streamcore.cache.memo import Memo
from streamcore.cache.redis_client import create_redis
from streamcore.db.database import UNAVAILABLE_ERRORS, Database, database_context
from streamcore.db.metrics import watch_pools
from streamcore.db.schemas import Schema
from streamcore.entitlements_client import EntitlementsClient
from streamcore.storage.s3 import S3Storage, open_storage
from streamcore.tasks.queue import TaskName, create_celery
from streamcore.web.service import SETTINGS_KEY, ServiceUnavailable

DB_KEY = web.AppKey("db", Database)
# The primary's pool, for handlers that only write or must read the latest state.
DB_POOL_KEY = web.AppKey("db_pool", asyncpg.Pool)
REDIS_KEY = web.AppKey("redis", aioredis.Redis)
CACHE_KEY = web.AppKey("cache", Cache)
# Response bodies rendered from cached values, per caller variant (titles/handlers.py).
RENDERED_KEY = web.AppKey("rendered", Memo[tuple[bytes, Hashable], bytes])
METRICS_KEY = web.AppKey("metrics", CatalogMetrics)
STORAGE_KEY = web.AppKey("storage", S3Storage)
CELERY_KEY = web.AppKey("celery", Celery)
ADAPTERS_KEY = web.AppKey("cdn_adapters", list[CdnAdapter])
# Image URLs, each signed once for its expiry hour (titles/views.py).
IMAGE_URLS_KEY = web.AppKey("image_urls", ImageUrls)
ENTITLEMENTS_KEY = web.AppKey("entitlements", EntitlementsClient)

log = logging.getLogger(__name__)


async def database(app: web.Application) -> AsyncIterator[None]:
    async with database_context(app[SETTINGS_KEY], schema=Schema.CATALOG) as db:
        app[DB_KEY] = db
        app[DB_POOL_KEY] = db.primary
        unwatch = watch_pools(app[METRICS_KEY].registry, db.stats)
        yield
        unwatch()


async def redis_client(app: web.Application) -> AsyncIterator[None]:
    client = create_redis(app[SETTINGS_KEY])
    app[REDIS_KEY] = client
    yield
    await client.aclose()


def _rendered_bytes(key: tuple[bytes, Hashable], body: bytes) -> int:
    # The key holds the cached value's bytes: they count as much as the body.
    return len(key[0]) + len(body)


async def cache(app: web.Application) -> AsyncIterator[None]:
    """The catalog's cache, over the Redis client (so it opens after redis_client)."""
    catalog_cache = Cache(
        app[SETTINGS_KEY].cache,
        app[REDIS_KEY],
        app[METRICS_KEY].registry,
        unavailable=UNAVAILABLE_ERRORS,
    )
    app[CACHE_KEY] = catalog_cache
    # As many as the LRU holds values; none without a cache (every read is then a load).
    settings = app[SETTINGS_KEY].cache
    app[RENDERED_KEY] = Memo(
        settings.local_max_entries if settings.enabled else 0,
        max_weight=settings.rendered_max_bytes,
        weigh=_rendered_bytes,
    )
    yield
    await catalog_cache.aclose()


async def storage(app: web.Application) -> AsyncIterator[None]:
    async with open_storage(app[SETTINGS_KEY]) as store:
        app[STORAGE_KEY] = store
        yield


async def task_queue(app: web.Application) -> AsyncIterator[None]:
    celery = create_celery(app[SETTINGS_KEY])
    app[CELERY_KEY] = celery
    yield
    celery.close()


async def entitlements_client(app: web.Application) -> AsyncIterator[None]:
    """The subscriptions service's client: what accounts' plans grant (locks.py)."""

    def moved(old: BreakerState, new: BreakerState) -> None:
        log.warning("entitlements breaker: %s -> %s", old.name, new.name)

    client = EntitlementsClient.from_settings(app[SETTINGS_KEY], on_transition=moved)
    app[ENTITLEMENTS_KEY] = client
    yield
    await client.aclose()


async def enqueue(app: web.Application, task: TaskName, *args: Any) -> None:
    """Send a task by name. Celery's client is blocking, so it runs in the executor."""
    payload = [arg if isinstance(arg, (int, list)) else str(arg) for arg in args]
    send = partial(app[CELERY_KEY].send_task, str(task), args=payload)
    try:
        await asyncio.get_running_loop().run_in_executor(None, send)
    except Exception as exc:  # kombu raises many types for one cause: the broker is unreachable
        raise ServiceUnavailable(
            f"the task queue is unavailable ({exc.__class__.__name__}); retry later",
            headers={"Retry-After": "5"},
        ) from exc
