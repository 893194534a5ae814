"""The processor's side of the Redis stream (analytics/keys.py): a consumer of the group
``processors``. Entries are read with XREADGROUP, acknowledged (and deleted, so the stream's
length is the backlog) only after their batch is committed; entries another processor read and
never acknowledged (it died) are taken over once idle ``claim_after_s`` (XAUTOCLAIM)."""

from __future__ import annotations

import logging
from typing import Any

import redis.asyncio as aioredis
from pydantic import ValidationError

from analytics import details, keys
from analytics.models import StreamEvent
from streamcore import streams

log = logging.getLogger(__name__)

Entries = list[tuple[str, StreamEvent | None]]
# XREADGROUP waits this long for new entries: under the Redis client's socket timeout.
BLOCK_MS = 100


async def ensure_group(client: aioredis.Redis) -> None:
    """The consumer group, from the stream's start (nothing queued before it is skipped)."""
    await streams.ensure_group(client, keys.STREAM, keys.GROUP)


def decode(fields: dict[Any, Any]) -> StreamEvent | None:
    """An entry's event; None (logged, then dropped) for one that is not a valid event."""
    body = fields.get(keys.FIELD.encode(), fields.get(keys.FIELD))
    try:
        event = StreamEvent.model_validate_json(body) if body is not None else None
    except ValidationError as exc:
        log.error("analytics: unreadable stream entry dropped: %s", exc)
        return None
    if event is not None and (problem := details.problem(event.type, event.detail)):
        log.error("analytics: event %s dropped: %s", event.id, problem)
        return None
    return event


def _decoded(raw: Any) -> Entries:
    found: Entries = []
    for entry_id, fields in raw or []:
        ident = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        found.append((ident, decode(fields)))
    return found


async def take(client: aioredis.Redis, consumer: str, count: int, claim_after_s: float) -> Entries:
    """Up to `count` entries: this consumer's own unacknowledged ones first (a batch whose
    commit failed), then others' stale ones, then new ones (waiting up to BLOCK_MS)."""
    raw = await streams.take(
        client, keys.STREAM, keys.GROUP, consumer, count,
        claim_after_s=claim_after_s, block_ms=BLOCK_MS,
    )  # fmt: skip
    return _decoded(raw)


async def done(client: aioredis.Redis, ids: list[str]) -> None:
    """Acknowledge and delete entries whose events are committed."""
    if ids:
        async with client.pipeline(transaction=True) as pipe:
            pipe.xack(keys.STREAM, keys.GROUP, *ids)
            pipe.xdel(keys.STREAM, *ids)
            await pipe.execute()
