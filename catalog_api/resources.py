"""The API's resources, opened and closed by cleanup contexts, and the keys they live under."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web
from celery import Celery

from cdn_adapters.base import CdnAdapter
from streamcore.database import Database, database_context
from streamcore.queue import TaskName, create_celery
from streamcore.storage.s3 import S3Storage, open_storage
from streamcore.web import SETTINGS_KEY, ServiceUnavailable

DB_KEY = web.AppKey("db", Database)
# The primary's pool, for handlers that only write or must read the latest state.
DB_POOL_KEY = web.AppKey("db_pool", asyncpg.Pool)
REDIS_KEY = web.AppKey("redis", aioredis.Redis)
STORAGE_KEY = web.AppKey("storage", S3Storage)
CELERY_KEY = web.AppKey("celery", Celery)
ADAPTERS_KEY = web.AppKey("cdn_adapters", list[CdnAdapter])


async def database(app: web.Application) -> AsyncIterator[None]:
    async with database_context(app[SETTINGS_KEY]) as db:
        app[DB_KEY] = db
        app[DB_POOL_KEY] = db.primary
        yield


async def redis_client(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    client = aioredis.from_url(
        settings.redis_dsn,
        socket_timeout=settings.redis.socket_timeout_s,
        socket_connect_timeout=settings.redis.socket_timeout_s,
    )
    app[REDIS_KEY] = client
    yield
    await client.aclose()


async def storage(app: web.Application) -> AsyncIterator[None]:
    async with open_storage(app[SETTINGS_KEY]) as store:
        app[STORAGE_KEY] = store
        yield


async def task_queue(app: web.Application) -> AsyncIterator[None]:
    celery = create_celery(app[SETTINGS_KEY])
    app[CELERY_KEY] = celery
    yield
    celery.close()


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
