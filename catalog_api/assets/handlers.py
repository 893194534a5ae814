"""HTTP handlers for /v1/assets."""

from __future__ import annotations

import logging
import uuid
from uuid import UUID

from aiohttp import web

from catalog_api.assets import upload
from catalog_api.assets.models import AssetListParams, ReprocessParams
from catalog_api.assets.views import asset_json, decode_cursor, encode_cursor
from catalog_api.resources import CACHE_KEY, DB_POOL_KEY, STORAGE_KEY, enqueue
from streamcore.assets import repository
from streamcore.cache import catalog_cache
from streamcore.tasks.queue import TaskName
from streamcore.web.service import SETTINGS_KEY, Conflict, NotFound
from streamcore.web.validation import path_uuid, query_params

log = logging.getLogger(__name__)

routes = web.RouteTableDef()


def _asset_id(request: web.Request) -> UUID:
    return path_uuid(request, "asset_id", "asset")


async def _get_or_404(request: web.Request, asset_id: UUID) -> repository.Asset:
    asset = await repository.get(request.app[DB_POOL_KEY], asset_id)
    if asset is None:
        raise NotFound(f"no asset with id {asset_id}")
    return asset


@routes.post("/v1/assets")
async def create_asset(request: web.Request) -> web.Response:
    """Upload a source file; processing starts once it is stored."""
    settings = request.app[SETTINGS_KEY]
    asset_id = uuid.uuid4()
    stored = await upload.receive(request, request.app[STORAGE_KEY], settings, asset_id)
    asset = await repository.create(
        request.app[DB_POOL_KEY],
        asset_id=asset_id,
        title=stored.title or stored.filename,
        source_key=stored.source_key,
        source_filename=stored.filename,
        source_size=stored.size,
        content_type=stored.content_type,
    )
    log.info("asset %s uploaded: %s, %d bytes", asset.id, stored.filename, stored.size)
    # Enqueued after the row is committed, so the worker always finds it.
    assert asset.job_id is not None
    await enqueue(request.app, TaskName.PROCESS_ASSET, asset.id, asset.job_id)
    return web.json_response(
        asset_json(asset), status=202, headers={"Location": f"/v1/assets/{asset.id}"}
    )


@routes.get("/v1/assets")
async def list_assets(request: web.Request) -> web.Response:
    params = query_params(request, AssetListParams)
    assets = await repository.list_page(
        request.app[DB_POOL_KEY],
        limit=params.limit,
        after=decode_cursor(params.cursor) if params.cursor else None,
        status=params.status,
    )
    next_cursor = encode_cursor(assets[-1]) if len(assets) == params.limit else None
    return web.json_response(
        {"items": [asset_json(asset) for asset in assets], "next_cursor": next_cursor}
    )


@routes.get("/v1/assets/{asset_id}")
async def get_asset(request: web.Request) -> web.Response:
    return web.json_response(asset_json(await _get_or_404(request, _asset_id(request))))


@routes.post("/v1/assets/{asset_id}/reprocess")
async def reprocess_asset(request: web.Request) -> web.Response:
    asset_id, params = _asset_id(request), query_params(request, ReprocessParams)
    pool = request.app[DB_POOL_KEY]
    asset = await repository.request_reprocess(pool, asset_id)
    if asset is None and params.force:
        asset = await repository.force_requeue(pool, asset_id)
    if asset is None:
        current = await _get_or_404(request, asset_id)
        raise Conflict(f"the asset is {current.status}; wait until it is ready or failed")
    assert asset.job_id is not None
    await request.app[CACHE_KEY].bump_generation(catalog_cache.ASSETS)  # titles show its state
    # The version playing now is purged from the CDNs once its replacement is published.
    await enqueue(request.app, TaskName.PROCESS_ASSET, asset.id, asset.job_id, asset.version)
    return web.json_response(asset_json(asset), status=202)


@routes.delete("/v1/assets/{asset_id}")
async def delete_asset(request: web.Request) -> web.Response:
    asset = await repository.delete(request.app[DB_POOL_KEY], _asset_id(request))
    if asset is None:
        raise NotFound(f"no asset with id {request.match_info['asset_id']}")
    await request.app[CACHE_KEY].bump_generation(catalog_cache.ASSETS)  # titles listed it
    # Files and caches go after the row: tasks, retried until done, so nothing is lost.
    await enqueue(request.app, TaskName.DELETE_ASSET_FILES, asset.id)
    await enqueue(request.app, TaskName.PURGE_CDN, [f"/assets/{asset.id}/"], f"{asset.id}:delete")
    return web.json_response({"id": str(asset.id), "deleted": True}, status=202)
