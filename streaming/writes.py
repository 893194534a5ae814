"""Every write of the streaming service, on its own tables (schema ``streaming``): watch
progress, playback events, watch sessions (signed in: the history of stream slots) and
claims of anonymous viewer ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from streaming.queries import SESSION_COLUMNS, session_owner
from streaming.viewer import Viewer

_UPSERT_SET = """
SET position_s = EXCLUDED.position_s,
    duration_s = coalesce(EXCLUDED.duration_s, watch_progress.duration_s),
    session_id = EXCLUDED.session_id, updated_at = EXCLUDED.updated_at
WHERE watch_progress.updated_at < EXCLUDED.updated_at
"""
# A profile's position; an older report (or an older claimed one) never overwrites a newer.
UPSERT_PROFILE = f"""
INSERT INTO watch_progress (profile_id, account_id, asset_id, position_s, duration_s,
                            session_id, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7))
ON CONFLICT (profile_id, asset_id) DO UPDATE {_UPSERT_SET}
"""
UPSERT_VIEWER = f"""
INSERT INTO watch_progress (viewer_id, asset_id, position_s, duration_s, session_id, updated_at)
VALUES ($1, $2, $3, $4, $5, to_timestamp($6))
ON CONFLICT (viewer_id, asset_id) DO UPDATE {_UPSERT_SET}
"""


async def persist_progress(
    pool: asyncpg.Pool,
    viewer: Viewer,
    asset: UUID,
    *,
    position_s: float,
    duration_s: float | None,
    session_id: str | None,
    updated_at: float,
) -> None:
    """Upsert the viewer's position; an older report never overwrites a newer one."""
    if viewer.signed_in:
        await pool.execute(
            UPSERT_PROFILE, viewer.profile_id, viewer.account_id, asset, position_s,
            duration_s, session_id, updated_at,
        )  # fmt: skip
    else:
        await pool.execute(
            UPSERT_VIEWER, viewer.owner, asset, position_s, duration_s, session_id, updated_at
        )


async def start_session(
    pool: asyncpg.Pool,
    session_id: UUID,
    viewer: Viewer,
    asset: UUID,
    *,
    user_agent: str | None = None,
    started_at: datetime | None = None,
) -> asyncpg.Record:
    row: asyncpg.Record = await pool.fetchrow(
        f"""
        INSERT INTO watch_sessions (id, viewer_id, account_id, profile_id, device_id, user_agent,
                                    asset_id, started_at, heartbeat_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8, now()), coalesce($8, now()))
        RETURNING {SESSION_COLUMNS}
        """,
        session_id, viewer.viewer_id, viewer.account_id, viewer.profile_id, viewer.device_id,
        user_agent, asset, started_at,
    )  # fmt: skip
    return row


async def heartbeat(
    pool: asyncpg.Pool,
    session_id: UUID,
    viewer: Viewer,
    position_s: float,
    timeout_s: float | None,
) -> asyncpg.Record | None:
    """The session, kept alive at `position_s`; None if it is not the viewer's or has ended
    (ended explicitly, or silent for `timeout_s`): a heartbeat never revives a session.
    `timeout_s` None: its stream slot, just kept, says it is alive (signed-in sessions)."""
    column, owner = session_owner(viewer)
    row: asyncpg.Record | None = await pool.fetchrow(
        f"""
        UPDATE watch_sessions SET heartbeat_at = now(), position_s = $3
        WHERE id = $1 AND {column} = $2 AND ended_at IS NULL
          AND ($4::float8 IS NULL OR heartbeat_at > now() - make_interval(secs => $4))
        RETURNING {SESSION_COLUMNS}
        """,
        session_id, owner, position_s, timeout_s,
    )  # fmt: skip
    return row


async def end_session(
    pool: asyncpg.Pool, session_id: UUID, viewer: Viewer, timeout_s: float, reason: str = "ended"
) -> bool:
    """End the viewer's session; False if it was not open. One that went silent is recorded
    as ended when it timed out, not now (and as expired)."""
    column, owner = session_owner(viewer)
    row = await pool.fetchrow(
        f"""
        UPDATE watch_sessions
        SET ended_at = least(now(), heartbeat_at + make_interval(secs => $3)),
            end_reason = CASE WHEN heartbeat_at + make_interval(secs => $3) < now()
                              THEN 'expired' ELSE $4 END
        WHERE id = $1 AND {column} = $2 AND ended_at IS NULL
        RETURNING id
        """,
        session_id, owner, timeout_s, reason,
    )  # fmt: skip
    return row is not None


async def end_expired(pool: asyncpg.Pool, session_ids: list[UUID], timeout_s: float) -> None:
    """Sessions whose slots expired: ended when their last heartbeat timed out."""
    if not session_ids:
        return
    await pool.execute(
        """
        UPDATE watch_sessions
        SET ended_at = heartbeat_at + make_interval(secs => $2), end_reason = 'expired'
        WHERE id = ANY($1::uuid[]) AND ended_at IS NULL
        """,
        session_ids, timeout_s,
    )  # fmt: skip


@dataclass(frozen=True)
class Claim:
    # The profile the viewer id belongs to (the caller's, unless claimed before by another).
    profile_id: UUID
    progress: int = 0
    events: int = 0


async def claim_viewer(pool: asyncpg.Pool, viewer_id: UUID, profile: Viewer) -> Claim:
    """Move an anonymous viewer's progress and events to `profile`, in one transaction, unless
    another profile claimed that viewer first. A newer position of the profile's stays."""
    async with pool.acquire() as conn, conn.transaction():
        # The claim's row, locked: concurrent claims of one viewer id take turns.
        owner = await conn.fetchrow(
            """
            INSERT INTO viewer_claims (viewer_id, account_id, profile_id) VALUES ($1, $2, $3)
            ON CONFLICT (viewer_id) DO UPDATE SET claimed_at = viewer_claims.claimed_at
            RETURNING profile_id
            """,
            viewer_id, profile.account_id, profile.profile_id,
        )  # fmt: skip
        if owner["profile_id"] != profile.profile_id:
            return Claim(owner["profile_id"])
        moved = await conn.fetch(
            """
            DELETE FROM watch_progress WHERE viewer_id = $1
            RETURNING asset_id, position_s, duration_s, session_id,
                      extract(epoch FROM updated_at) AS updated_at
            """,
            viewer_id,
        )
        await conn.executemany(
            UPSERT_PROFILE,
            [(profile.profile_id, profile.account_id, r["asset_id"], r["position_s"],
              r["duration_s"], r["session_id"], float(r["updated_at"])) for r in moved],
        )  # fmt: skip
        status = await conn.execute(
            """
            UPDATE playback_events SET profile_id = $2, account_id = $3
            WHERE viewer_id = $1 AND profile_id IS NULL
            """,
            viewer_id, profile.profile_id, profile.account_id,
        )  # fmt: skip
    return Claim(profile.profile_id, len(moved), int(status.split()[-1]))
