"""Writes of accounts, profiles, failed sign-ins and the audit log (schema ``auth``).

Device sessions and refresh tokens have theirs in auth/session_writes.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg

from auth.queries import ACCOUNT_COLUMNS, PROFILE_COLUMNS, profile_names
from streamcore.auth.audit import AuditEvent

_COUNT_PROFILES = "SELECT count(*) FROM profiles WHERE account_id = $1"


class EmailTaken(Exception):
    pass


class TooManyProfiles(Exception):
    pass


class LastProfile(Exception):
    pass


async def create_account(
    conn: asyncpg.Connection,
    *,
    account_id: UUID,
    email: str,
    display_name: str,
    role: str,
    password_hash: str,
    profile: tuple[UUID, str, str, str],
) -> asyncpg.Record:
    """The account with its first profile (id, name, maturity, language); EmailTaken if an
    account has the (normalised) address already."""
    async with conn.transaction():
        try:
            row: asyncpg.Record = await conn.fetchrow(
                f"""
                INSERT INTO accounts (id, email, display_name, role, password_hash)
                VALUES ($1, $2, $3, $4, $5) RETURNING {ACCOUNT_COLUMNS}
                """,
                account_id, email, display_name, role, password_hash,
            )  # fmt: skip
        except asyncpg.UniqueViolationError:
            raise EmailTaken(email) from None
        await conn.execute(
            "INSERT INTO profiles (id, account_id, name, maturity, language) "
            "VALUES ($1, $2, $3, $4, $5)",
            profile[0], account_id, *profile[1:],
        )  # fmt: skip
    return row


async def set_password_hash(pool: asyncpg.Pool, account_id: UUID, password_hash: str) -> None:
    await pool.execute(
        "UPDATE accounts SET password_hash = $2, updated_at = now() WHERE id = $1",
        account_id, password_hash,
    )  # fmt: skip


async def update_account(
    pool: asyncpg.Pool, account_id: UUID, role: str | None, password_hash: str | None = None
) -> tuple[asyncpg.Record, asyncpg.Record] | None:
    """(before, after) of the account with the role and password hash given changed; None if
    unknown."""
    async with pool.acquire() as conn, conn.transaction():
        before = await conn.fetchrow(
            f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1 FOR UPDATE", account_id
        )
        if before is None:
            return None
        after = await conn.fetchrow(
            f"""
            UPDATE accounts SET role = coalesce($2, role),
                                password_hash = coalesce($3, password_hash), updated_at = now()
            WHERE id = $1 RETURNING {ACCOUNT_COLUMNS}
            """,
            account_id, role, password_hash,
        )  # fmt: skip
    return before, after


async def create_profile(
    pool: asyncpg.Pool,
    account_id: UUID,
    profile_id: UUID,
    name: str,
    maturity: str,
    language: str,
    max_profiles: int,
    genres: Sequence[str] = (),
) -> asyncpg.Record:
    """A new profile of the account; TooManyProfiles at `max_profiles`. The account row is
    locked while counting, so concurrent creations cannot pass the limit together."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", account_id)
        count = await conn.fetchval(_COUNT_PROFILES, account_id)
        if count >= max_profiles:
            raise TooManyProfiles()
        return await insert_profile(conn, account_id, profile_id, name, maturity, language, genres)


async def insert_profile(
    conn: asyncpg.Connection,
    account_id: UUID,
    profile_id: UUID,
    name: str,
    maturity: str,
    language: str,
    genres: Sequence[str] = (),
) -> asyncpg.Record:
    """The profile inserted; the caller holds the account's row lock and checked the limit."""
    row: asyncpg.Record = await conn.fetchrow(
        f"""
        INSERT INTO profiles (id, account_id, name, maturity, language, genres)
        VALUES ($1, $2, $3, $4, $5, $6) RETURNING {PROFILE_COLUMNS}
        """,
        profile_id, account_id, name, maturity, language, list(genres),
    )  # fmt: skip
    return row


async def update_profile(
    pool: asyncpg.Pool, account_id: UUID, profile_id: UUID, changes: dict[str, Any]
) -> asyncpg.Record | None:
    """The profile with `changes` (name, maturity, language, genres) made; None if not the
    account's."""
    row: asyncpg.Record | None = await pool.fetchrow(
        f"""
        UPDATE profiles SET name = coalesce($3, name), maturity = coalesce($4, maturity),
                            language = coalesce($5, language),
                            genres = coalesce($6::text[], genres)
        WHERE id = $1 AND account_id = $2 RETURNING {PROFILE_COLUMNS}
        """,
        profile_id, account_id, changes.get("name"), changes.get("maturity"),
        changes.get("language"), changes.get("genres"),
    )  # fmt: skip
    return row


