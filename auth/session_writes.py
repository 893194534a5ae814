"""Writes of device sessions and their refresh tokens (schema ``auth``): sign-in, rotation,
reuse, sign-out. The rules are auth/refresh_tokens.py's; this is their SQL."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from auth.queries import DEVICE_COLUMNS


async def open_session(
    pool: asyncpg.Pool,
    *,
    session_id: UUID,
    account_id: UUID,
    profile_id: UUID | None,
    name: str,
    user_agent: str | None,
    ip: str | None,
    token_hash: bytes,
    ttl_s: int,
) -> None:
    """A new device session with the first refresh token of its family."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """
            INSERT INTO device_sessions (id, account_id, profile_id, name, user_agent, ip)
            VALUES ($1, $2, $3, $4, $5, $6)
            """,
            session_id, account_id, profile_id, name, user_agent, ip,
        )  # fmt: skip
        await _insert_token(conn, token_hash, session_id, None, ttl_s)


async def _insert_token(
    conn: asyncpg.Connection, token_hash: bytes, session_id: UUID, parent: bytes | None, ttl_s: int
) -> None:
    await conn.execute(
        """
        INSERT INTO refresh_tokens (token_hash, session_id, parent_hash, expires_at)
        VALUES ($1, $2, $3, now() + make_interval(secs => $4))
        """,
        token_hash, session_id, parent, float(ttl_s),
    )  # fmt: skip


@dataclass(frozen=True)
class Presented:
    """What the database says of a presented refresh token (locked for the transaction)."""

    session_id: UUID
    account_id: UUID
    profile_id: UUID | None
    usable: bool  # not expired, not revoked, its device session not signed out
    rotated: bool  # used before
    in_grace: bool  # rotated, but within the grace


async def lock_presented(
    conn: asyncpg.Connection, token_hash: bytes, grace_s: float
) -> Presented | None:
    """The token, locked until the transaction ends; None if no such token was ever issued.
    A second refresh of one token waits here for the first to commit, then sees its rotation."""
    if await conn.fetchval(
        "SELECT 1 FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE", token_hash
    ) is None:  # fmt: skip
        return None
    # A statement of its own: it sees what a concurrent refresh committed while we waited.
    row = await conn.fetchrow(
        """
        SELECT t.session_id, s.account_id, s.profile_id,
               t.expires_at > clock_timestamp() AND t.revoked_at IS NULL
                   AND s.signed_out_at IS NULL AS usable,
               t.rotated_at IS NOT NULL AS rotated,
               coalesce(t.rotated_at > clock_timestamp() - make_interval(secs => $2), false)
                   AS in_grace
        FROM refresh_tokens t JOIN device_sessions s ON s.id = t.session_id
        WHERE t.token_hash = $1
        """,
        token_hash, grace_s,
    )  # fmt: skip
    return Presented(**dict(row))


async def rotate(
    conn: asyncpg.Connection, presented: bytes, successor: bytes, session_id: UUID, ttl_s: int
) -> None:
    """Mark `presented` used (keeping the time of its first use: the grace never grows) and
    issue `successor` in its family; the device was seen now."""
    await conn.execute(
        "UPDATE refresh_tokens SET rotated_at = coalesce(rotated_at, now()) WHERE token_hash = $1",
        presented,
    )
    await _insert_token(conn, successor, session_id, presented, ttl_s)
    await conn.execute("UPDATE device_sessions SET last_seen_at = now() WHERE id = $1", session_id)


async def sign_out(
    conn: asyncpg.Connection,
    account_id: UUID,
    reason: str,
    *,
    only: UUID | None = None,
    keep: UUID | None = None,
) -> list[UUID]:
    """Sign out the account's open device sessions (`only` that one, or all but `keep`) and
    revoke their refresh tokens; the ids of those signed out now."""
    async with conn.transaction():
        rows = await conn.fetch(
            """
            UPDATE device_sessions SET signed_out_at = now(), signed_out_reason = $2
            WHERE account_id = $1 AND signed_out_at IS NULL
              AND ($3::uuid IS NULL OR id = $3) AND ($4::uuid IS NULL OR id <> $4)
            RETURNING id
            """,
            account_id, reason, only, keep,
        )  # fmt: skip
        ids: list[UUID] = [row["id"] for row in rows]
        if ids:
            await conn.execute(
                "UPDATE refresh_tokens SET revoked_at = now() "
                "WHERE session_id = ANY($1::uuid[]) AND revoked_at IS NULL",
                ids,
            )
    return ids


async def select_profile(
    pool: asyncpg.Pool, account_id: UUID, session_id: UUID, profile_id: UUID
) -> asyncpg.Record | None:
    """The open device session, now on `profile_id` (its refreshes keep it); None if it is
    signed out (a signed-out device gets no new tokens) or not the account's."""
    row: asyncpg.Record | None = await pool.fetchrow(
        f"""
        UPDATE device_sessions SET profile_id = $3, last_seen_at = now()
        WHERE id = $1 AND account_id = $2 AND signed_out_at IS NULL
        RETURNING {DEVICE_COLUMNS}
        """,
        session_id, account_id, profile_id,
    )  # fmt: skip
    return row
