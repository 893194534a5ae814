"""Signed-out device sessions, shared through Redis so every service can refuse them.

Access tokens are checked locally and live ``auth.access_ttl_s`` at most; a device signed out
before that is remembered here for as long, and the decisions that must not outlive a sign-out
(granting and renewing playback) ask. Ordinary reads do not: they accept the token until it
expires, which is what keeping the check local means.
"""

from __future__ import annotations

from uuid import UUID

import redis.asyncio as aioredis

from streamcore.settings import AuthSettings

_PREFIX = "streamcore:auth:revoked-session:"


def _key(session_id: UUID) -> str:
    return f"{_PREFIX}{session_id}"


async def revoke(client: aioredis.Redis, settings: AuthSettings, session_id: UUID) -> None:
    ttl_s = settings.access_ttl_s + settings.leeway_s
    await client.set(_key(session_id), b"1", ex=ttl_s)


async def is_revoked(client: aioredis.Redis, session_id: UUID) -> bool:
    return bool(await client.exists(_key(session_id)))
