"""The processor's loops: consume the stream (take, store, acknowledge), renew the heartbeat
the stack's health probe reads, and run the periodic jobs (analytics/processor/periodic.py).

A batch that cannot be committed stays pending and is taken again first next round; Redis or
PostgreSQL down pauses the loop (logged) until they are back. On SIGTERM the loops finish the
batch in hand and stop: nothing is acknowledged that was not committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

import asyncpg
from redis.exceptions import RedisError

from analytics import keys, partitions
from analytics.models import StreamEvent
from analytics.processor import consumer, periodic
from analytics.processor.context import Context
from analytics.processor.store import store

log = logging.getLogger(__name__)
_DB_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


async def _kept(ctx: Context, events: list[StreamEvent]) -> list[StreamEvent]:
    """The events within retention (older ones would land in a dropped partition), with their
    days' partitions made sure of."""
    oldest = datetime.now(UTC) - timedelta(days=ctx.settings.analytics.retention_days)
    kept = [e for e in events if e.at_time >= oldest]
    if len(kept) < len(events):
        log.warning("analytics: %d events older than retention dropped", len(events) - len(kept))
    days = {e.at_time.date() for e in kept}
    if not days <= ctx.partition_days:
        ctx.partition_days |= await partitions.ensure(ctx.pool, days)
    return kept


async def _store(ctx: Context, events: list[StreamEvent]) -> None:
    titles = await ctx.titles.titles({e.asset_id for e in events})
    try:
        await store(ctx.pool, events, titles)
    except asyncpg.DataError as exc:
        # An event PostgreSQL refuses must not hold the stream up (it would be taken again
        # and again): one at a time, dropping (and logging) the ones refused.
        log.error("analytics: a batch was refused (%s); storing its events one by one", exc)
        for event in events:
            try:
                await store(ctx.pool, [event], titles)
            except asyncpg.DataError as refused:
                log.error("analytics: event %s dropped: %s", event.id, refused)


async def process_once(ctx: Context) -> int:
    """One round: take, store, acknowledge; how many entries it handled."""
    section = ctx.settings.analytics
    taken = await consumer.take(ctx.redis, ctx.consumer, section.read_batch, section.claim_after_s)
    if not taken:
        return 0
    events = await _kept(ctx, [event for _, event in taken if event is not None])
    await _store(ctx, events)
    await consumer.done(ctx.redis, [entry for entry, _ in taken])
    return len(taken)


async def consume(ctx: Context) -> None:
    grouped = False
    while not ctx.stopping.is_set():
        try:
            if not grouped:
                await consumer.ensure_group(ctx.redis)
                grouped = True
            if await process_once(ctx):
                continue  # a backlog: no pause until it is gone
        except RedisError as exc:
            # The group may be gone too (a flushed Redis answers NOGROUP): made again next round.
            grouped = False
            log.warning("analytics: Redis unavailable (%s); retrying", exc)
        except _DB_ERRORS as exc:
            log.warning("analytics: PostgreSQL unavailable (%s); retrying", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ctx.stopping.wait(), 0.2)


async def heartbeat(ctx: Context) -> None:
    """Keep the heartbeat key alive while running; drop it on a clean stop."""
    while not ctx.stopping.is_set():
        try:
            await ctx.redis.set(keys.HEARTBEAT, ctx.consumer, ex=keys.HEARTBEAT_TTL_S)
        except RedisError as exc:
            log.warning("analytics: heartbeat not renewed (%s)", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ctx.stopping.wait(), keys.HEARTBEAT_EVERY_S)
    with contextlib.suppress(RedisError):
        await ctx.redis.delete(keys.HEARTBEAT)


async def run(ctx: Context) -> None:
    """Every loop until ctx.stopping is set; a loop that crashes stops the others."""
    tasks = [
        asyncio.create_task(loop(ctx), name=loop.__name__)
        for loop in (consume, heartbeat, periodic.run_forever)
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()  # re-raise a crash
    finally:
        ctx.stopping.set()
        await asyncio.gather(*tasks, return_exceptions=True)
