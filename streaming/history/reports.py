"""Where reports wait between the player and PostgreSQL: a Redis stream, and its consumers.

`enqueue` appends a report to the stream ``history:reports``; each streaming instance's
flusher (streaming/history/flusher.py) reads it as a consumer of the group ``flushers``,
writes what it read in one batch and only then acknowledges (and deletes) it. A flusher that
dies holding reports leaves them pending; another takes them over after
``history.flush_claim_after_s`` (XAUTOCLAIM), and the upserts' "newer wins" makes writing one
twice harmless. Redis streams do this with no more moving parts than the Redis we run (a
Celery task per report would be one message per heartbeat, and no batching).

`write_now` is the way past the stream: an asset's first report, and every report while Redis
is down, are written at once, with the same effects as a flushed batch.
"""

from __future__ import annotations

import logging

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from streamcore import streams
from streamcore.settings import Settings
from streaming.history import effects, writes
from streaming.history.report import Report

log = logging.getLogger(__name__)

STREAM = "history:reports"
GROUP = "flushers"


async def enqueue(client: aioredis.Redis, report: Report) -> None:
    await client.xadd(STREAM, {"r": report.encode()})


async def write_now(
    pool: asyncpg.Pool, client: aioredis.Redis, settings: Settings, batch: list[Report]
) -> list[writes.Written]:
    """Write reports to PostgreSQL now, then their effects (best effort without Redis)."""
    written = await writes.persist(pool, batch, settings.history.continue_max)
    try:
        await effects.after(client, settings, written)
    except RedisError as exc:
        log.warning("history: effects of %d rows not applied (%s)", len(written), exc)
    return written


async def ensure_group(client: aioredis.Redis) -> None:
    """The flushers' group, from the stream's start (nothing written before it is skipped)."""
    await streams.ensure_group(client, STREAM, GROUP)


Entries = list[tuple[str, Report | None]]


def _decoded(raw: list[tuple[bytes | str, dict[bytes | str, bytes | str]]]) -> Entries:
    found: Entries = []
    for entry_id, fields in raw:
        ident = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        body = fields.get(b"r", fields.get("r"))
        try:
            found.append((ident, Report.decode(body) if body is not None else None))
        except (ValueError, TypeError, KeyError) as exc:
            log.error("history: unreadable report %s dropped: %s", ident, exc)
            found.append((ident, None))
    return found


async def take(client: aioredis.Redis, consumer: str, count: int, claim_after_s: float) -> Entries:
    """Up to `count` reports for this consumer: its own unacknowledged ones first (a batch
    that failed to write), then others' stale ones, then new ones."""
    raw = await streams.take(client, STREAM, GROUP, consumer, count, claim_after_s=claim_after_s)
    return _decoded(raw)


async def done(client: aioredis.Redis, ids: list[str]) -> None:
    if ids:
        async with client.pipeline(transaction=True) as pipe:
            pipe.xack(STREAM, GROUP, *ids)
            pipe.xdel(STREAM, *ids)
            await pipe.execute()


async def backlog(client: aioredis.Redis) -> int:
    """Reports waiting: not yet read, or read and not yet written."""
    return int(await client.xlen(STREAM))
