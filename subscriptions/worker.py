"""The subscriptions service's Celery application: the billing queue's worker pool.

``celery --app subscriptions.worker worker --queues billing`` loads ``app``. Its one task,
``streamcore.subscriptions_tick``, is sent by the stack's one scheduler every
``subscriptions.tick_interval_s`` (streamcore/tasks/schedule.py) and runs `run_tick`: the
time-based transitions of subscriptions/renewals.py, at the service's clock's now. A tick
that fails is not retried: the next one does the same work (each message expires after one
period, so a backlog never piles up). This app imports nothing of ``workers``: the pool owns
the subscriptions schema, the processing workers the catalog's.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from celery import Celery, Task

from streamcore import notify
from streamcore.cache.redis_client import create_redis
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.log import configure_logging
from streamcore.settings import Settings, SettingsError, load_settings
from streamcore.tasks.queue import create_celery, lazy_app
from streamcore.tasks.routes import TASK_QUEUES, TaskName
from subscriptions import renewals
from subscriptions.billing.registry import build_provider
from subscriptions.clock import clock_for
from subscriptions.policy import Policy

log = logging.getLogger(__name__)


async def run_tick(settings: Settings) -> dict[str, int]:
    """One tick, with resources of its own (the task runs in a fresh event loop each time)."""
    redis = create_redis(settings)
    try:
        async with pool_context(
            settings, schema=Schema.SUBSCRIPTIONS, min_size=1, max_size=4
        ) as pool:
            provider = build_provider(settings, pool)
            try:
                now = await clock_for(settings, redis).now()
                done = await renewals.tick(
                    pool,
                    provider,
                    Policy.from_settings(settings),
                    now,
                    notify.Notifier.of(settings, redis),
                )
            finally:
                await provider.aclose()
    finally:
        await redis.aclose()
    if done:
        log.info("subscriptions tick at %s: %s", now.isoformat(), done)
    return done


def register(app: Celery, settings: Settings) -> None:
    policy = settings.worker.queues[TASK_QUEUES[TaskName.SUBSCRIPTIONS_TICK]]

    @app.task(
        name=str(TaskName.SUBSCRIPTIONS_TICK), bind=True, acks_late=True, max_retries=0,
        time_limit=policy.time_limit_s, soft_time_limit=policy.time_limit_s - 10,
    )  # fmt: skip
    def subscriptions_tick(self: Task) -> dict[str, Any]:
        return asyncio.run(run_tick(settings))


def _create() -> Celery:
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise SystemExit(f"the subscriptions worker cannot start: {exc}") from None
    configure_logging(settings)
    app = create_celery(settings)
    register(app, settings)
    return app


__getattr__ = lazy_app(globals(), _create)
