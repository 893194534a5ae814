"""HTTP handlers for an asset's captions and subtitles: /v1/assets/{asset_id}/captions.

A WebVTT or SRT file is read (at most `packager.captions.MAX_BYTES`) and checked in a thread
before anything is stored (catalog_api/assets/caption_upload.py), so that a broken one is
refused at once with the line at fault (400 `invalid_caption`). An accepted file is kept as
sent in the uploads bucket (`keys.caption_source_key`), its row written
(streamcore/assets/captions.py, a new revision when the language and kind already have one),
and `publish_captions` enqueued after the commit: the worker puts every caption of a ready
asset into its published version, and those of an asset still processing once processing
ends.

Adding and removing need UPLOAD and the right to manage the asset (its owner, admins), as
the other asset writes do: anyone else's asset is a 404. Listing is for whoever may see the
asset (handlers.get_asset's rule).
"""

from __future__ import annotations

import logging
from typing import Any, cast
from uuid import UUID

import asyncpg
from aiohttp import web

from catalog_api.assets import caption_upload
from catalog_api.assets.caption_upload import Received
from catalog_api.assets.handlers import _asset_id, _labels, _managed_or_404, _not_found
from catalog_api.caller import may_see, visible_certifications
from catalog_api.resources import CACHE_KEY, DB_POOL_KEY, STORAGE_KEY, enqueue
from packager.captions import (
    CAPTION_KINDS,
    CaptionDocument,
    normalise_language,
)
from streamcore.assets import captions, keys, repository
from streamcore.assets.captions import Caption, CaptionKind
from streamcore.assets.states import AssetStatus
from streamcore.auth.principal import principal
from streamcore.cache import catalog_cache
from streamcore.storage import StorageError
from streamcore.tasks.queue import TaskName
from streamcore.web.service import (
    SETTINGS_KEY,
    Conflict,
    NotFound,
)

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

PATH = "/v1/assets/{asset_id}/captions"
# The row's fields a caption shows, in this order (its source key is the API's business).
_SHOWN = ("language", "kind", "label", "origin", "format", "cue_count", "revision", "published",
          "published_version")  # fmt: skip


def caption_json(caption: Caption) -> dict[str, Any]:
    path = f"/v1/assets/{caption.asset_id}/captions/{caption.language}/{caption.kind}"
    shown = {name: getattr(caption, name) for name in _SHOWN}
    return {"asset_id": str(caption.asset_id), **shown, "links": {"self": path}}


async def _forget(app: web.Application, key: str) -> None:
    """Remove a kept file; after a commit, so a failure is logged (an orphan), not raised."""
    try:
        await app[STORAGE_KEY].delete(app[SETTINGS_KEY].s3.uploads_bucket, key)
    except StorageError as exc:
        log.warning("could not delete %s (left as an orphan): %s", key, exc)


async def _find(pool: asyncpg.Pool, asset_id: UUID, language: str, kind: str) -> Caption | None:
    found = await captions.list_for(pool, asset_id)
    return next((c for c in found if (c.language, c.kind) == (language, kind)), None)


async def _keep(
    app: web.Application, asset_id: UUID, received: Received, document: CaptionDocument
) -> Caption:
    """The file in the uploads bucket, then its row; a file no row names is removed."""
    pool, params, file_format = app[DB_POOL_KEY], received.params, document.source_format
    key = keys.caption_source_key(asset_id, params.lang, params.kind, file_format)
    before = await _find(pool, asset_id, params.lang, params.kind)
    await app[STORAGE_KEY].put_bytes(
        app[SETTINGS_KEY].s3.uploads_bucket, key, received.data,
        content_type=caption_upload.CONTENT_TYPES[file_format],
    )  # fmt: skip
    try:
        caption = await captions.upsert(
            pool, asset_id=asset_id, language=params.lang, kind=params.kind,
            label=params.label_or_default(), origin="sidecar", file_format=file_format,
            source_key=key, cue_count=len(document.cues),
        )  # fmt: skip
    except BaseException as exc:
        if before is None or before.source_key != key:  # else it overwrote the one kept
            await _forget(app, key)
        if isinstance(exc, asyncpg.ForeignKeyViolationError):  # deleted meanwhile
            raise _not_found(asset_id) from None
        raise
    if before is not None and before.source_key != key:  # an SRT replaced by a WebVTT
        await _forget(app, before.source_key)
    return caption


async def _publish(app: web.Application, asset_id: UUID) -> None:
    """After the row's commit: the worker reads the rows as they are by then."""
    await app[CACHE_KEY].bump_generation(catalog_cache.ASSETS)  # as for the other asset writes
    await enqueue(app, TaskName.PUBLISH_CAPTIONS, asset_id)


@routes.post(PATH)
async def add_caption(request: web.Request) -> web.Response:
    """Add a caption file, or replace the one of its language and kind (a new revision)."""
    asset_id = _asset_id(request)
    asset = await _managed_or_404(request, asset_id)
    if asset.status is AssetStatus.FAILED:
        raise Conflict("the asset failed; reprocess it before adding captions")
    received = await caption_upload.receive(request)
    document = await caption_upload.parse(received)
    caption = await _keep(request.app, asset_id, received, document)
    log.info("caption %s of asset %s, revision %d, by %s: %d cues", keys.caption_name(
        caption.language, caption.kind), asset_id, caption.revision, principal(request).actor,
        caption.cue_count)  # fmt: skip
    await _publish(request.app, asset_id)
    return web.json_response(caption_json(caption), status=202)


@routes.get(PATH)
async def list_captions(request: web.Request) -> web.Response:
    asset_id = _asset_id(request)
    pool = request.app[DB_POOL_KEY]
    asset = await repository.get(pool, asset_id)
    if asset is None:
        raise _not_found(asset_id)
    if not principal(request).may_manage(asset.owner_account_id):
        certification = (await _labels(request, asset_id)).certification
        if not may_see(visible_certifications(request), certification):
            raise _not_found(asset_id)  # above the caller's maturity level: as if absent
    items = [caption_json(c) for c in await captions.list_for(pool, asset_id)]
    return web.json_response({"items": items})


def _caption_path(request: web.Request) -> tuple[str, CaptionKind]:
    """The path's language and kind; what names no caption is a 404, like an unknown one."""
    lang, kind = request.match_info["lang"], request.match_info["kind"]
    try:
        language = normalise_language(lang)
    except ValueError:
        language = ""
    if not language or kind not in CAPTION_KINDS:
        raise NotFound(f"no caption {lang!r} / {kind!r}: a language (fr) and a kind (subtitles)")
    return language, cast(CaptionKind, kind)


@routes.delete(PATH + "/{lang}/{kind}")
async def remove_caption(request: web.Request) -> web.Response:
    """Remove a caption; the worker then takes it out of the published manifests."""
    asset_id = _asset_id(request)
    await _managed_or_404(request, asset_id)
    language, kind = _caption_path(request)
    removed = await captions.delete(request.app[DB_POOL_KEY], asset_id, language, kind)
    if removed is None:
        raise NotFound(f"the asset has no {kind} in {language}")
    await _forget(request.app, removed.source_key)
    log.info("caption %s of asset %s removed by %s", keys.caption_name(language, kind),
             asset_id, principal(request).actor)  # fmt: skip
    await _publish(request.app, asset_id)
    body = {"deleted": True, "asset_id": str(asset_id), "language": language, "kind": kind}
    return web.json_response(body, status=202)
