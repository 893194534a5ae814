"""The streaming service's Celery application: the recommendations queue's worker pool.

``celery --app streaming.worker worker --queues recommendations`` loads ``app``. Its one task,
``streamcore.rebuild_recommendations``, is sent by the stack's one scheduler every
``recommendations.rebuild_every_s`` (streamcore/tasks/schedule.py) and runs `run_rebuild`:
the batch job of streaming/recommendations/batch.py, which ``streamcore recommendations
rebuild`` also runs. A rebuild that fails is not retried: the next one does the same work. The
pool owns the streaming schema; it imports nothing of ``workers``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from celery import Celery, Task

from streamcore.cache.redis_client import create_redis
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.log import configure_logging
from streamcore.settings import Settings, SettingsError, load_settings
from streamcore.tasks.queue import create_celery, lazy_app
from streamcore.tasks.routes import TASK_QUEUES, TaskName
from streaming.catalog_client import CatalogClient
from streaming.recommendations import batch

log = logging.getLogger(__name__)


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
    policy = settings.worker.queues[TASK_QUEUES[TaskName.REBUILD_RECOMMENDATIONS]]

    @app.task(
        name=str(TaskName.REBUILD_RECOMMENDATIONS), bind=True, acks_late=True, max_retries=0,
        time_limit=policy.time_limit_s, soft_time_limit=policy.time_limit_s - 10,
    )  # fmt: skip
    def rebuild_recommendations(self: Task) -> dict[str, Any]:
        return asyncio.run(run_rebuild(settings)).to_json()


def _create() -> Celery:
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise SystemExit(f"the streaming worker cannot start: {exc}") from None
    configure_logging(settings)
    app = create_celery(settings)
    register(app, settings)
    return app


__getattr__ = lazy_app(globals(), _create)
