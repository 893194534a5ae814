"""The analytics service's resources, opened and closed by cleanup contexts, and their keys."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import redis.asyncio as aioredis
from aiohttp import web

from streamcore.db.schemas import Schema
from streamcore.web.metrics import HttpMetrics
from streamcore.web.resources import redis_client as redis_client_of
from streamcore.web.resources import schema_pool

DB_POOL_KEY = web.AppKey("db_pool", asyncpg.Pool)
REDIS_KEY = web.AppKey("redis", aioredis.Redis)
METRICS_KEY = web.AppKey("metrics", HttpMetrics)
# One client for what the service asks others (alert webhooks, the platform job's scrapes);
# each call sets its own timeout.
HTTP_KEY = web.AppKey("http", aiohttp.ClientSession)

database = schema_pool(Schema.ANALYTICS, DB_POOL_KEY)
redis_client = redis_client_of(REDIS_KEY)


async def http_client(app: web.Application) -> AsyncIterator[None]:
    app[HTTP_KEY] = aiohttp.ClientSession()
    yield
    await app[HTTP_KEY].close()
