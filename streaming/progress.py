"""Watch progress: Redis for fast reads and frequent writes, PostgreSQL as the record.

Every report goes to Redis. It is persisted to PostgreSQL when the session pauses, is hidden
or ends, and otherwise at most every PERSIST_EVERY_S while playing. Reads try Redis, then
PostgreSQL. When Redis is unreachable, reports go straight to PostgreSQL: nothing is lost,
only slower. Whether the asset exists is the caller's to check, with the catalog.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from streaming import queries, writes
from streaming.models import ProgressReason, ProgressReport

log = logging.getLogger(__name__)

PERSIST_EVERY_S = 30.0
TTL_S = 90 * 86400
_PERSIST_NOW = {ProgressReason.PAUSE, ProgressReason.HIDDEN, ProgressReason.ENDED}


@dataclass(frozen=True)
class Progress:
    position_s: float
    duration_s: float | None
    session_id: str | None
    updated_at: float  # unix seconds
    persisted_at: float = 0.0

    def to_public(self) -> dict[str, object]:
        return {
            "position_s": self.position_s,
            "duration_s": self.duration_s,
            "updated_at": datetime.fromtimestamp(self.updated_at, UTC).isoformat(),
        }


def _key(viewer: UUID, asset: UUID) -> str:
    return f"progress:{viewer}:{asset}"


async def _from_redis(client: aioredis.Redis, viewer: UUID, asset: UUID) -> Progress | None:
    raw = await client.get(_key(viewer, asset))
    return Progress(**json.loads(raw)) if raw else None


async def _persist(pool: asyncpg.Pool, viewer: UUID, asset: UUID, progress: Progress) -> None:
    await writes.persist_progress(
        pool, viewer, asset, position_s=progress.position_s, duration_s=progress.duration_s,
        session_id=progress.session_id, updated_at=progress.updated_at,
    )  # fmt: skip


async def record(
    pool: asyncpg.Pool, client: aioredis.Redis, viewer: UUID, asset: UUID, report: ProgressReport
) -> None:
    now = time.time()
    try:
        previous = await _from_redis(client, viewer, asset)
    except RedisError as exc:
        log.warning("progress: Redis unavailable (%s); writing to PostgreSQL", exc)
        await _persist(pool, viewer, asset, Progress(report.position_s, report.duration_s,
                                                     report.session_id, now))  # fmt: skip
        return
    persisted_at = previous.persisted_at if previous else 0.0
    progress = Progress(report.position_s, report.duration_s, report.session_id, now, persisted_at)
    if report.reason in _PERSIST_NOW or now - persisted_at >= PERSIST_EVERY_S:
        await _persist(pool, viewer, asset, progress)
        progress = replace(progress, persisted_at=now)
    try:
        await client.set(_key(viewer, asset), json.dumps(asdict(progress)), ex=TTL_S)
    except RedisError as exc:
        log.warning("progress: Redis unavailable (%s); writing to PostgreSQL", exc)
        await _persist(pool, viewer, asset, progress)


async def latest(
    pool: asyncpg.Pool, client: aioredis.Redis, viewer: UUID, asset: UUID
) -> Progress | None:
    try:
        if (cached := await _from_redis(client, viewer, asset)) is not None:
            return cached
    except RedisError as exc:
        log.warning("progress: Redis unavailable (%s); reading PostgreSQL", exc)
    row = await queries.latest_progress(pool, viewer, asset)
    if row is None:
        return None
    return Progress(
        row["position_s"], row["duration_s"], row["session_id"], float(row["updated_at"]),
        persisted_at=float(row["updated_at"]),
    )  # fmt: skip
