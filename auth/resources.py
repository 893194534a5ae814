"""The auth service's resources, opened and closed by cleanup contexts, and their keys."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web

from auth.passwords import Passwords
from streamcore.db.schemas import Schema
from streamcore.web.metrics import HttpMetrics
from streamcore.web.resources import redis_client as redis_client_of
from streamcore.web.resources import schema_pool
from streamcore.web.service import SETTINGS_KEY

# The primary's pool on the auth schema only. No replicas: a sign-in must see the account
# just created, a refresh the rotation just made.
DB_POOL_KEY = web.AppKey("db_pool", asyncpg.Pool)
REDIS_KEY = web.AppKey("redis", aioredis.Redis)
PASSWORDS_KEY = web.AppKey("passwords", Passwords)
METRICS_KEY = web.AppKey("metrics", HttpMetrics)


database = schema_pool(Schema.AUTH, DB_POOL_KEY)
redis_client = redis_client_of(REDIS_KEY)


async def passwords(app: web.Application) -> AsyncIterator[None]:
    app[PASSWORDS_KEY] = Passwords(app[SETTINGS_KEY].auth)
    yield
