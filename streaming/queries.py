"""Every read of the streaming service, on its own tables (schema ``streaming``)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

# A watch session's columns, as every read and write returns them (streaming/sessions.py).
SESSION_COLUMNS = "id, viewer_id, asset_id, started_at, heartbeat_at, position_s, ended_at"
# A viewer's sessions at most listed at once: a viewer has a few devices, not hundreds.
MAX_ACTIVE_SESSIONS = 100


async def latest_progress(pool: asyncpg.Pool, viewer: UUID, asset: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await pool.fetchrow(
        """
        SELECT position_s, duration_s, session_id, extract(epoch FROM updated_at) AS updated_at
        FROM watch_progress WHERE viewer_id = $1 AND asset_id = $2
        """,
        viewer,
        asset,
    )
    return row


async def session(pool: asyncpg.Pool, session_id: UUID, viewer: UUID) -> asyncpg.Record | None:
    """The viewer's session, active or not; None if there is none (or it is someone else's)."""
    row: asyncpg.Record | None = await pool.fetchrow(
        f"SELECT {SESSION_COLUMNS} FROM watch_sessions WHERE id = $1 AND viewer_id = $2",
        session_id,
        viewer,
    )
    return row


async def active_sessions(
    pool: asyncpg.Pool, viewer: UUID, timeout_s: float
) -> list[asyncpg.Record]:
    """The viewer's sessions neither ended nor silent for `timeout_s`, newest first."""
    rows: list[asyncpg.Record] = await pool.fetch(
        f"""
        SELECT {SESSION_COLUMNS} FROM watch_sessions
        WHERE viewer_id = $1 AND ended_at IS NULL
          AND heartbeat_at > now() - make_interval(secs => $2)
        ORDER BY started_at DESC
        LIMIT {MAX_ACTIVE_SESSIONS}
        """,
        viewer,
        timeout_s,
    )
    return rows
