"""The audit log's one writer: a background task appending the kernel's audit stream
(``streamcore:audit``, streamcore/auth/audit.py) to ``audit_events``.

It reads with a consumer group, so the auth service's instances share the stream and each
event is appended once; an event is acknowledged only after its row is committed, and the
event id makes an append after a redelivery a no-op (at-least-once delivery, exactly-once
rows). On start an instance first takes what it had read without acknowledging (a crash
between append and ack); it also claims, every so often, events another consumer has held
for longer than ``CLAIM_IDLE_MS`` (an instance that died). An event that cannot be decoded or
stored is logged and acknowledged, so that it cannot block the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web
from pydantic import ValidationError
from redis.exceptions import RedisError

from auth import writes
from auth.resources import DB_POOL_KEY
from streamcore import streams
from streamcore.auth.audit import STREAM, AuditEvent, decode
from streamcore.db.database import UNAVAILABLE_ERRORS
from streamcore.settings import Settings
from streamcore.web.service import SETTINGS_KEY

log = logging.getLogger(__name__)

GROUP = "auth-audit"
BATCH = 100
BLOCK_MS = 1000
# Another consumer's unacknowledged events are taken over once this old.
CLAIM_IDLE_MS = 60_000
CLAIM_EVERY_S = 30.0
RETRY_S = 1.0
# Beyond the read under way, how long stopping may take.
STOP_GRACE_S = 5.0

Entry = tuple[bytes, dict[bytes, bytes]]


def stream_client(settings: Settings) -> aioredis.Redis:
    """Its own client: XREADGROUP blocks for BLOCK_MS, longer than the services' fail-fast
    socket timeout (streamcore/cache/redis_client.py) allows."""
    return aioredis.Redis.from_url(
        settings.redis_dsn, socket_timeout=BLOCK_MS / 1000 + 5, socket_connect_timeout=5
    )


async def ensure_group(client: aioredis.Redis) -> None:
    # From the stream's beginning: events published before the service first ran count.
    await streams.ensure_group(client, STREAM, GROUP)


def _decoded(entries: list[Entry]) -> list[AuditEvent]:
    events = []
    for entry_id, fields in entries:
        try:
            events.append(decode(fields))
        except (KeyError, ValidationError, ValueError) as exc:
            log.error("audit stream entry %s is not an event (%s); skipped", entry_id, exc)
    return events


async def _append(pool: asyncpg.Pool, events: list[AuditEvent]) -> None:
    try:
        await writes.append_audit(pool, events)
    except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError):
        for event in events:  # one bad event must not hold back the others
            try:
                await writes.append_audit(pool, [event])
            except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as exc:
                log.error("audit event %s cannot be stored (%s); skipped", event.id, exc)


async def store(client: aioredis.Redis, pool: asyncpg.Pool, entries: list[Entry]) -> None:
    if not entries:
        return
    await _append(pool, _decoded(entries))
    await client.xack(STREAM, GROUP, *[entry_id for entry_id, _ in entries])


async def _read(client: aioredis.Redis, name: str, start: str) -> list[Entry]:
    streams = {STREAM: start}
    answer: Any = await client.xreadgroup(GROUP, name, streams, count=BATCH, block=BLOCK_MS)  # type: ignore[arg-type]
    return [entry for _, entries in answer or [] for entry in entries if entry[1]]


async def _claim(client: aioredis.Redis, name: str) -> list[Entry]:
    answer = await client.xautoclaim(STREAM, GROUP, name, CLAIM_IDLE_MS, "0-0", count=BATCH)
    return [entry for entry in answer[1] if entry[1]]


async def consume(
    client: aioredis.Redis, pool: asyncpg.Pool, name: str, stopping: asyncio.Event
) -> None:
    """Append the stream to the table until `stopping` is set; failures are retried after
    RETRY_S. It stops between reads, never in one: a blocking read cancelled half-way can leave
    the Redis client waiting for an answer that never comes."""
    pending = True  # first, what this consumer read before without acknowledging
    grouped = False
    claimed_at = 0.0
    loop = asyncio.get_running_loop()
    while not stopping.is_set():
        try:
            if not grouped:
                await ensure_group(client)
                grouped = True
            if loop.time() - claimed_at >= CLAIM_EVERY_S:
                await store(client, pool, await _claim(client, name))
                claimed_at = loop.time()
            entries = await _read(client, name, "0" if pending else ">")
            pending = pending and bool(entries)
            await store(client, pool, entries)
        except (RedisError, asyncpg.PostgresError, *UNAVAILABLE_ERRORS) as exc:
            # The group may be gone too (a flushed Redis): created again on the next round.
            grouped = False
            log.warning("audit consumer: %r; retrying in %.0fs", exc, RETRY_S)
            await _pause(stopping)
        except Exception:
            log.exception("audit consumer failed; retrying in %.0fs", RETRY_S)
            await _pause(stopping)


async def _pause(stopping: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), RETRY_S)


async def audit_consumer(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the consumer runs as long as the app."""
    client = stream_client(app[SETTINGS_KEY])
    stopping = asyncio.Event()
    task = asyncio.create_task(consume(client, app[DB_POOL_KEY], streams.consumer_name(), stopping))
    yield
    stopping.set()
    # The read under way ends within BLOCK_MS; an append, within the pool's command timeout.
    done, _ = await asyncio.wait({task}, timeout=BLOCK_MS / 1000 + STOP_GRACE_S)
    if not done:
        log.warning("audit consumer still busy at shutdown; cancelled")
        task.cancel()
        await asyncio.wait({task}, timeout=STOP_GRACE_S)
    elif task.exception() is not None:
        log.error("audit consumer ended with %r", task.exception())
    await client.aclose()
