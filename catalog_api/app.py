"""The catalog API's app factory: resources open and close in cleanup contexts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web

from streamcore.database import pool_context
from streamcore.settings import Settings
from streamcore.web import SETTINGS_KEY, health_routes

DB_POOL_KEY = web.AppKey("db_pool", asyncpg.Pool)
REDIS_KEY = web.AppKey("redis", aioredis.Redis)


async def _database(app: web.Application) -> AsyncIterator[None]:
    async with pool_context(app[SETTINGS_KEY]) as pool:
        app[DB_POOL_KEY] = pool
        yield


async def _redis(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    client = aioredis.from_url(
        settings.redis_dsn,
        socket_timeout=settings.redis.socket_timeout_s,
        socket_connect_timeout=settings.redis.socket_timeout_s,
    )
    app[REDIS_KEY] = client
    yield
    await client.aclose()


async def _database_ready(app: web.Application) -> None:
    async with app[DB_POOL_KEY].acquire(timeout=2) as conn:
        await conn.fetchval("SELECT 1")


def create_app(settings: Settings) -> web.Application:
    app = web.Application()
    app[SETTINGS_KEY] = settings
    app.cleanup_ctx.extend([_database, _redis])
    app.add_routes(health_routes(ready_check=_database_ready))
    return app
