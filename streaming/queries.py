"""Every read of the streaming service, on its own tables (schema ``streaming``).

Rows belong to a viewer (streaming/viewer.py): progress and events to a profile or an
anonymous viewer id (``Viewer.column``); sessions to an account (signed in: any of its
profiles and devices may see and end them) or an anonymous viewer id.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from streaming.viewer import Viewer

# A watch session's columns, as every read and write returns them (streaming/sessions.py).
SESSION_COLUMNS = (
    "id, viewer_id, account_id, profile_id, device_id, user_agent, asset_id, started_at, "
    "heartbeat_at, position_s, ended_at, end_reason"
)
# A viewer's sessions at most listed at once: a viewer has a few devices, not hundreds.
MAX_ACTIVE_SESSIONS = 100


def session_owner(viewer: Viewer) -> tuple[str, UUID]:
    """The column and value that make a session the viewer's."""
    if viewer.signed_in:
        assert viewer.account_id is not None
        return "account_id", viewer.account_id
    return "viewer_id", viewer.owner


async def latest_progress(pool: asyncpg.Pool, viewer: Viewer, asset: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await pool.fetchrow(
        f"""
        SELECT position_s, duration_s, session_id, extract(epoch FROM updated_at) AS updated_at
        FROM watch_progress WHERE {viewer.column} = $1 AND asset_id = $2
        """,
        viewer.owner,
        asset,
    )
    return row


async def progress_of(pool: asyncpg.Pool, viewer: Viewer, limit: int) -> list[asyncpg.Record]:
    """The viewer's positions, latest first."""
    rows: list[asyncpg.Record] = await pool.fetch(
        f"""
        SELECT asset_id, position_s, duration_s, session_id,
               extract(epoch FROM updated_at) AS updated_at
        FROM watch_progress WHERE {viewer.column} = $1
        ORDER BY updated_at DESC LIMIT $2
        """,
        viewer.owner,
        limit,
    )
    return rows


async def watched_by(pool: asyncpg.Pool, viewer_id: UUID) -> list[UUID]:
    """The assets an anonymous viewer has progress in."""
    rows = await pool.fetch("SELECT asset_id FROM watch_progress WHERE viewer_id = $1", viewer_id)
    return [row["asset_id"] for row in rows]


async def claim_of(pool: asyncpg.Pool, viewer_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await pool.fetchrow(
        "SELECT account_id, profile_id FROM viewer_claims WHERE viewer_id = $1", viewer_id
    )
    return row


async def session(pool: asyncpg.Pool, session_id: UUID, viewer: Viewer) -> asyncpg.Record | None:
    """The viewer's session, active or not; None if there is none (or it is someone else's)."""
    column, owner = session_owner(viewer)
    row: asyncpg.Record | None = await pool.fetchrow(
        f"SELECT {SESSION_COLUMNS} FROM watch_sessions WHERE id = $1 AND {column} = $2",
        session_id,
        owner,
    )
    return row


async def active_sessions(
    pool: asyncpg.Pool, viewer: Viewer, timeout_s: float
) -> list[asyncpg.Record]:
    """The viewer's sessions neither ended nor silent for `timeout_s`, newest first."""
    column, owner = session_owner(viewer)
    rows: list[asyncpg.Record] = await pool.fetch(
        f"""
        SELECT {SESSION_COLUMNS} FROM watch_sessions
        WHERE {column} = $1 AND ended_at IS NULL
          AND heartbeat_at > now() - make_interval(secs => $2)
        ORDER BY started_at DESC
        LIMIT {MAX_ACTIVE_SESSIONS}
        """,
        owner,
        timeout_s,
    )
    return rows
