"""Watch progress: Redis for fast reads and frequent writes, PostgreSQL as the record.

Every report goes to Redis. It is persisted to PostgreSQL when the session pauses, is hidden
or ends, and otherwise at most every PERSIST_EVERY_S while playing. Reads try Redis, then
PostgreSQL. When Redis is unreachable, reports go straight to PostgreSQL: nothing is lost,
only slower.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from catalog_api.viewing.models import ProgressReason, ProgressReport
from streamcore.assets import repository
from streamcore.web.service import NotFound

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
    await pool.execute(
        """
        INSERT INTO watch_progress (viewer_id, asset_id, position_s, duration_s, session_id,
                                    updated_at)
        VALUES ($1, $2, $3, $4, $5, to_timestamp($6))
        ON CONFLICT (viewer_id, asset_id) DO UPDATE
        SET position_s = EXCLUDED.position_s, duration_s = EXCLUDED.duration_s,
            session_id = EXCLUDED.session_id, updated_at = EXCLUDED.updated_at
        WHERE watch_progress.updated_at <= EXCLUDED.updated_at
        """,
        viewer, asset, progress.position_s, progress.duration_s, progress.session_id,
        progress.updated_at,
    )  # fmt: skip


async def record(
    pool: asyncpg.Pool, client: aioredis.Redis, viewer: UUID, asset: UUID, report: ProgressReport
) -> None:
    """Keep the report (NotFound for an unknown asset: nothing is kept for it)."""
    if await repository.get(pool, asset) is None:
        raise NotFound("no such asset")
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
        progress = Progress(**{**asdict(progress), "persisted_at": now})
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
    row = await pool.fetchrow(
        """
        SELECT position_s, duration_s, session_id, extract(epoch FROM updated_at) AS updated_at
        FROM watch_progress WHERE viewer_id = $1 AND asset_id = $2
        """,
        viewer,
        asset,
    )
    if row is None:
        return None
    return Progress(
        row["position_s"], row["duration_s"], row["session_id"], float(row["updated_at"]),
        persisted_at=float(row["updated_at"]),
    )  # fmt: skip
