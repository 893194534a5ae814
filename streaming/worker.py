"""The streaming service's Celery application: the recommendations queue's worker pool.

``celery --app streaming.worker worker --queues recommendations`` loads ``app``. Its one task,
``streamcore.rebuild_recommendations``, is sent by the stack's one scheduler every
``recommendations.rebuild_every_s`` (streamcore/tasks/schedule.py) and runs `run_rebuild`:
the batch job of streaming/recommendations/batch.py, which ``streamcore recommendations
rebuild`` also runs. A rebuild that fails is not retried: the next one does the same work. The
pool owns the streaming schema; it imports nothing of ``workers``.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from streamcore.cache.redis_client import create_redis
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from streamcore.tasks.queue import lazy_app, periodic_task, service_app
from streamcore.tasks.routes import TaskName
from streaming.catalog_client import CatalogClient
from streaming.recommendations import batch


async def run_rebuild(settings: Settings) -> batch.Build:
    """One rebuild, with resources of its own (a task runs in a fresh event loop each time)."""
    redis = create_redis(settings)
    catalog = CatalogClient.from_settings(settings)
    try:
        titles = await catalog.titles()
        async with pool_context(settings, schema=Schema.STREAMING, min_size=1, max_size=2) as pool:
            return await batch.rebuild(pool, redis, titles, settings)
    finally:
        await catalog.aclose()
        await redis.aclose()


def register(app: Celery, settings: Settings) -> None:
    periodic_task(app, settings, TaskName.REBUILD_RECOMMENDATIONS, _rebuild_json)


async def _rebuild_json(settings: Settings) -> dict[str, Any]:
    return (await run_rebuild(settings)).to_json()


__getattr__ = lazy_app(globals(), service_app("streaming", register))
