"""The audit log: recording this service's own events, and reading the log (admins).

Every event, this service's included, goes through the kernel's Redis stream
(streamcore/auth/audit.py) and into ``audit_events`` by auth/audit_consumer.py, so the table
has one writer. If the stream cannot take an event (Redis down), it is appended directly: the
event id makes it harmless should it arrive both ways.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

import asyncpg
from aiohttp import web
from redis.exceptions import RedisError

from auth import queries, writes
from auth.caller import ip_of
from auth.models import AuditParams
from auth.resources import DB_POOL_KEY, REDIS_KEY
from streamcore.auth.audit import AuditEvent, publish
from streamcore.auth.principal import principal
from streamcore.web import cursors
from streamcore.web.validation import query_params

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
_CURSOR = "audit"


async def record(app: web.Application, event: AuditEvent) -> None:
    try:
        await publish(app[REDIS_KEY], event)
    except RedisError as exc:
        log.warning("audit %s: the stream is unavailable (%s); appending directly", event.kind, exc)
        await writes.append_audit(app[DB_POOL_KEY], [event])


async def record_request(
    request: web.Request,
    kind: str,
    *,
    account_id: UUID | None = None,
    profile_id: UUID | None = None,
    session_id: UUID | None = None,
    actor: str | None = None,
    **detail: Any,
) -> None:
    """An event about `request`: its caller is the actor (unless told), its client IP the IP."""
    event = AuditEvent(
        kind=kind, actor=actor or principal(request).actor, account_id=account_id,
        profile_id=profile_id, session_id=session_id, ip=ip_of(request), detail=detail,
    )  # fmt: skip
    await record(request.app, event)


def event_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]), "at": row["at"].isoformat(), "kind": row["kind"],
        "actor": row["actor"],
        **{k: None if row[k] is None else str(row[k])
           for k in ("account_id", "profile_id", "session_id")},
        "ip": row["ip"], "detail": row["detail"],
    }  # fmt: skip


@routes.get("/v1/admin/audit")
async def read_audit(request: web.Request) -> web.Response:
    params = query_params(request, AuditParams)
    rows = await queries.audit_page(
        request.app[DB_POOL_KEY], account_id=params.account, kind=params.kind,
        since=params.since, limit=params.limit, after=cursors.decode(_CURSOR, params.cursor),
    )  # fmt: skip
    page, more = rows[: params.limit], len(rows) > params.limit
    last = page[-1] if page else None
    body = {
        "items": [event_json(row) for row in page],
        "next_cursor": cursors.encode(_CURSOR, last["at"], last["id"]) if more and last else None,
    }
    return web.json_response(body, headers={"Cache-Control": "private, no-store"})
