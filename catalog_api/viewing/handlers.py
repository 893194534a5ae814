"""HTTP handlers for viewers: ids, progress and playback events. No API key: viewers call them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, ValidationError

from catalog_api.auth import public
from catalog_api.resources import DB_POOL_KEY, REDIS_KEY
from catalog_api.viewing import progress
from catalog_api.viewing.models import EventBatch, ProgressReport
from catalog_api.viewing.viewer import viewer_id
from streamcore.web.service import BadRequest, NotFound

routes = web.RouteTableDef()


async def _body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate_json(await request.read())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise BadRequest(f"{where}: {first['msg']}") from None


def _asset_id(request: web.Request) -> UUID:
    try:
        return UUID(request.match_info["asset_id"])
    except ValueError:
        raise NotFound("no such asset") from None


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
    report = await _body(request, ProgressReport)
    assert isinstance(report, ProgressReport)
    asset = _asset_id(request)
    pool = request.app[DB_POOL_KEY]
    if not await pool.fetchval("SELECT 1 FROM assets WHERE id = $1", asset):
        raise NotFound("no such asset")
    await progress.record(pool, request.app[REDIS_KEY], viewer_id(request), asset, report)
    return web.Response(status=204)


@routes.post("/v1/events")
@public
async def post_events(request: web.Request) -> web.Response:
    batch = await _body(request, EventBatch)
    assert isinstance(batch, EventBatch)
    try:
        viewer, asset = UUID(batch.viewer_id), UUID(batch.asset_id)
    except ValueError:
        raise BadRequest("viewer_id and asset_id must be ids") from None
    rows = [
        (viewer, batch.session_id, asset, event.type.value, event.position_s,
         datetime.fromtimestamp(event.at / 1000, UTC), event.detail)
        for event in batch.events
    ]  # fmt: skip
    await request.app[DB_POOL_KEY].executemany(
        """
        INSERT INTO playback_events (viewer_id, session_id, asset_id, type, position_s, at, detail)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        rows,
    )
    return web.json_response({"accepted": len(rows)}, status=202)
