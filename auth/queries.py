"""Every read of the auth service, on its own tables (schema ``auth``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

# An account's columns as every read returns them (auth/accounts.py account_json).
# accounts.tier stays in the table, unused: the subscription decides what an account plays.
ACCOUNT_COLUMNS = "id, email, display_name, role, created_at"
PROFILE_COLUMNS = "id, account_id, name, maturity, language, genres, created_at"
DEVICE_COLUMNS = (
    "id, account_id, profile_id, name, user_agent, ip, created_at, last_seen_at, signed_out_at"
)
AUDIT_COLUMNS = "id, at, kind, actor, account_id, profile_id, session_id, ip, detail"
# A position in a newest-first list: the (created_at or at, id) of the last row handed out.
Position = tuple[datetime, UUID]


async def account_for_login(pool: asyncpg.Pool, email: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await pool.fetchrow(
        f"SELECT {ACCOUNT_COLUMNS}, password_hash FROM accounts WHERE email = $1", email
    )
    return row


async def account(pool: asyncpg.Pool, account_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await pool.fetchrow(
        f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1", account_id
    )
    return row


async def profiles(pool: asyncpg.Pool, account_id: UUID) -> list[asyncpg.Record]:
    """The account's profiles, oldest first (the first is the one a sign-in starts with)."""
    rows: list[asyncpg.Record] = await pool.fetch(
        f"SELECT {PROFILE_COLUMNS} FROM profiles WHERE account_id = $1 ORDER BY created_at, id",
        account_id,
    )
    return rows


async def profile(pool: asyncpg.Pool, account_id: UUID, profile_id: UUID) -> asyncpg.Record | None:
    """The account's profile; None if there is none (or it is another account's)."""
    row: asyncpg.Record | None = await pool.fetchrow(
        f"SELECT {PROFILE_COLUMNS} FROM profiles WHERE id = $1 AND account_id = $2",
        profile_id,
        account_id,
    )
    return row


async def any_profile(pool: asyncpg.Pool, profile_id: UUID) -> asyncpg.Record | None:
    """A profile of any account (admins and services); None if there is none."""
    row: asyncpg.Record | None = await pool.fetchrow(
        f"SELECT {PROFILE_COLUMNS} FROM profiles WHERE id = $1", profile_id
    )
    return row


async def profiles_of(pool: asyncpg.Pool, account_ids: Sequence[UUID]) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await pool.fetch(
        f"SELECT {PROFILE_COLUMNS} FROM profiles WHERE account_id = ANY($1::uuid[]) "
        "ORDER BY created_at, id",
        list(account_ids),
    )
    return rows


async def accounts_by_email(pool: asyncpg.Pool, emails: Sequence[str]) -> dict[str, UUID]:
    """The ids of the accounts with these (normalised) emails, by email."""
    rows = await pool.fetch(
        "SELECT email, id FROM accounts WHERE email = ANY($1::text[])", list(emails)
    )
    return {row["email"]: row["id"] for row in rows}


async def profile_names(
    conn: asyncpg.Pool | asyncpg.Connection, account_ids: Sequence[UUID]
) -> list[asyncpg.Record]:
    """(account_id, id, name) of the accounts' profiles, oldest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT account_id, id, name FROM profiles WHERE account_id = ANY($1::uuid[]) "
        "ORDER BY created_at, id",
        list(account_ids),
    )
    return rows


async def open_devices(pool: asyncpg.Pool, account_id: UUID) -> list[asyncpg.Record]:
    """The account's device sessions not signed out, newest first."""
    rows: list[asyncpg.Record] = await pool.fetch(
        f"""
        SELECT {DEVICE_COLUMNS} FROM device_sessions
        WHERE account_id = $1 AND signed_out_at IS NULL
        ORDER BY created_at DESC, id DESC
        """,
        account_id,
    )
    return rows


async def device(pool: asyncpg.Pool, account_id: UUID, session_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await pool.fetchrow(
        f"SELECT {DEVICE_COLUMNS} FROM device_sessions WHERE id = $1 AND account_id = $2",
        session_id,
        account_id,
    )
    return row


async def accounts_page(
    pool: asyncpg.Pool, q: str | None, limit: int, after: Position | None
) -> list[asyncpg.Record]:
    """Accounts newest first, matching `q` (part of the email or display name), after `after`;
    one row more than `limit`, to tell whether there is a next page."""
    pattern = None if q is None else "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace(
        "_", "\\_") + "%"  # fmt: skip
    rows: list[asyncpg.Record] = await pool.fetch(
        f"""
        SELECT {ACCOUNT_COLUMNS} FROM accounts
        WHERE ($1::text IS NULL OR email ILIKE $1 OR display_name ILIKE $1)
          AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
        ORDER BY created_at DESC, id DESC
        LIMIT $4
        """,
        pattern, after[0] if after else None, after[1] if after else None, limit + 1,
    )  # fmt: skip
    return rows


async def audit_page(
    pool: asyncpg.Pool,
    *,
    account_id: UUID | None,
    kind: str | None,
    since: datetime | None,
    limit: int,
    after: Position | None,
) -> list[asyncpg.Record]:
    """Audit events newest first, filtered, after `after`; one row more than `limit`."""
    rows: list[asyncpg.Record] = await pool.fetch(
        f"""
        SELECT {AUDIT_COLUMNS} FROM audit_events
        WHERE ($1::uuid IS NULL OR account_id = $1)
          AND ($2::text IS NULL OR kind = $2)
          AND ($3::timestamptz IS NULL OR at >= $3)
          AND ($4::timestamptz IS NULL OR (at, id) < ($4, $5))
        ORDER BY at DESC, id DESC
        LIMIT $6
        """,
        account_id, kind, since, after[0] if after else None, after[1] if after else None,
        limit + 1,
    )  # fmt: skip
    return rows
