"""Access tokens as this service hands them out: for an account, on a device session, scoped
to a profile (its id and maturity level), with the account's role as it is now. What the
account may play is its subscription's (streamcore/entitlements.py), not the token's."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from auth import queries
from streamcore.auth.roles import Role
from streamcore.auth.tokens import mint
from streamcore.settings import AuthSettings


def access_token(
    settings: AuthSettings,
    account: asyncpg.Record,
    session_id: UUID,
    profile: asyncpg.Record | None,
) -> str:
    token, _ = mint(
        settings, account_id=account["id"], session_id=session_id, role=Role(account["role"]),
        profile_id=profile["id"] if profile else None,
        maturity=profile["maturity"] if profile else None,
    )  # fmt: skip
    return token


async def profile_for(
    pool: asyncpg.Pool, account_id: UUID, wanted: UUID | None
) -> asyncpg.Record | None:
    """The profile `wanted` if the account still has it, else its first profile."""
    if wanted is not None and (found := await queries.profile(pool, account_id, wanted)):
        return found
    rows = await queries.profiles(pool, account_id)
    return rows[0] if rows else None


def tokens_json(
    settings: AuthSettings,
    account: asyncpg.Record,
    session_id: UUID,
    profile: asyncpg.Record | None,
    refresh_token: str,
) -> dict[str, Any]:
    """The body of a sign-in and of a refresh."""
    return {
        "access_token": access_token(settings, account, session_id, profile),
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": settings.access_ttl_s,
        "device_id": str(session_id),
        "profile_id": str(profile["id"]) if profile else None,
    }
