"""HTTP handlers for viewers: ids, progress and playback events. No API key: viewers call them."""

from __future__ import annotations

import uuid
from uuid import UUID

from aiohttp import web

from catalog_api.auth import public
from catalog_api.resources import DB_POOL_KEY, REDIS_KEY
from catalog_api.viewing import events, progress
from catalog_api.viewing.models import EventBatch, ProgressReport
from catalog_api.viewing.viewer import viewer_id
from streamcore.web.service import NotFound
from streamcore.web.validation import json_body, path_uuid

routes = web.RouteTableDef()


def _asset_id(request: web.Request) -> UUID:
    return path_uuid(request, "asset_id", "asset")


@routes.post("/v1/viewers")
@public
async def create_viewer(request: web.Request) -> web.Response:
    return web.json_response({"viewer_id": str(uuid.uuid4())}, status=201)


@routes.get("/v1/assets/{asset_id}/progress")
async def get_progress(request: web.Request) -> web.Response:
    found = await progress.latest(
        request.app[DB_POOL_KEY], request.app[REDIS_KEY], viewer_id(request), _asset_id(request)
    )
    if found is None:
        raise NotFound("no progress for this viewer and asset")
    return web.json_response(found.to_public(), headers={"Cache-Control": "private, no-store"})


@routes.put("/v1/assets/{asset_id}/progress")
@public
async def put_progress(request: web.Request) -> web.Response:
    asset, viewer = _asset_id(request), viewer_id(request)
    report = await json_body(request, ProgressReport)
    await progress.record(request.app[DB_POOL_KEY], request.app[REDIS_KEY], viewer, asset, report)
    return web.Response(status=204)


@routes.post("/v1/events")
@public
async def post_events(request: web.Request) -> web.Response:
    batch = await json_body(request, EventBatch)
    accepted = await events.record(request.app[DB_POOL_KEY], batch)
    return web.json_response({"accepted": accepted}, status=202)
