"""Signed-in watch sessions: each holds one of its account's stream slots (streaming/slots.py).

- Start: the device must not be signed out, the asset must be playable, within the
  profile's maturity and the account's plan (streaming/entitlement.py: 403 ``not_entitled``);
  then the slot is taken, or refused with 409 ``too_many_streams`` (beyond the plan's
  ``streams``) naming the streams that hold the account's slots (any device of the account
  may end one with DELETE /v1/sessions/{id}); then the session's row is written (the slot's
  history) and playback URLs valid ``streaming.playback_token_ttl_s``, opening the plan's
  renditions, are handed out, and audited.
- Heartbeat (every ``streaming.heartbeat_s``): keeps the slot and renews the URLs, only while
  the slot is held and neither the caller's device nor the session's has been signed out;
  otherwise the slot is released and the answer is 409 ``session_ended``. The renewal asks
  the plan again: access removed (403 ``not_entitled``) or the title now above the profile's
  maturity (403 ``restricted``) ends the session, and the URLs it has lapse within their
  lifetime. A subscriptions service that cannot answer is a 503: the slot stays.
- End: frees the slot (ended by its own device, or stopped from another).

Redis holds the live slots, PostgreSQL their history (watch_sessions: started, last heartbeat,
ended, why). A slot that went silent for ``streaming.slot_timeout_s`` is dropped by the next
operation on the account's slots (or its own late heartbeat), and its row records it as
expired then; if none comes before Redis lets the account's keys expire, the row stays open,
and ``heartbeat_at + slot_timeout_s`` is when it ended.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from aiohttp import web

from streamcore.entitlements_client import EntitlementsUnavailable
from streamcore.web.service import SETTINGS_KEY, ApiError, Conflict, NotFound
from streaming import entitlement, grants, progress, queries, writes
from streaming.catalog_client import CatalogAsset
from streaming.entitlement import NotEntitled, Playback
from streaming.history import reporting
from streaming.playback import known_asset, playable, signed
from streaming.resources import DB_POOL_KEY, METRICS_KEY, REDIS_KEY, SLOTS_KEY
from streaming.slots import Outcome, Slot
from streaming.viewer import Viewer

log = logging.getLogger(__name__)

# A session is one viewer's: never kept by a shared cache.
PRIVATE = {"Cache-Control": "private, no-store"}
_MAX_USER_AGENT = 512


class SessionEnded(Conflict):
    code = "session_ended"


class TooManyStreams(Conflict):
    code = "too_many_streams"


# Why a renewal refused ends the session (watch_sessions.end_reason); other errors: "ended".
_END_REASONS: dict[type[ApiError], str] = {
    grants.Restricted: "restricted",
    NotEntitled: "not_entitled",
}


def session_json(row: asyncpg.Record, timeout_s: float, heartbeat_s: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "session_id": str(row["id"]),
        "asset_id": str(row["asset_id"]),
        "started_at": row["started_at"].isoformat(),
        "heartbeat_at": row["heartbeat_at"].isoformat(),
        "position_s": row["position_s"],
        "expires_at": (row["heartbeat_at"] + timedelta(seconds=timeout_s)).isoformat(),
        "heartbeat_s": heartbeat_s,
    }
    if row["account_id"] is not None:
        body.update(
            profile_id=str(row["profile_id"]), user_agent=row["user_agent"],
            device_id=str(row["device_id"]) if row["device_id"] else None,
        )  # fmt: skip
    return body


def _account(viewer: Viewer) -> UUID:
    assert viewer.account_id is not None
    return viewer.account_id


async def _settled(app: web.Application, outcome: Outcome) -> Outcome:
    """The outcome, once the slots it found expired are recorded as such."""
    timeout_s = app[SETTINGS_KEY].streaming.slot_timeout_s
    await writes.end_expired(app[DB_POOL_KEY], outcome.expired, timeout_s)
    return outcome


async def start(request: web.Request, viewer: Viewer, asset_id: UUID) -> web.Response:
    app, settings = request.app, request.app[SETTINGS_KEY]
    await grants.not_signed_out(app, viewer)
    asset = await playable(app, asset_id)
    grants.may_watch(app, viewer, asset)
    grant = await entitlement.of_account(app, _account(viewer), asset)
    session_id, started = uuid.uuid4(), datetime.now(UTC)
    user_agent = request.headers.get("User-Agent", "")[:_MAX_USER_AGENT] or None
    slot = Slot(
        session_id=str(session_id), asset_id=str(asset_id), profile_id=str(viewer.profile_id),
        device_id=str(viewer.device_id) if viewer.device_id else None,
        user_agent=user_agent, started_at=started.isoformat(),
    )  # fmt: skip
    limit = grant.streams
    outcome = await _settled(app, await app[SLOTS_KEY].acquire(_account(viewer), slot, limit))
    app[METRICS_KEY].slot_requests.labels("granted" if outcome.ok else "refused").inc()
    if not outcome.ok:
        raise TooManyStreams(
            f"this account plays at most {limit} streams at once; stop one to start another",
            extra={"limit": limit, "streams": [held.to_json() for held in outcome.holders]},
        )
    try:
        row = await writes.start_session(
            app[DB_POOL_KEY], session_id, viewer, asset_id, user_agent=user_agent,
            started_at=started,
        )  # fmt: skip
    except Exception:
        await app[SLOTS_KEY].release(_account(viewer), session_id)
        raise
    playback = signed(app, asset, settings.streaming.playback_token_ttl_s, grant, session_id)
    await grants.audit_grant(request, viewer, asset_id, session_id)
    body = {
        "session_id": str(session_id), "asset_id": str(asset_id),
        "started_at": row["started_at"].isoformat(),
        "heartbeat_s": settings.streaming.heartbeat_s, "playback": playback,
    }  # fmt: skip
    headers = {**PRIVATE, "Location": f"/v1/sessions/{session_id}"}
    return web.json_response(body, status=201, headers=headers)


async def _finish(app: web.Application, viewer: Viewer, session_id: UUID, reason: str) -> None:
    """Release the session's slot and record why it ended."""
    await _settled(app, await app[SLOTS_KEY].release(_account(viewer), session_id))
    timeout_s = app[SETTINGS_KEY].streaming.slot_timeout_s
    await writes.end_session(app[DB_POOL_KEY], session_id, viewer, timeout_s, reason)


