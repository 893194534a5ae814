"""HTTP handlers for viewers: ids, watch progress and playback events. No API key: viewers
call them, from players on any origin."""

from __future__ import annotations

import uuid

from aiohttp import web

from streamcore.web.service import NotFound
from streamcore.web.validation import json_body
from streaming import progress, writes
from streaming.models import EventBatch, ProgressReport
from streaming.playback import asset_id_of, known_asset
from streaming.resources import DB_POOL_KEY, REDIS_KEY
from streaming.viewer import viewer_id

routes = web.RouteTableDef()


@routes.post("/v1/viewers")
async def create_viewer(request: web.Request) -> web.Response:
    return web.json_response({"viewer_id": str(uuid.uuid4())}, status=201)


@routes.get("/v1/progress/{asset_id}")
async def get_progress(request: web.Request) -> web.Response:
    found = await progress.latest(
        request.app[DB_POOL_KEY], request.app[REDIS_KEY], viewer_id(request), asset_id_of(request)
    )
    if found is None:
        raise NotFound("no progress for this viewer and asset")
    return web.json_response(found.to_public(), headers={"Cache-Control": "private, no-store"})


@routes.put("/v1/progress/{asset_id}")
async def put_progress(request: web.Request) -> web.Response:
    asset, viewer = asset_id_of(request), viewer_id(request)
    report = await json_body(request, ProgressReport)
    # Nothing is kept for an asset the catalog does not know (a cached answer, mostly).
    await known_asset(request.app, asset)
    await progress.record(request.app[DB_POOL_KEY], request.app[REDIS_KEY], viewer, asset, report)
    return web.Response(status=204)


@routes.post("/v1/events")
async def post_events(request: web.Request) -> web.Response:
    batch = await json_body(request, EventBatch)
    accepted = await writes.record_events(request.app[DB_POOL_KEY], batch)
    return web.json_response({"accepted": accepted}, status=202)
