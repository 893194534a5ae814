"""Daily partitions of analytics.events made ahead and dropped after retention, and the
processor's periodic jobs: one runner at a time under their advisory lock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import asyncpg
import pytest

from analytics import partitions
from analytics.processor.context import Context
from analytics.processor.periodic import Job, run_locked
from analytics.titles import TitleResolver
from streamcore.cache.redis_client import create_redis
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings

pytestmark = pytest.mark.stack


@pytest.fixture
async def pool(stack: Settings) -> AsyncIterator[asyncpg.Pool]:
    async with pool_context(stack, schema=Schema.ANALYTICS, min_size=1, max_size=4) as found:
        yield found


async def test_partitions_are_made_ahead_and_dropped_after_retention(pool: asyncpg.Pool) -> None:
    now = datetime.now(UTC)
    old = (now - timedelta(days=45)).date()
    await partitions.ensure(pool, [old])
    dropped = await partitions.maintain(pool, now, retention_days=30)
    assert partitions.name(old) in dropped
    async with pool.acquire() as conn:
        days = await partitions.existing(conn)
    assert {now.date(), now.date() + timedelta(days=1)} <= days
    assert old not in days and all(day >= now.date() - timedelta(days=30) for day in days)


async def test_a_periodic_job_runs_in_one_processor_at_a_time(
    pool: asyncpg.Pool, stack: Settings
) -> None:
    client = create_redis(stack)
    titles = TitleResolver.from_settings(stack)
    http = aiohttp.ClientSession()
    ctx = Context(stack, pool, client, "test", titles, http)
    running, runs = asyncio.Event(), []

    async def slow(_: Context) -> None:
        runs.append(1)
        running.set()
        await asyncio.sleep(0.5)

    job = Job("test_slow", lambda s: 60.0, slow)
    first = asyncio.create_task(run_locked(ctx, job))
    await running.wait()
    assert await run_locked(ctx, job) is False  # the other "processor" skips the round
    assert await first is True and runs == [1]
    assert await run_locked(ctx, job) is True  # the lock was released
    await client.aclose()
    await titles.aclose()
    await http.close()
