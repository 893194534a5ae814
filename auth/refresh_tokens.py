"""Refresh tokens: opaque, stored as their SHA-256, rotated on every use, in families.

A sign-in starts a family (its device session). Each refresh marks the token presented as used
and issues its successor. Presenting a used token again is either two tabs racing (within
``auth.refresh_reuse_grace_s`` of its first use: answered like a first use, with one more
successor, so neither tab is signed out) or a copy of the token in other hands (later): then
the whole family is revoked, the device signed out and the reuse audited (`refresh_reused`),
since nothing tells the thief's copy from the owner's. Two refreshes of one token at the same
moment are serialised by a row lock; the second sees the first's rotation, within the grace.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from uuid import UUID

from aiohttp import web

from auth import audit, session_writes, signout
from auth.resources import DB_POOL_KEY
from streamcore.auth.audit import AuditEvent
from streamcore.web.service import SETTINGS_KEY, Unauthorized


class InvalidRefreshToken(Unauthorized):
    code = "invalid_refresh_token"


class RefreshTokenReused(Unauthorized):
    code = "refresh_token_reused"


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_token() -> tuple[str, bytes]:
    """A token (256 random bits, URL-safe) and what is stored of it."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


@dataclass(frozen=True)
class Exchanged:
    account_id: UUID
    session_id: UUID
    profile_id: UUID | None
    refresh_token: str


async def exchange(app: web.Application, token: str, ip: str | None) -> Exchanged:
    """The successor of `token`; 401 invalid_refresh_token for a token that opens nothing,
    401 refresh_token_reused (the family revoked) for a used one past the grace."""
    settings = app[SETTINGS_KEY].auth
    successor, successor_hash = new_token()
    async with app[DB_POOL_KEY].acquire() as conn, conn.transaction():
        found = await session_writes.lock_presented(
            conn, digest(token), settings.refresh_reuse_grace_s
        )
        if found is None or not found.usable:
            raise InvalidRefreshToken("the refresh token is not valid; sign in again")
        if not found.rotated or found.in_grace:
            await session_writes.rotate(
                conn, digest(token), successor_hash, found.session_id, settings.refresh_ttl_s
            )
            return Exchanged(found.account_id, found.session_id, found.profile_id, successor)
    # A used token, past the grace: committed nothing above; the family goes now.
    actor = f"account:{found.account_id}"
    await audit.record(app, AuditEvent(
        kind="refresh_reused", actor=actor, account_id=found.account_id,
        session_id=found.session_id, ip=ip,
    ))  # fmt: skip
    await signout.sign_out(
        app, found.account_id, "refresh_reused", actor=actor, ip=ip, only=found.session_id
    )
    raise RefreshTokenReused(
        "this refresh token was used already: the device is signed out; sign in again"
    )
