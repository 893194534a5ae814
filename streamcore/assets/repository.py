"""Asset queries. Every state change is one guarded UPDATE, per the table in states.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from streamcore.assets.states import AssetStatus, Event, sources, target

_COLUMNS = """
    id, title, status, progress, error, source_key, source_filename, source_size, content_type,
    source_probe, renditions, images, version, job_id, attempts, created_at, updated_at,
    processing_started_at, ready_at, failed_at, heartbeat_at, owner_account_id, audio,
    audio_languages
"""
# A running job's state, named by the state machine (a constant: safe to put in the SQL).
_RUNNING = f"'{AssetStatus.PROCESSING.value}'"


@dataclass(frozen=True)
class Asset:
    id: UUID
    title: str
    status: AssetStatus
    progress: int
    error: str | None
    source_key: str
    source_filename: str
    source_size: int | None
    content_type: str | None
    source_probe: dict[str, Any] | None
    renditions: list[dict[str, Any]]
    images: dict[str, Any]
    version: int
    job_id: UUID | None
    attempts: int
    created_at: datetime
    updated_at: datetime
    processing_started_at: datetime | None
    ready_at: datetime | None
    failed_at: datetime | None
    # The running job's last sign of life (migration 0006); the reaper looks at it.
    heartbeat_at: datetime | None
    # The account that uploaded it (migration 0009); None: before accounts, or a service's.
    owner_account_id: UUID | None = None
    # The published audio renditions, default first (migration 0018).
    audio: list[dict[str, Any]] = field(default_factory=list)
    # The uploader's language per source audio track ('' keeps the source's tag).
    audio_languages: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Asset:
        values = dict(row)
        values["status"] = AssetStatus(values["status"])
        values["audio_languages"] = tuple(values["audio_languages"])
        return cls(**values)


async def create(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    asset_id: UUID,
    title: str,
    source_key: str,
    source_filename: str,
    source_size: int,
    content_type: str | None,
    owner_account_id: UUID | None = None,
    audio_languages: tuple[str, ...] = (),
) -> Asset:
    row = await conn.fetchrow(
        f"""
        INSERT INTO assets (id, title, status, source_key, source_filename, source_size,
                            content_type, job_id, owner_account_id, audio_languages)
        VALUES ($1, $2, 'uploaded', $3, $4, $5, $6, $7, $8, $9)
        RETURNING {_COLUMNS}
        """,
        asset_id, title, source_key, source_filename, source_size, content_type, uuid.uuid4(),
        owner_account_id, list(audio_languages),
    )  # fmt: skip
    return Asset.from_row(row)


async def get(conn: asyncpg.Connection | asyncpg.Pool, asset_id: UUID) -> Asset | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM assets WHERE id = $1", asset_id)
    return Asset.from_row(row) if row else None


async def list_page(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    limit: int,
    after: tuple[datetime, UUID] | None = None,
    status: AssetStatus | None = None,
    owner_account_id: UUID | None = None,
) -> list[Asset]:
    """Newest first; `after` is the (created_at, id) of the last asset of the previous page;
    `owner_account_id`: only that account's (spelled out, not `$n IS NULL OR`, so that the
    owner's index serves it)."""
    owner = "AND owner_account_id = $5" if owner_account_id is not None else "AND $5::uuid IS NULL"
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM assets
        WHERE ($1::timestamptz IS NULL OR (created_at, id) < ($1, $2))
          AND ($3::text IS NULL OR status = $3) {owner}
        ORDER BY created_at DESC, id DESC
        LIMIT $4
        """,
        after[0] if after else None,
        after[1] if after else None,
        status,
        limit,
        owner_account_id,
    )
    return [Asset.from_row(row) for row in rows]


async def start_processing(
    conn: asyncpg.Connection | asyncpg.Pool, asset_id: UUID, job_id: UUID
) -> Asset | None:
    """Enter `processing` for this job; None if the asset is gone, done, or another job's."""
    row = await conn.fetchrow(
        f"""
        UPDATE assets
        SET status = $3, progress = 0, error = NULL, failed_at = NULL,
            attempts = attempts + 1, processing_started_at = now(), updated_at = now(),
            heartbeat_at = now()
        WHERE id = $1 AND job_id = $2 AND status = ANY($4::text[])
        RETURNING {_COLUMNS}
        """,
        asset_id, job_id, target(Event.START), sources(Event.START),
    )  # fmt: skip
    return Asset.from_row(row) if row else None


async def set_progress(
    conn: asyncpg.Connection | asyncpg.Pool, asset_id: UUID, job_id: UUID, progress: int
) -> None:
    """Raise the job's progress (never lower it) and stamp its heartbeat."""
    await conn.execute(
        f"""
        UPDATE assets
        SET progress = GREATEST(progress, $3), heartbeat_at = now(), updated_at = now()
        WHERE id = $1 AND job_id = $2 AND status = {_RUNNING}
        """,
        asset_id, job_id, max(0, min(progress, 99)),
    )  # fmt: skip


async def heartbeat(
    conn: asyncpg.Connection | asyncpg.Pool, asset_id: UUID, job_id: UUID, *, ahead_s: float = 0
) -> bool:
    """Stamp the running job's heartbeat; `ahead_s` later for a retry waiting for its back-off.

    False if the job no longer holds the asset (superseded, requeued, done or deleted).
    """
    status = await conn.execute(
        f"""
        UPDATE assets SET heartbeat_at = now() + make_interval(secs => $3)
        WHERE id = $1 AND job_id = $2 AND status = {_RUNNING}
        """,
        asset_id, job_id, ahead_s,
    )  # fmt: skip
    return bool(status == "UPDATE 1")


