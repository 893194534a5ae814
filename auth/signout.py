"""Signing device sessions out: the one way it is done (logout, a device removed, the others
signed out, a reused refresh token).

The sessions are marked signed out and their refresh families revoked in one transaction; then
each is published to the kernel's revocation list (streamcore/auth/revocation.py), which the
decisions that must not outlive a sign-out (playback grants and renewals) consult while its
access tokens live, and each is audited (`device_signed_out`).
"""

from __future__ import annotations

import logging
from uuid import UUID

from aiohttp import web
from redis.exceptions import RedisError

from auth import audit, session_writes
from auth.resources import DB_POOL_KEY, REDIS_KEY
from streamcore.auth import revocation
from streamcore.auth.audit import AuditEvent
from streamcore.web.service import SETTINGS_KEY

log = logging.getLogger(__name__)


async def sign_out(
    app: web.Application,
    account_id: UUID,
    reason: str,
    *,
    actor: str,
    ip: str | None,
    only: UUID | None = None,
    keep: UUID | None = None,
) -> list[UUID]:
    """Sign out the account's device sessions (`only` that one, or all but `keep`); the ids of
    those that were open."""
    async with app[DB_POOL_KEY].acquire() as conn:
        ids = await session_writes.sign_out(conn, account_id, reason, only=only, keep=keep)
    settings = app[SETTINGS_KEY].auth
    for session_id in ids:
        try:
            await revocation.revoke(app[REDIS_KEY], settings, session_id)
        except RedisError as exc:
            # Signed out for good in PostgreSQL (no refresh works); only the early stop of
            # its playback is lost: its access tokens end within auth.access_ttl_s.
            log.error("device session %s: revocation not published (%s)", session_id, exc)
        await audit.record(app, AuditEvent(
            kind="device_signed_out", actor=actor, account_id=account_id,
            session_id=session_id, ip=ip, detail={"reason": reason},
        ))  # fmt: skip
    return ids