async def heartbeat(
    request: web.Request, viewer: Viewer, session_id: UUID, position_s: float
) -> dict[str, Any]:
    app, section = request.app, request.app[SETTINGS_KEY].streaming
    pool = app[DB_POOL_KEY]
    row = await queries.session(pool, session_id, viewer)
    if row is None:
        raise NotFound(f"no session with id {session_id}")
    if row["ended_at"] is not None:
        raise SessionEnded("the session has ended; start a new one")
    if await grants.signed_out(app, viewer.device_id, row["device_id"]):
        await _finish(app, viewer, session_id, "revoked")
        raise SessionEnded("the device has been signed out; its stream has stopped")
    outcome = await _settled(app, await app[SLOTS_KEY].beat(_account(viewer), session_id))
    if not outcome.ok:
        await writes.end_expired(pool, [session_id], section.slot_timeout_s)
        raise SessionEnded("the stream slot expired without heartbeats; start a new session")
    asset, grant = await _renewal(app, viewer, session_id, row["asset_id"])
    beat = await writes.heartbeat(pool, session_id, viewer, position_s, None)
    if beat is None:  # ended by a DELETE meanwhile
        await _finish(app, viewer, session_id, "ended")
        raise SessionEnded("the session has ended; start a new one")
    return {
        **session_json(beat, section.slot_timeout_s, section.heartbeat_s),
        "playback": signed(app, asset, section.playback_token_ttl_s, grant, session_id),
    }


async def _renewal(
    app: web.Application, viewer: Viewer, session_id: UUID, asset_id: UUID
) -> tuple[CatalogAsset, Playback]:
    """What a heartbeat renews: decided again, as at the start; a refusal ends the session."""
    try:
        asset = await playable(app, asset_id, fresh=False)
        grants.may_watch(app, viewer, asset)
        return asset, await entitlement.of_account(app, _account(viewer), asset)
    except EntitlementsUnavailable:
        raise  # the subscriptions service is down, not the viewer's access: retried
    except ApiError as exc:
        await _finish(app, viewer, session_id, _END_REASONS.get(type(exc), "ended"))
        raise


async def end(request: web.Request, viewer: Viewer, session_id: UUID) -> None:
    row = await queries.session(request.app[DB_POOL_KEY], session_id, viewer)
    if row is None:
        raise NotFound(f"no session with id {session_id}")
    # Ended again (a retried DELETE) is done, too.
    reason = "ended" if row["device_id"] == viewer.device_id else "stopped"
    await _finish(request.app, viewer, session_id, reason)
    if row["ended_at"] is None:
        await _keep_final_position(request.app, viewer, row)


async def _keep_final_position(app: web.Application, viewer: Viewer, row: asyncpg.Record) -> None:
    """The session's last heartbeat's position goes to the history, as of that heartbeat; a
    newer progress report of the player's, if any, stays (the newest wins)."""
    if row["position_s"] is None:
        return
    try:
        asset = await known_asset(app, row["asset_id"])
        last = await progress.latest(app[DB_POOL_KEY], app[REDIS_KEY], viewer, row["asset_id"])
    except ApiError as exc:  # the catalog cannot say: the player's own reports stand
        log.warning("session %s: final position not kept (%s)", row["id"], exc.message)
        return
    at = row["heartbeat_at"].timestamp()
    if last is not None and last.updated_at >= at:
        return
    report = reporting.of_session_end(viewer, asset, row["position_s"], at, str(row["id"]))
    if last is not None and last.duration_s:
        report = replace(report, duration_s=last.duration_s)
    await progress.record(app[DB_POOL_KEY], app[REDIS_KEY], app[SETTINGS_KEY], report, now=True)


async def active(request: web.Request, viewer: Viewer) -> list[dict[str, Any]]:
    """The account's sessions whose slots are held, newest first."""
    app, section = request.app, request.app[SETTINGS_KEY].streaming
    held = await _settled(app, await app[SLOTS_KEY].holders(_account(viewer)))
    ids = {slot.session_id for slot in held.holders}
    rows = await queries.active_sessions(app[DB_POOL_KEY], viewer, section.slot_timeout_s)
    return [
        session_json(row, section.slot_timeout_s, section.heartbeat_s)
        for row in rows
        if str(row["id"]) in ids
    ]
