"""WebSocket tickets: a browser cannot send an Authorization header when it opens a WebSocket,
so it first trades its bearer token for a ticket (``POST /v1/ws/tickets``) and puts that in
the socket's URL.

A ticket is 32 random bytes (URL-safe text), kept in Redis for ``notifications.ticket_ttl_s``
with the principal it stands for, and redeemed once: GETDEL, so that a ticket seen in a log or
a proxy's history opens nothing afterwards.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import redis.asyncio as aioredis

from streamcore.auth.principal import Principal
from streamcore.auth.roles import Role

KEY_PREFIX = "notify:ticket:"


@dataclass(frozen=True)
class Ticket:
    value: str
    expires_at: datetime


def _key(value: str) -> str:
    return f"{KEY_PREFIX}{value}"


def _encoded(caller: Principal) -> str:
    def text(value: UUID | None) -> str | None:
        return None if value is None else str(value)

    return json.dumps({
        "role": caller.role, "account_id": text(caller.account_id),
        "profile_id": text(caller.profile_id), "session_id": text(caller.session_id),
        "service": caller.service,
    })  # fmt: skip


def _decoded(raw: bytes | str) -> Principal:
    found = json.loads(raw)

    def uuid_of(name: str) -> UUID | None:
        return None if found[name] is None else UUID(found[name])

    return Principal(
        role=Role(found["role"]), account_id=uuid_of("account_id"),
        profile_id=uuid_of("profile_id"), session_id=uuid_of("session_id"),
        service=found["service"],
    )  # fmt: skip


async def issue(client: aioredis.Redis, caller: Principal, ttl_s: float, now: datetime) -> Ticket:
    """A new ticket for `caller`, valid `ttl_s` from `now`."""
    value = secrets.token_urlsafe(32)
    await client.set(_key(value), _encoded(caller), px=int(ttl_s * 1000))
    return Ticket(value, datetime.fromtimestamp(now.timestamp() + ttl_s, now.tzinfo))


async def redeem(client: aioredis.Redis, value: str) -> Principal | None:
    """The principal of the ticket `value`, once; None for a ticket unknown, expired or used."""
    raw = await client.getdel(_key(value))
    return None if raw is None else _decoded(raw)
