"""The processor's periodic jobs: one table, ``JOBS``, of (name, interval, job).

Each job is an async callable taking the processor's `Context`; the processor's loop runs each
one every `interval(settings)` seconds, under a PostgreSQL advisory lock named after the job,
so that with several processors running, one of them runs a job at a time (the others skip
that round). A job that fails is logged and tried again at its next round. To add a job
, add a `Job` row to `JOBS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from analytics import partitions, rollups
from analytics.alerts import evaluate
from analytics.platform import collect
from analytics.processor.context import Context
from streamcore import notify
from streamcore.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    interval_s: Callable[[Settings], float]
    run: Callable[[Context], Awaitable[object]]


async def _minute(ctx: Context) -> object:
    """The rollup, then (the minutes it wrote in hand) the admins' notice and the alert rules:
    in one job, so that no rule is judged on a minute not yet rolled up."""
    publish = notify.Notifier.of(ctx.settings, ctx.redis).publish
    written = await rollups.recent(ctx.pool, ctx.settings, datetime.now(UTC))
    await rollups.announce(publish, written)
    evaluated = await evaluate.run(
        evaluate.AlertContext(ctx.pool, ctx.settings, ctx.http, publish=publish)
    )
    return {"rollup": written, "alerts": len(evaluated.transitions)}


async def _platform(ctx: Context) -> object:
    return await collect.run(collect.PlatformContext(ctx.pool, ctx.settings, ctx.http, ctx.redis))


async def _partitions(ctx: Context) -> object:
    return await partitions.maintain(
        ctx.pool, datetime.now(UTC), ctx.settings.analytics.retention_days
    )


JOBS: tuple[Job, ...] = (
    Job("rollup", lambda s: s.analytics.rollup_interval_s, _minute),
    Job("platform_metrics", lambda s: s.analytics.platform_interval_s, _platform),
    # Hourly is plenty: a partition is created a day ahead, and late days on demand.
    Job("partitions", lambda s: 3600.0, _partitions),
)


async def run_locked(ctx: Context, job: Job) -> bool:
    """Run `job` if no other processor is running it; whether it ran."""
    async with ctx.pool.acquire() as conn:
        key = f"analytics:job:{job.name}"
        if not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", key):
            return False
        try:
            result = await job.run(ctx)
            log.info("analytics: job %s done: %s", job.name, result)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", key)
    return True


async def run_forever(ctx: Context, jobs: tuple[Job, ...] = JOBS) -> None:
    """Every job at its interval (each first at start-up) until ctx.stopping is set."""
    due = dict.fromkeys((job.name for job in jobs), 0.0)
    while not ctx.stopping.is_set():
        for job in jobs:
            if time.monotonic() < due[job.name]:
                continue
            try:
                await run_locked(ctx, job)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("analytics: job %s failed (%s); next round retries", job.name, exc)
            due[job.name] = time.monotonic() + job.interval_s(ctx.settings)
        wake = min(due.values()) - time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ctx.stopping.wait(), max(wake, 0.5))
