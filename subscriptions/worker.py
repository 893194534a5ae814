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

import logging

from celery import Celery

from streamcore import notify
from streamcore.cache.redis_client import create_redis
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from streamcore.tasks.queue import lazy_app, periodic_task, service_app
from streamcore.tasks.routes import TaskName
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
    periodic_task(app, settings, TaskName.SUBSCRIPTIONS_TICK, run_tick)


__getattr__ = lazy_app(globals(), service_app("subscriptions", register))
