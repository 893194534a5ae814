"""The collector, ``POST /v1/events``: thin and always up. It validates a batch, appends each
event to the Redis stream (analytics/keys.py) in one pipeline and answers 202; the processor
does everything else. PostgreSQL is not on this path, so a slow database never slows players.

Three body forms, because browsers cannot set headers on `navigator.sendBeacon`:

- ``application/json``: the batch, with the caller in ``Authorization: Bearer``;
- ``application/x-www-form-urlencoded``: ``batch=<the JSON batch>`` and, optionally,
  ``access_token=<JWT>`` (RFC 6750 §2.2), verified by the kernel's one verifier exactly as a
  bearer header would be;
- ``text/plain``: the JSON batch (an anonymous beacon).

A signed-in caller's events are its profile's; an anonymous caller names its viewer id in the
batch (400 without one), where ``auth.allow_anonymous_playback`` allows anonymous playback.
"""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from pydantic import ValidationError
from redis.exceptions import RedisError

from analytics import keys
from analytics.models import EventBatch, StreamEvent
from analytics.resources import REDIS_KEY
from streamcore.auth.middleware import authenticate_credentials
from streamcore.auth.principal import PRINCIPAL_KEY, Principal, principal
from streamcore.auth.roles import Permission, grants
from streamcore.web.service import (
    SETTINGS_KEY,
    Forbidden,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)
from streamcore.web.validation import from_validation_error, invalid

routes = web.RouteTableDef()
FORM = "application/x-www-form-urlencoded"


async def _batch_and_token(request: web.Request) -> tuple[bytes | str, str | None]:
    """The batch's JSON text and a form's access token, whatever the body's form."""
    kind = request.content_type
    if kind == FORM:
        form = await request.post()
        batch, token = form.get("batch"), form.get("access_token")
        if not isinstance(batch, str) or not batch:
            raise invalid("batch", "send the JSON batch as the form field `batch`")
        if token is not None and not isinstance(token, str):
            raise invalid("access_token", "must be a text field")
        return batch, token or None
    if kind in ("application/json", "text/plain", "application/octet-stream"):
        return await request.read(), None
    raise UnsupportedMediaType(f"send application/json, text/plain or {FORM}, not {kind}")


async def _caller(request: web.Request, token: str | None) -> Principal:
    """The caller: the middleware's (header), or the form's access token's."""
    if token is not None:
        if "Authorization" in request.headers:
            # RFC 6750 §2: a client must not use more than one method to send its token.
            raise invalid("access_token", "send the token in the header or the body, not both")
        request[PRINCIPAL_KEY] = await authenticate_credentials(request, token)
    caller = principal(request)
    # The route is public in the permission table because a beacon's token is in its body,
    # where the authorization middleware cannot see it: PLAY is checked here instead.
    anonymous_playback = request.app[SETTINGS_KEY].auth.allow_anonymous_playback
    if not grants(caller.role, Permission.PLAY, anonymous_playback=anonymous_playback):
        raise Unauthorized("sign in first: send an access token", headers={
            "WWW-Authenticate": 'Bearer realm="streamcore"'})  # fmt: skip
    return caller


def _owner(caller: Principal, batch: EventBatch) -> dict[str, Any]:
    """Whose the events are: the signed-in profile's, else the batch's viewer id."""
    if caller.anonymous:
        if batch.viewer_id is None:
            raise invalid("viewer_id", "send the viewer id from POST /v1/viewers")
        return {"viewer_id": batch.viewer_id}
    if caller.account_id is None:
        raise Forbidden("a service account watches nothing; sign in as a person")
    return {"profile_id": caller.profile_id, "account_id": caller.account_id}


# Events this far in the future are refused (a client's clock, not a day to make a partition for).
FUTURE_MS = 86_400_000


def stream_events(
    batch: EventBatch, owner: dict[str, Any], now_ms: int, retention_days: int
) -> list[StreamEvent]:
    """The batch's events as the processor reads them from the stream; 400 for an event
    older than retention (it could never be stored) or more than a day ahead."""
    oldest = now_ms - retention_days * 86_400_000
    events = []
    for index, event in enumerate(batch.events):
        if not oldest <= event.at <= now_ms + FUTURE_MS:
            raise invalid(f"events.{index}.at", "must be within retention and not a day ahead")
        events.append(StreamEvent(
            id=event.event_id(batch.session_id), at=event.at, type=event.type,
            session_id=batch.session_id, asset_id=batch.asset_id, position_s=event.position_s,
            detail=event.detail, received_at=now_ms, **owner,
        ))  # fmt: skip
    return events


async def append(client: aioredis.Redis, events: list[StreamEvent], max_len: int) -> None:
    """XADD every event in one pipeline, the stream capped (approximately) at `max_len`."""
    async with client.pipeline(transaction=False) as pipe:
        for event in events:
            pipe.xadd(
                keys.STREAM, {keys.FIELD: event.model_dump_json()},
                maxlen=max_len, approximate=True,
            )  # fmt: skip
        await pipe.execute()


@routes.post("/v1/events")
async def post_events(request: web.Request) -> web.Response:
    raw, token = await _batch_and_token(request)
    caller = await _caller(request, token)
    try:
        batch = EventBatch.model_validate_json(raw)
    except ValidationError as exc:
        raise from_validation_error(exc, "body") from None
    settings = request.app[SETTINGS_KEY]
    events = stream_events(
        batch, _owner(caller, batch), int(time.time() * 1000), settings.analytics.retention_days
    )
    try:
        await append(request.app[REDIS_KEY], events, settings.analytics.stream_max_len)
    except (RedisError, OSError) as exc:
        raise ServiceUnavailable(
            f"events cannot be queued right now ({type(exc).__name__})",
            headers={"Retry-After": "2"},
        ) from None
    return web.json_response({"accepted": len(events)}, status=202)
