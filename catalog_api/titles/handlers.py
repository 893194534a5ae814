"""HTTP handlers for /v1/titles. Reads are public; writes need MANAGE_CATALOG (permissions.py).

Reads go through the cache (LRU, Redis, then `queries.title_document` / `queries.title_page`,
which return plain documents), are filtered by the caller's maturity level (`visibility.py`
says where and why), then `views.Presenter` signs image URLs and marks premium titles the
caller's plan does not include as locked (catalog_api/locks.py). The encoded body is kept per
cached value and caller variant (`Presenter.variant`, streamcore/cache/memo.py), so that a
cache hit of a variant seen before sends bytes already made. Every write is one transaction
(`writes.py`), then `effects.after_title_write` does what must follow the commit.
"""

from __future__ import annotations

import logging
import math
import uuid
from typing import Any
from uuid import UUID

from aiohttp import web

from catalog_api import certifications
from catalog_api.caller import actor, visible_certifications
from catalog_api.locks import Locks, caller_locks
from catalog_api.resources import CACHE_KEY, DB_KEY, RENDERED_KEY
from catalog_api.titles import cursor, images, posters, queries, visibility, writes
from catalog_api.titles.effects import TitleChange, after_title_write
from catalog_api.titles.models import (
    AttachAsset,
    TitleBatch,
    TitleCreate,
    TitleImport,
    TitleListParams,
    TitleQuery,
    TitleUpdate,
)
from catalog_api.titles.views import Presenter
from catalog_api.titles.writes import Written
from streamcore.assets import keys
from streamcore.auth.principal import principal
from streamcore.cache import CacheResult, catalog_cache
from streamcore.web.json_bytes import encode, json_bytes_response
from streamcore.web.service import SETTINGS_KEY, NotFound
from streamcore.web.validation import json_body, path_uuid, query_params

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
# Answers depend on the caller (its maturity level, its plan's locks), and are otherwise the
# same for everyone (hour-stable URLs): shared caches may keep anonymous ones (all on the free
# plan), each caller its own.
_MAX_AGE_S = 60


def list_query(request: web.Request) -> TitleQuery:
    params = query_params(request, TitleListParams)
    allowed = visible_certifications(request)
    query = TitleQuery.from_params(params).model_copy(
        update={"certifications": tuple(sorted(allowed)) if allowed is not None else None}
    )
    if params.cursor is None:
        return query
    after = cursor.decode(request.app[SETTINGS_KEY], params.cursor, query)
    return query.model_copy(update={"after": after})


async def _document(request: web.Request, title_id: UUID) -> dict[str, Any]:
    """A title as just written, from the primary (never from a cache)."""
    document = await queries.title_document(request.app[DB_KEY].primary, title_id)
    if document is None:
        raise NotFound(f"no title with id {title_id}")
    return Presenter(request.app).title(document)


def _cache_headers(request: web.Request, result: CacheResult, locks: Locks) -> dict[str, str]:
    if result.stale:
        # The database could not answer: this is the last-known answer, and says so.
        return {"X-Cache": "STALE", "Warning": '110 - "Response is Stale"',
                "Cache-Control": "no-cache", "Vary": "Authorization"}  # fmt: skip
    scope = "public" if principal(request).anonymous else "private"
    max_age = _MAX_AGE_S
    if locks.degraded:
        # The subscriptions service could not answer, so premium titles are locked for now:
        # kept only until its client may ask again (anonymous answers are never degraded).
        max_age = math.ceil(request.app[SETTINGS_KEY].subscriptions.entitlements_breaker_reset_s)
    return {"Cache-Control": f"{scope}, max-age={max_age}", "Vary": "Authorization",
            "X-Cache": result.tier.upper()}  # fmt: skip


@routes.get("/v1/titles")
async def list_titles(request: web.Request) -> web.Response:
    query = list_query(request)
    db, who, settings = request.app[DB_KEY], actor(request), request.app[SETTINGS_KEY]

    # Also run later, in the background, to refresh the entry: nothing tied to the request.
    async def load() -> dict[str, Any]:
        return await queries.title_page(db.reader(who), query)

    key = query.cache_key()
    result = await request.app[CACHE_KEY].get_or_load(
        key, load, settings.cache.list_ttl_s,
        depends_on=(catalog_cache.TITLES, catalog_cache.ASSETS),
    )  # fmt: skip
    locks = await caller_locks(request)
    presenter = Presenter(request.app, locks)
    body = request.app[RENDERED_KEY].get_or_make(
        (result.raw, ("page", key, presenter.variant())),
        lambda: encode(presenter.page(result.value, query)),
    )
    return json_bytes_response(body, headers=_cache_headers(request, result, locks))


@routes.get("/v1/titles/{title_id}")
async def get_title(request: web.Request) -> web.Response:
    title_id = path_uuid(request, "title_id", "title")
    db, who, settings = request.app[DB_KEY], actor(request), request.app[SETTINGS_KEY]

    async def load() -> dict[str, Any] | None:
        return await queries.title_document(db.reader(who), title_id)

    result = await request.app[CACHE_KEY].get_or_load(
        catalog_cache.title_document(title_id), load, settings.cache.title_ttl_s,
        depends_on=(catalog_cache.title(title_id), catalog_cache.ASSETS),
    )  # fmt: skip
    allowed = visible_certifications(request)
    locks = await caller_locks(request)
    presenter = Presenter(request.app, locks)

    def render() -> bytes:
        document = result.value and visibility.visible_document(result.value, allowed)
        if document is None:  # hidden from the caller's maturity level: as if absent
            raise NotFound(f"no title with id {title_id}")
        return encode(presenter.title(document))

    body = request.app[RENDERED_KEY].get_or_make(
        (result.raw, ("title", allowed, presenter.variant())), render
    )
    return json_bytes_response(body, headers=_cache_headers(request, result, locks))


