"""Each streaming instance's flusher: reports from the Redis stream to PostgreSQL, in batches.

Every ``history.flush_interval_s`` (sooner while a backlog remains) it takes up to
``history.flush_batch`` reports (streaming/history/reports.py), writes them in one
transaction and acknowledges them. A batch that fails to write stays pending in Redis and is
taken again by the next round; Redis down pauses the flusher (reports then go straight to
PostgreSQL, streaming/progress.py). On shutdown it writes what it has taken before stopping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web
from redis.exceptions import RedisError

from streamcore.settings import Settings
from streamcore.streams import consumer_name
from streamcore.web.service import SETTINGS_KEY
from streaming.history import reports
from streaming.metrics import StreamingMetrics

log = logging.getLogger(__name__)


async def flush_once(
    pool: asyncpg.Pool, client: aioredis.Redis, settings: Settings, consumer: str,
    metrics: StreamingMetrics | None = None,
) -> int:  # fmt: skip
    """One round: take, write, acknowledge; how many reports it wrote."""
    section = settings.history
    taken = await reports.take(client, consumer, section.flush_batch, section.flush_claim_after_s)
    if not taken:
        return 0
    batch = [report for _, report in taken if report is not None]
    try:
        await reports.write_now(pool, client, settings, batch)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        if metrics is not None:
            metrics.history_flush_failures.inc()
        raise
    await reports.done(client, [entry for entry, _ in taken])
    if metrics is not None:
        metrics.history_flushed.inc(len(batch))
    return len(batch)


async def run(
    pool: asyncpg.Pool, client: aioredis.Redis, settings: Settings, metrics: StreamingMetrics,
    stopping: asyncio.Event,
) -> None:  # fmt: skip
    consumer, interval = consumer_name(), settings.history.flush_interval_s
    while not stopping.is_set():
        written = 0
        try:
            await reports.ensure_group(client)
            written = await flush_once(pool, client, settings, consumer, metrics)
            metrics.history_backlog.set(await reports.backlog(client))
        except RedisError as exc:
            log.warning("history flusher: Redis unavailable (%s); retrying", exc)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("history flusher: PostgreSQL unavailable (%s); retrying", exc)
        if written >= settings.history.flush_batch:
            continue  # a backlog: no pause until it is gone
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), interval)


def flusher(
    pool_key: web.AppKey[asyncpg.Pool],
    redis_key: web.AppKey[aioredis.Redis],
    metrics_key: web.AppKey[StreamingMetrics],
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context running the flusher for the app's lifetime."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        stopping = asyncio.Event()
        settings = app[SETTINGS_KEY]
        task = asyncio.create_task(
            run(app[pool_key], app[redis_key], settings, app[metrics_key], stopping)
        )
        yield
        stopping.set()
        await task
        # What arrived since the last round, before the pool closes.
        with contextlib.suppress(RedisError, OSError, asyncpg.PostgresError):
            await flush_once(app[pool_key], app[redis_key], settings, consumer_name())

    return context