async def delete_profile(pool: asyncpg.Pool, account_id: UUID, profile_id: UUID) -> bool:
    """Delete the account's profile; False if it has none by that id; LastProfile if it is the
    only one (an account always has a profile to sign in to)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", account_id)
        exists = await conn.fetchval(
            "SELECT 1 FROM profiles WHERE id = $1 AND account_id = $2", profile_id, account_id
        )
        if exists is None:
            return False
        count = await conn.fetchval(_COUNT_PROFILES, account_id)
        if count <= 1:
            raise LastProfile()
        await conn.execute("DELETE FROM profiles WHERE id = $1", profile_id)
    return True


@dataclass
class Ensured:
    """An account made sure of, with the profiles asked for: by name, its id and whether it
    was created now, or why there is none ("ambiguous", "too_many")."""

    account_id: UUID
    created: bool
    profiles: dict[str, tuple[UUID, bool] | str] = field(default_factory=dict)


_INSERT_BARE_ACCOUNT = """
    INSERT INTO accounts (id, email, display_name, role, password_hash)
    VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (email) DO NOTHING RETURNING id
"""


async def _lock_or_create(
    conn: asyncpg.Connection, email: str, display_name: str, role: str
) -> tuple[UUID, bool]:
    """The account with `email`, locked, made (without a password) if there is none. A
    concurrent creation of the same address waits for ours, or ours for it (the unique
    index): either way one account, whose row we then hold."""
    while True:
        created = await conn.fetchval(_INSERT_BARE_ACCOUNT, uuid.uuid4(), email, display_name, role)
        if created is not None:
            return created, True
        found = await conn.fetchval("SELECT id FROM accounts WHERE email = $1 FOR UPDATE", email)
        if found is not None:  # else deleted between the two: try again
            return found, False


async def ensure_profiles(
    conn: asyncpg.Connection,
    *,
    email: str,
    display_name: str,
    role: str,
    names: Sequence[str],
    defaults: tuple[str, str],
    max_profiles: int,
) -> Ensured:
    """In one transaction, with the account's row locked: the account with `email` (created
    without a password if missing) and a profile by each of `names` (matched exactly; created
    with `defaults` (maturity, language) when missing, up to `max_profiles`)."""
    async with conn.transaction():
        account_id, created = await _lock_or_create(conn, email, display_name, role)
        existing: dict[str, list[UUID]] = {}
        for row in await profile_names(conn, [account_id]):
            existing.setdefault(row["name"], []).append(row["id"])
        count = sum(len(ids) for ids in existing.values())
        ensured = Ensured(account_id, created)
        for name in dict.fromkeys(names):
            ids = existing.get(name, [])
            if len(ids) > 1:
                ensured.profiles[name] = "ambiguous"
            elif ids:
                ensured.profiles[name] = (ids[0], False)
            elif count >= max_profiles:
                ensured.profiles[name] = "too_many"
            else:
                row = await insert_profile(conn, account_id, uuid.uuid4(), name, *defaults)
                ensured.profiles[name], count = (row["id"], True), count + 1
    return ensured


async def record_login_failure(
    pool: asyncpg.Pool, email: str, account_id: UUID | None, ip: str | None, reason: str
) -> None:
    await pool.execute(
        "INSERT INTO login_failures (email, account_id, ip, reason) VALUES ($1, $2, $3, $4)",
        email, account_id, ip, reason,
    )  # fmt: skip


async def append_audit(pool: asyncpg.Pool, events: Sequence[AuditEvent]) -> None:
    """Append the events; one already recorded (a redelivery) is left as it is."""
    rows = [
        (e.id, e.at, e.kind, e.actor, e.account_id, e.profile_id, e.session_id, e.ip,
         json.loads(json.dumps(e.detail, default=str)))
        for e in events
    ]  # fmt: skip
    await pool.executemany(
        """
        INSERT INTO audit_events (id, at, kind, actor, account_id, profile_id, session_id, ip,
                                  detail)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (id) DO NOTHING
        """,
        rows,
    )
