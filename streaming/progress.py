"""Watch progress: Redis for fast reads and frequent writes, PostgreSQL as the record.

Progress is a viewer's (streaming/viewer.py): a signed-in profile's, or an anonymous viewer
id's where anonymous playback is allowed.

Every report goes to Redis first: its position, for resuming at once (kept only when newer
than the copy there, by the client's timestamp), and the report itself onto the history's
stream, which the flusher writes to PostgreSQL in batches (streaming/history/flusher.py). An
asset's first report of a viewer is written to PostgreSQL at once, so that listings see it.
When Redis is unreachable, reports go straight to PostgreSQL: nothing is lost, only slower.
Reads try Redis, then PostgreSQL. Whether the asset exists is the caller's to check.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from streamcore import notify
from streamcore.settings import Settings
from streaming import queries, writes
from streaming.history import reports
from streaming.history.report import Report
from streaming.viewer import Viewer

log = logging.getLogger(__name__)

TTL_S = 90 * 86400
# Keep the copy only when it is newer than the one there: two devices racing on one asset, or
# a late retry, never put an older position back.
_SET_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
    local ok, decoded = pcall(cjson.decode, current)
    if ok and tonumber(decoded['updated_at']) >= tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
if current then return 1 end
return 2
"""


@dataclass(frozen=True)
class Progress:
    position_s: float
    duration_s: float | None
    session_id: str | None
    updated_at: float  # unix seconds, the report's (client) time
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
    pool: asyncpg.Pool, client: aioredis.Redis, settings: Settings, report: Report,
    *, now: bool = False,
) -> bool:  # fmt: skip
    """Keep a report: its position in Redis (if newer), the report on the history's stream;
    the first of an asset, one the player sends as it stops (`now`: a pause, the page
    hidden, the end), and every one while Redis is down, straight to PostgreSQL. False when
    Redis holds a newer position (the report changes nothing)."""
    viewer = Viewer(profile_id=report.profile_id, account_id=report.account_id,
                    viewer_id=report.viewer_id)  # fmt: skip
    assert report.asset_id is not None
    copy = Progress(report.position_s, report.duration_s, report.session_id, report.at)
    try:
        outcome = await client.eval(
            _SET_IF_NEWER, 1, _key(viewer, report.asset_id), json.dumps(asdict(copy)),
            repr(report.at), TTL_S,
        )  # fmt: skip
        if int(outcome) == 0:
            return False  # older than the position Redis has: the newer one is on its way
        if int(outcome) == 1 and not now:
            await reports.enqueue(client, report)
            return True
    except RedisError as exc:
        log.warning("progress: Redis unavailable (%s); writing to PostgreSQL", exc)
    # The asset's first report (kept in Redis, and written now), a stop, or Redis is down.
    await reports.write_now(pool, client, settings, [report])
    return True


async def announce(client: aioredis.Redis, settings: Settings, report: Report) -> None:
    """Tell the profile's other devices its new position, live (streamcore/notify.py)."""
    if report.profile_id is None:
        return  # an anonymous viewer has no socket
    data = {
        "asset_id": report.asset_id, "position_s": report.position_s,
        "duration_s": report.duration_s, "session_id": report.session_id, "at": report.at,
    }  # fmt: skip
    await notify.publish(client, notify.progress(report.profile_id), "progress", data,
                         max_len=settings.notifications.replay_max_len)  # fmt: skip


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
