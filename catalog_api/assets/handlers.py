"""HTTP handlers for /v1/assets.

Uploading, listing, deleting and reprocessing need UPLOAD (permissions.py); within that, a
creator manages only the assets it owns (the uploader's account, `owner_account_id`) and
others' are 404 to it, as if absent; admins manage all (`Principal.may_manage`). Reading one
asset is public: its managed fields only for who may manage it (views.py), and an asset above
the caller's maturity level is 404 unless it is the caller's own. Every answer says whether
the asset is locked to the caller (premium, beyond its plan: catalog_api/locks.py).
"""

from __future__ import annotations

import logging
import uuid
from uuid import UUID

from aiohttp import web

from catalog_api.assets import queries, upload
from catalog_api.assets.models import AssetListParams, ReprocessParams
from catalog_api.assets.views import asset_json, decode_cursor, encode_cursor
from catalog_api.caller import may_see, visible_certifications
from catalog_api.locks import UNLOCKED, caller_locks
from catalog_api.resources import CACHE_KEY, DB_POOL_KEY, REDIS_KEY, STORAGE_KEY, enqueue
from streamcore.assets import repository
from streamcore.assets.notices import JobNotices
from streamcore.auth.principal import principal
from streamcore.cache import catalog_cache
from streamcore.tasks.queue import TaskName
from streamcore.web.service import SETTINGS_KEY, Conflict, NotFound
from streamcore.web.validation import path_uuid, query_params

log = logging.getLogger(__name__)

routes = web.RouteTableDef()


def _asset_id(request: web.Request) -> UUID:
    return path_uuid(request, "asset_id", "asset")


def _not_found(asset_id: UUID | str) -> NotFound:
    return NotFound(f"no asset with id {asset_id}")


async def _managed_or_404(request: web.Request, asset_id: UUID) -> repository.Asset:
    """The asset, if the caller may manage it; 404 otherwise, whether or not it exists."""
    asset = await repository.get(request.app[DB_POOL_KEY], asset_id)
    if asset is None or not principal(request).may_manage(asset.owner_account_id):
        raise _not_found(asset_id)
    return asset


def _notices(request: web.Request) -> JobNotices:
    """Job status for the owner's sockets (streamcore/assets/notices.py)."""
    settings = request.app[SETTINGS_KEY].notifications
    return JobNotices(request.app[REDIS_KEY], settings.replay_max_len)


async def _labels(request: web.Request, asset_id: UUID) -> queries.Labels:
    auth = request.app[SETTINGS_KEY].auth
    found = await queries.labels(request.app[DB_POOL_KEY], auth, [asset_id])
    return found[asset_id]


@routes.post("/v1/assets")
async def create_asset(request: web.Request) -> web.Response:
    """Upload a source file; processing starts once it is stored. The uploader owns it."""
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
        owner_account_id=principal(request).account_id,
        audio_languages=stored.audio_languages,
    )
    log.info("asset %s uploaded by %s: %s, %d bytes", asset.id, principal(request).actor,
             stored.filename, stored.size)  # fmt: skip
    await _notices(request).moved(asset, None)
    # Enqueued after the row is committed, so the worker always finds it.
    assert asset.job_id is not None
    await enqueue(request.app, TaskName.PROCESS_ASSET, asset.id, asset.job_id)
    return web.json_response(
        asset_json(asset, queries.Labels(), managed=True, locks=UNLOCKED),  # no title: free
        status=202,
        headers={"Location": f"/v1/assets/{asset.id}"},
    )


@routes.get("/v1/assets")
async def list_assets(request: web.Request) -> web.Response:
    """Newest first: every asset for an admin, one's own for anyone else."""
    params, caller = query_params(request, AssetListParams), principal(request)
    if not caller.is_admin and caller.account_id is None:  # owns nothing (a service account)
        return web.json_response({"items": [], "next_cursor": None})
    pool = request.app[DB_POOL_KEY]
    assets = await repository.list_page(
        pool,
        limit=params.limit,
        after=decode_cursor(params.cursor) if params.cursor else None,
        status=params.status,
        owner_account_id=None if caller.is_admin else caller.account_id,
    )
    labelled = await queries.labels(
        pool, request.app[SETTINGS_KEY].auth, [asset.id for asset in assets]
    )
    next_cursor = encode_cursor(assets[-1]) if len(assets) == params.limit else None
    locks = await caller_locks(request)
    items = [asset_json(a, labelled[a.id], managed=True, locks=locks) for a in assets]
    return web.json_response({"items": items, "next_cursor": next_cursor})


@routes.get("/v1/assets/{asset_id}")
async def get_asset(request: web.Request) -> web.Response:
    asset_id = _asset_id(request)
    asset = await repository.get(request.app[DB_POOL_KEY], asset_id)
    if asset is None:
        raise _not_found(asset_id)
    labels = await _labels(request, asset_id)
    managed = principal(request).may_manage(asset.owner_account_id)
    if not managed and not may_see(visible_certifications(request), labels.certification):
        raise _not_found(asset_id)  # above the caller's maturity level: as if absent
    locks = await caller_locks(request)
    return web.json_response(asset_json(asset, labels, managed=managed, locks=locks))


@routes.post("/v1/assets/{asset_id}/reprocess")
async def reprocess_asset(request: web.Request) -> web.Response:
    asset_id, params = _asset_id(request), query_params(request, ReprocessParams)
    pool = request.app[DB_POOL_KEY]
    before = await _managed_or_404(request, asset_id)
    asset = await repository.request_reprocess(pool, asset_id)
    if asset is None and params.force:
        asset = await repository.force_requeue(pool, asset_id)
    if asset is None:
        current = await repository.get(pool, asset_id)
        if current is None:
            raise _not_found(asset_id)
        raise Conflict(f"the asset is {current.status}; wait until it is ready or failed")
    assert asset.job_id is not None
    await _notices(request).moved(asset, before.status)
    await request.app[CACHE_KEY].bump_generation(catalog_cache.ASSETS)  # titles show its state
    # The version playing now is purged from the CDNs once its replacement is published.
    await enqueue(request.app, TaskName.PROCESS_ASSET, asset.id, asset.job_id, asset.version)
    labels, locks = await _labels(request, asset_id), await caller_locks(request)
    body = asset_json(asset, labels, managed=True, locks=locks)
    return web.json_response(body, status=202)


@routes.delete("/v1/assets/{asset_id}")
async def delete_asset(request: web.Request) -> web.Response:
    asset_id = _asset_id(request)
    await _managed_or_404(request, asset_id)
    asset = await repository.delete(request.app[DB_POOL_KEY], asset_id)
    if asset is None:
        raise _not_found(asset_id)
    await request.app[CACHE_KEY].bump_generation(catalog_cache.ASSETS)  # titles listed it
    # Files and caches go after the row: tasks, retried until done, so nothing is lost.
    await enqueue(request.app, TaskName.DELETE_ASSET_FILES, asset.id)
    await enqueue(request.app, TaskName.PURGE_CDN, [f"/assets/{asset.id}/"], f"{asset.id}:delete")
    return web.json_response({"id": str(asset.id), "deleted": True}, status=202)
