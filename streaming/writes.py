"""Every write of the streaming service, on its own tables (schema ``streaming``): watch
progress, playback events and watch sessions."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from streaming.models import EventBatch
from streaming.queries import SESSION_COLUMNS


async def persist_progress(
    pool: asyncpg.Pool,
    viewer: UUID,
    asset: UUID,
    *,
    position_s: float,
    duration_s: float | None,
    session_id: str | None,
    updated_at: float,
) -> None:
    """Upsert the viewer's position; an older report never overwrites a newer one."""
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
        viewer, asset, position_s, duration_s, session_id, updated_at,
    )  # fmt: skip


async def record_events(pool: asyncpg.Pool, batch: EventBatch) -> int:
    """Store every event of the batch in one statement; how many were stored."""
    rows = [
        (batch.viewer_id, batch.session_id, batch.asset_id, event.type.value, event.position_s,
         datetime.fromtimestamp(event.at / 1000, UTC), event.detail)
        for event in batch.events
    ]  # fmt: skip
    await pool.executemany(
        """
        INSERT INTO playback_events (viewer_id, session_id, asset_id, type, position_s, at, detail)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        rows,
    )
    return len(rows)


async def start_session(
    pool: asyncpg.Pool, session_id: UUID, viewer: UUID, asset: UUID
) -> asyncpg.Record:
    row: asyncpg.Record = await pool.fetchrow(
        f"INSERT INTO watch_sessions (id, viewer_id, asset_id) VALUES ($1, $2, $3) "
        f"RETURNING {SESSION_COLUMNS}",
        session_id, viewer, asset,
    )  # fmt: skip
    return row


async def heartbeat(
    pool: asyncpg.Pool, session_id: UUID, viewer: UUID, position_s: float, timeout_s: float
) -> asyncpg.Record | None:
    """The session, kept alive at `position_s`; None if it is not the viewer's or has ended
    (ended explicitly, or silent for `timeout_s`): a heartbeat never revives a session."""
    row: asyncpg.Record | None = await pool.fetchrow(
        f"""
        UPDATE watch_sessions SET heartbeat_at = now(), position_s = $3
        WHERE id = $1 AND viewer_id = $2 AND ended_at IS NULL
          AND heartbeat_at > now() - make_interval(secs => $4)
        RETURNING {SESSION_COLUMNS}
        """,
        session_id, viewer, position_s, timeout_s,
    )  # fmt: skip
    return row


async def end_session(pool: asyncpg.Pool, session_id: UUID, viewer: UUID, timeout_s: float) -> bool:
    """End the viewer's session; False if it was not open. One that went silent is recorded
    as ended when it timed out, not now."""
    row = await pool.fetchrow(
        """
        UPDATE watch_sessions
        SET ended_at = least(now(), heartbeat_at + make_interval(secs => $3))
        WHERE id = $1 AND viewer_id = $2 AND ended_at IS NULL
        RETURNING id
        """,
        session_id, viewer, timeout_s,
    )  # fmt: skip
    return row is not None