# A row processed before migration 0006 has no heartbeat: its last update stands in for it.
_LAST_SIGN_OF_LIFE = "COALESCE(heartbeat_at, updated_at)"


async def stalled_jobs(
    conn: asyncpg.Connection | asyncpg.Pool, *, silent_for_s: float
) -> list[tuple[UUID, UUID]]:
    """(asset id, job id) of every processing job without a heartbeat for `silent_for_s`."""
    rows = await conn.fetch(
        f"""
        SELECT id, job_id FROM assets
        WHERE status = {_RUNNING} AND {_LAST_SIGN_OF_LIFE} < now() - make_interval(secs => $1)
        ORDER BY {_LAST_SIGN_OF_LIFE}
        """,
        silent_for_s,
    )
    return [(row["id"], row["job_id"]) for row in rows]


async def requeue(
    conn: asyncpg.Connection | asyncpg.Pool,
    asset_id: UUID,
    job_id: UUID,
    *,
    silent_for_s: float | None,
) -> Asset | None:
    """Queue a processing asset again under a new job id, if `job_id` still holds it.

    With `silent_for_s`, only if the job has also been silent that long (it may have beaten
    since it was found stalled). Of two reapers racing, one gets the row, the other None.
    """
    row = await conn.fetchrow(
        f"""
        UPDATE assets
        SET status = $3, job_id = $5, progress = 0, heartbeat_at = NULL, updated_at = now()
        WHERE id = $1 AND job_id = $2 AND status = ANY($4::text[])
          AND ($6::float8 IS NULL
               OR {_LAST_SIGN_OF_LIFE} < now() - make_interval(secs => $6::float8))
        RETURNING {_COLUMNS}
        """,
        asset_id, job_id, target(Event.REQUEUE), sources(Event.REQUEUE), uuid.uuid4(),
        silent_for_s,
    )  # fmt: skip
    return Asset.from_row(row) if row else None


async def finish(
    conn: asyncpg.Connection | asyncpg.Pool,
    asset_id: UUID,
    job_id: UUID,
    *,
    version: int,
    source_probe: dict[str, Any],
    renditions: list[dict[str, Any]],
    images: dict[str, Any] | None = None,
    audio: list[dict[str, Any]] | None = None,
) -> Asset | None:
    """Publish `version`: the switch to the new outputs is this one UPDATE."""
    row = await conn.fetchrow(
        f"""
        UPDATE assets
        SET status = $3, progress = 100, version = $5, source_probe = $6, renditions = $7,
            images = $8, audio = $9, error = NULL, ready_at = now(), updated_at = now()
        WHERE id = $1 AND job_id = $2 AND status = ANY($4::text[])
        RETURNING {_COLUMNS}
        """,
        asset_id, job_id, target(Event.FINISH), sources(Event.FINISH),
        version, source_probe, renditions, images or {}, audio or [],
    )  # fmt: skip
    return Asset.from_row(row) if row else None


async def fail(
    conn: asyncpg.Connection | asyncpg.Pool,
    asset_id: UUID,
    job_id: UUID | None,
    error: str,
    *,
    source_probe: dict[str, Any] | None = None,
) -> Asset | None:
    row = await conn.fetchrow(
        f"""
        UPDATE assets
        SET status = $3, error = $5, failed_at = now(), updated_at = now(),
            source_probe = COALESCE($6, source_probe)
        WHERE id = $1 AND ($2::uuid IS NULL OR job_id = $2) AND status = ANY($4::text[])
        RETURNING {_COLUMNS}
        """,
        asset_id, job_id, target(Event.FAIL), sources(Event.FAIL), error[:2000], source_probe,
    )  # fmt: skip
    return Asset.from_row(row) if row else None


async def request_reprocess(
    conn: asyncpg.Connection | asyncpg.Pool, asset_id: UUID
) -> Asset | None:
    """Queue the asset again under a new job id; None if it is not in a state that allows it."""
    row = await conn.fetchrow(
        f"""
        UPDATE assets
        SET status = $2, job_id = $4, progress = 0, error = NULL, updated_at = now()
        WHERE id = $1 AND status = ANY($3::text[])
        RETURNING {_COLUMNS}
        """,
        asset_id, target(Event.REPROCESS), sources(Event.REPROCESS), uuid.uuid4(),
    )  # fmt: skip
    return Asset.from_row(row) if row else None


async def force_requeue(conn: asyncpg.Connection | asyncpg.Pool, asset_id: UUID) -> Asset | None:
    """An operator's override: queue a processing asset again now, whatever its heartbeat."""
    row = await conn.fetchrow("SELECT job_id FROM assets WHERE id = $1 AND status = $2",
                              asset_id, AssetStatus.PROCESSING)  # fmt: skip
    if row is None or row["job_id"] is None:
        return None
    return await requeue(conn, asset_id, row["job_id"], silent_for_s=None)


async def delete(conn: asyncpg.Connection | asyncpg.Pool, asset_id: UUID) -> Asset | None:
    row = await conn.fetchrow(f"DELETE FROM assets WHERE id = $1 RETURNING {_COLUMNS}", asset_id)
    return Asset.from_row(row) if row else None
