"""The Session Manager: a viewer's watch sessions, started, kept alive, ended and listed.

A session is one playback a viewer starts: starting it authorises playback (the same body as
GET /v1/playback/{asset_id}), heartbeats keep it alive with the position, and it ends when the
player says so or after a timeout without a heartbeat.

Signed in, a session holds one of the account's stream slots and lives as long as its slot
(streaming/streams.py: limits, short-lived URLs renewed by heartbeats, ``slot_timeout_s``);
the account's sessions are seen and ended from any of its devices. Anonymous (where allowed),
a session is the viewer id's and ends after ``streaming.session_timeout_s``, as before
accounts. Someone else's session id answers 404, as an unknown one does.
"""

from __future__ import annotations

import uuid
from uuid import UUID

from aiohttp import web

from streamcore.web.service import SETTINGS_KEY, NotFound
from streamcore.web.validation import json_body, path_uuid
from streaming import queries, streams, writes
from streaming.models import Heartbeat, PlaybackParams, SessionStart
from streaming.playback import authorise
from streaming.resources import DB_POOL_KEY
from streaming.streams import PRIVATE, SessionEnded, session_json
from streaming.viewer import viewer as viewer_of

routes = web.RouteTableDef()


def _timeout_s(request: web.Request) -> float:
    return request.app[SETTINGS_KEY].streaming.session_timeout_s


def _heartbeat_s(request: web.Request) -> int:
    return request.app[SETTINGS_KEY].streaming.heartbeat_s


def _session_id(request: web.Request) -> UUID:
    return path_uuid(request, "session_id", "session")


@routes.post("/v1/sessions")
async def start_session(request: web.Request) -> web.Response:
    viewer = viewer_of(request)
    start = await json_body(request, SessionStart)
    if viewer.signed_in:
        return await streams.start(request, viewer, start.asset_id)
    # Authorised first: no session is recorded for an asset that cannot be played. The URLs
    # name the session (claim ``sid``), as the player's events and CMCD data do.
    session_id = uuid.uuid4()
    playback = await authorise(request, start.asset_id, PlaybackParams(session_id=session_id))
    row = await writes.start_session(request.app[DB_POOL_KEY], session_id, viewer, start.asset_id)
    body = {
        "session_id": str(row["id"]),
        "asset_id": str(row["asset_id"]),
        "started_at": row["started_at"].isoformat(),
        "heartbeat_s": _heartbeat_s(request),
        "playback": playback,
    }
    headers = {**PRIVATE, "Location": f"/v1/sessions/{row['id']}"}
    return web.json_response(body, status=201, headers=headers)


@routes.post("/v1/sessions/{session_id}/heartbeat")
async def heartbeat(request: web.Request) -> web.Response:
    session, viewer = _session_id(request), viewer_of(request)
    beat = await json_body(request, Heartbeat)
    if viewer.signed_in:
        body = await streams.heartbeat(request, viewer, session, beat.position_s)
        return web.json_response(body, headers=PRIVATE)
    pool, timeout_s = request.app[DB_POOL_KEY], _timeout_s(request)
    row = await writes.heartbeat(pool, session, viewer, beat.position_s, timeout_s)
    if row is None:
        if await queries.session(pool, session, viewer) is None:
            raise NotFound(f"no session with id {session}")
        raise SessionEnded("the session has ended; start a new one")
    return web.json_response(session_json(row, timeout_s, _heartbeat_s(request)), headers=PRIVATE)


@routes.delete("/v1/sessions/{session_id}")
async def end_session(request: web.Request) -> web.Response:
    session, viewer = _session_id(request), viewer_of(request)
    if viewer.signed_in:
        await streams.end(request, viewer, session)
        return web.Response(status=204)
    pool = request.app[DB_POOL_KEY]
    ended = await writes.end_session(pool, session, viewer, _timeout_s(request))
    # Ending a session that has ended already is done, too (a retried DELETE).
    if not ended and await queries.session(pool, session, viewer) is None:
        raise NotFound(f"no session with id {session}")
    return web.Response(status=204)


@routes.get("/v1/sessions")
async def list_sessions(request: web.Request) -> web.Response:
    viewer = viewer_of(request)
    if viewer.signed_in:
        return web.json_response({"items": await streams.active(request, viewer)}, headers=PRIVATE)
    timeout_s = _timeout_s(request)
    rows = await queries.active_sessions(request.app[DB_POOL_KEY], viewer, timeout_s)
    items = [session_json(row, timeout_s, _heartbeat_s(request)) for row in rows]
    return web.json_response({"items": items}, headers=PRIVATE)
