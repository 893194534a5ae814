"""Watch progress: Redis for fast reads and frequent writes, PostgreSQL as the record.

Progress is a viewer's (streaming/viewer.py): a signed-in profile's, or an anonymous viewer
id's where anonymous playback is allowed.

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
from streaming.viewer import Viewer

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


def _key(viewer: Viewer, asset: UUID) -> str:
    # Anonymous viewers' keys are as they were before profiles: progress:<viewer id>:<asset>.
    return f"progress:{viewer.key}:{asset}"


def _decoded(raw: bytes | str | None) -> Progress | None:
    return Progress(**json.loads(raw)) if raw else None


async def _from_redis(client: aioredis.Redis, viewer: Viewer, asset: UUID) -> Progress | None:
    return _decoded(await client.get(_key(viewer, asset)))


def _of_row(row: asyncpg.Record) -> Progress:
    return Progress(
        row["position_s"], row["duration_s"], row["session_id"], float(row["updated_at"]),
        persisted_at=float(row["updated_at"]),
    )  # fmt: skip


async def _persist(pool: asyncpg.Pool, viewer: Viewer, asset: UUID, progress: Progress) -> None:
    await writes.persist_progress(
        pool, viewer, asset, position_s=progress.position_s, duration_s=progress.duration_s,
        session_id=progress.session_id, updated_at=progress.updated_at,
    )  # fmt: skip


async def record(
    pool: asyncpg.Pool, client: aioredis.Redis, viewer: Viewer, asset: UUID, report: ProgressReport
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
    pool: asyncpg.Pool, client: aioredis.Redis, viewer: Viewer, asset: UUID
) -> Progress | None:
    try:
        if (cached := await _from_redis(client, viewer, asset)) is not None:
            return cached
    except RedisError as exc:
        log.warning("progress: Redis unavailable (%s); reading PostgreSQL", exc)
    row = await queries.latest_progress(pool, viewer, asset)
    return None if row is None else _of_row(row)


async def listing(
    pool: asyncpg.Pool, client: aioredis.Redis, viewer: Viewer, limit: int
) -> list[tuple[UUID, Progress]]:
    """The viewer's positions in every asset it watched, latest first: PostgreSQL's rows (every
    asset's first report is persisted at once), each replaced by Redis' newer copy if any."""
    rows = await queries.progress_of(pool, viewer, limit)
    found = [(row["asset_id"], _of_row(row)) for row in rows]
    if not found:
        return []
    try:
        hot = await client.mget([_key(viewer, asset) for asset, _ in found])
    except RedisError as exc:
        log.warning("progress: Redis unavailable (%s); listing PostgreSQL's", exc)
        hot = [None] * len(found)
    merged = []
    for (asset, stored), raw in zip(found, hot, strict=True):
        cached = _decoded(raw)
        merged.append(
            (asset, cached if cached and cached.updated_at > stored.updated_at else stored)
        )
    return sorted(merged, key=lambda item: item[1].updated_at, reverse=True)


async def settle(
    pool: asyncpg.Pool, client: aioredis.Redis, viewer: Viewer, assets: list[UUID]
) -> None:
    """Write the viewer's Redis copies of these assets' positions to PostgreSQL and drop them,
    so that PostgreSQL alone holds the latest (before a claim moves the rows)."""
    if not assets:
        return
    keys = [_key(viewer, asset) for asset in assets]
    for asset, raw in zip(assets, await client.mget(keys), strict=True):
        if (cached := _decoded(raw)) is not None:
            await _persist(pool, viewer, asset, cached)
    await client.delete(*keys)
