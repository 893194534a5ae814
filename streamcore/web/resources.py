"""Cleanup contexts every service opens the same way: its schema's pool on the primary, and a
Redis client. Each service keeps its own keys (its resources.py) and passes them in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web

from streamcore.cache.redis_client import create_redis
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.web.service import SETTINGS_KEY

CleanupContext = Callable[[web.Application], AsyncIterator[None]]


def schema_pool(schema: Schema, key: web.AppKey[asyncpg.Pool]) -> CleanupContext:
    """The primary's pool on `schema` (its search_path), under `key`."""

    async def database(app: web.Application) -> AsyncIterator[None]:
        async with pool_context(app[SETTINGS_KEY], schema=schema) as pool:
            app[key] = pool
            yield

    return database


def redis_client(key: web.AppKey[aioredis.Redis]) -> CleanupContext:
    """A Redis client under `key`, closed with the app."""

    async def redis(app: web.Application) -> AsyncIterator[None]:
        client = create_redis(app[SETTINGS_KEY])
        app[key] = client
        yield
        await client.aclose()

    return redis
