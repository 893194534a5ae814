"""The streaming service's resources, opened and closed by cleanup contexts, and their keys."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web

from cdn_adapters.base import CdnAdapter
from streamcore.cache.redis_client import create_redis
from streamcore.db.schemas import Schema
from streamcore.entitlements_client import EntitlementsClient
from streamcore.web.resources import schema_pool
from streamcore.web.service import SETTINGS_KEY
from streaming.catalog_client import CatalogClient
from streaming.metrics import StreamingMetrics
from streaming.profiles_client import ProfilesClient
from streaming.slots import Slots
from streaming.titles import TitleDirectory

# The primary's pool on the streaming schema only. No replicas: every read here (progress,
# sessions) must see the writes just made, so it would go to the primary anyway.
DB_POOL_KEY = web.AppKey("db_pool", asyncpg.Pool)
REDIS_KEY = web.AppKey("redis", aioredis.Redis)
CATALOG_KEY = web.AppKey("catalog", CatalogClient)
METRICS_KEY = web.AppKey("metrics", StreamingMetrics)
SLOTS_KEY = web.AppKey("stream_slots", Slots)
ENTITLEMENTS_KEY = web.AppKey("entitlements", EntitlementsClient)
ADAPTERS_KEY = web.AppKey("cdn_adapters", list[CdnAdapter])
TITLES_KEY = web.AppKey("titles", TitleDirectory)
PROFILES_KEY = web.AppKey("profiles", ProfilesClient)


database = schema_pool(Schema.STREAMING, DB_POOL_KEY)


async def redis_client(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    client = create_redis(settings)
    app[REDIS_KEY] = client
    app[SLOTS_KEY] = Slots(client, settings.streaming.slot_timeout_s)
    yield
    await client.aclose()


async def catalog(app: web.Application) -> AsyncIterator[None]:
    client = CatalogClient.from_settings(
        app[SETTINGS_KEY], on_transition=app[METRICS_KEY].breaker_moved
    )
    app[CATALOG_KEY] = client
    app[TITLES_KEY] = TitleDirectory(client)
    yield
    await client.aclose()


async def profiles(app: web.Application) -> AsyncIterator[None]:
    """The auth service's profiles endpoint (streaming/profiles_client.py)."""
    client = ProfilesClient.from_settings(app[SETTINGS_KEY])
    app[PROFILES_KEY] = client
    yield
    await client.aclose()


async def entitlements(app: web.Application) -> AsyncIterator[None]:
    """The subscriptions service's entitlement endpoint (streamcore/entitlements_client.py)."""
    client = EntitlementsClient.from_settings(app[SETTINGS_KEY])
    app[ENTITLEMENTS_KEY] = client
    yield
    await client.aclose()