async def _written(request: web.Request, written: Written, status: int = 200) -> web.Response:
    await after_title_write(request.app, actor(request), TitleChange(written.documents))
    body = await _document(request, written.id)
    headers = {"Location": f"/v1/titles/{written.id}"} if status == 201 else None
    return web.json_response(body, status=status, headers=headers)


def _certified(request: web.Request, value: str | None, field: str) -> str | None:
    return certifications.checked(request.app[SETTINGS_KEY].auth, value, field)


@routes.post("/v1/titles")
async def create_title(request: web.Request) -> web.Response:
    body = await json_body(request, TitleCreate)
    certification = _certified(request, body.certification, "certification")
    body = body.model_copy(update={"certification": certification})
    written = await writes.create_title(request.app[DB_KEY].primary, body)
    return await _written(request, written, 201)


@routes.patch("/v1/titles/{title_id}")
async def update_title(request: web.Request) -> web.Response:
    title_id = path_uuid(request, "title_id", "title")
    changes = (await json_body(request, TitleUpdate)).changes()
    if "certification" in changes:
        changes["certification"] = _certified(request, changes["certification"], "certification")
    written = await writes.update_title(request.app[DB_KEY].primary, title_id, changes)
    return await _written(request, written)


@routes.delete("/v1/titles/{title_id}")
async def delete_title(request: web.Request) -> web.Response:
    title_id = path_uuid(request, "title_id", "title")
    deleted = await writes.delete_title(request.app[DB_KEY].primary, title_id)
    if not deleted:
        raise NotFound(f"no title with id {title_id}")
    change = TitleChange(
        title_ids=frozenset().union(*(w.documents for w, _ in deleted)),
        # Only titles that had images were ever served by a CDN; any may have left files.
        purge_paths=tuple(f"/{keys.title_prefix(w.id)}" for w, had in deleted if had),
        delete_prefixes=tuple(keys.title_prefix(w.id) for w, _ in deleted),
        reference=f"title:{title_id}:delete:{uuid.uuid4().hex[:8]}",
    )
    await after_title_write(request.app, actor(request), change)
    return web.json_response({"id": str(title_id), "deleted": [str(w.id) for w, _ in deleted]})


@routes.put("/v1/titles/{title_id}/poster")
async def put_poster(request: web.Request) -> web.Response:
    """Store a new poster (JPEG, PNG or WebP in the body) as a JPEG poster and thumbnail."""
    title_id = path_uuid(request, "title_id", "title")
    declared = images.declared_format(request.content_type)
    await posters.replace_poster(
        request.app, actor(request), title_id, declared, request.content, request.content_length
    )
    return web.json_response(await _document(request, title_id))


@routes.put("/v1/titles/{title_id}/assets/{asset_id}")
async def attach_asset(request: web.Request) -> web.Response:
    title_id = path_uuid(request, "title_id", "title")
    asset_id = path_uuid(request, "asset_id", "asset")
    body = await json_body(request, AttachAsset)
    written = await writes.attach_asset(request.app[DB_KEY].primary, title_id, asset_id, body)
    return await _written(request, written)


@routes.delete("/v1/titles/{title_id}/assets/{asset_id}")
async def detach_asset(request: web.Request) -> web.Response:
    title_id = path_uuid(request, "title_id", "title")
    asset_id = path_uuid(request, "asset_id", "asset")
    written = await writes.detach_asset(request.app[DB_KEY].primary, title_id, asset_id)
    return await _written(request, written)


@routes.post("/v1/titles/batch")
async def import_titles(request: web.Request) -> web.Response:
    """Create or update up to 1000 titles by (kind, tmdb_id), in one transaction."""
    rows, refused = _certified_rows(request, (await json_body(request, TitleBatch)).titles)
    outcome = await writes.upsert_batch(request.app[DB_KEY].primary, rows, refused)
    change = TitleChange(frozenset().union(*(w.documents for w in outcome.changed)))
    await after_title_write(request.app, actor(request), change)
    results = [outcome.results[i] for i in sorted(outcome.results)]
    counts = {s: sum(r.get("status") == s for r in results) for s in ("created", "updated")}
    body = {
        **counts,
        "unchanged": sum(r.get("status") == "unchanged" for r in results),
        "failed": sum("error" in r for r in results),
        "results": results,
    }
    return web.json_response(body)


def _certified_rows(
    request: web.Request, rows: list[TitleImport]
) -> tuple[list[TitleImport], dict[int, str]]:
    """The rows with their certifications spelled as configured, and those whose
    certification no maturity level lists (index -> why): those fail alone, as a row does."""
    settings, refused, checked = request.app[SETTINGS_KEY].auth, {}, []
    for index, row in enumerate(rows):
        if row.certification is not None:
            found = certifications.canonical(settings, row.certification)
            if found is None:
                refused[index] = "certification: " + certifications.unknown(
                    settings, row.certification
                )
            row = row.model_copy(update={"certification": found})
        checked.append(row)
    return checked, refused
