"""HTTP handlers of watch history: a profile's history, its Continue Watching row and removals
from it, and imports (an admin's). They parse and answer; the rules are in continue_watching,
the SQL in queries and writes, who may read what in whose."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from streamcore.web import cursors
from streamcore.web.service import SETTINGS_KEY, NotFound
from streamcore.web.validation import json_body, path_uuid, query_params
from streaming.history import continue_watching, importing, queries, writes
from streaming.history.models import ContinueQuery, HistoryImport, HistoryQuery
from streaming.history.shown import entitlement_of, presented, visible
from streaming.history.whose import reader
from streaming.resources import DB_POOL_KEY, TITLES_KEY

routes = web.RouteTableDef()
_PRIVATE = {"Cache-Control": "private, no-store"}
_CURSOR = "history"


def _profile(request: web.Request) -> Any:
    return path_uuid(request, "profile_id", "profile")


@routes.get("/v1/profiles/{profile_id}/history")
async def history(request: web.Request) -> web.Response:
    params = query_params(request, HistoryQuery)
    who = await reader(request, _profile(request), "watch_history")
    app = request.app
    rows = await queries.history(
        app[DB_POOL_KEY], who.profile_id, params.limit + 1, cursors.decode(_CURSOR, params.cursor)
    )
    page, more = rows[: params.limit], len(rows) > params.limit
    entitlement = await entitlement_of(app, who.account_id)
    items = []
    for row in page:
        title = await app[TITLES_KEY].get(row["title_id"])
        if title is not None and not visible(app, who.maturity, title):
            continue
        items.append({
            "title_id": str(row["title_id"]),
            "title": presented(title, entitlement) if title else None,
            "series_id": str(row["series_id"]) if row["series_id"] else None,
            "asset_id": str(row["asset_id"]) if row["asset_id"] else None,
            "position_s": row["position_s"], "duration_s": row["duration_s"],
            "completion": row["completion"], "times_completed": row["times_completed"],
            "first_watched_at": row["first_watched_at"].isoformat(),
            "last_watched_at": row["last_watched_at"].isoformat(),
        })  # fmt: skip
    last = page[-1] if page else None
    next_cursor = (
        cursors.encode(_CURSOR, last["last_watched_at"], last["title_id"])
        if more and last
        else None
    )
    body = {"profile_id": str(who.profile_id), "items": items, "next_cursor": next_cursor}
    return web.json_response(body, headers=_PRIVATE)


@routes.get("/v1/profiles/{profile_id}/continue-watching")
async def get_continue_watching(request: web.Request) -> web.Response:
    params = query_params(request, ContinueQuery)
    who = await reader(request, _profile(request), "continue_watching")
    items = await continue_watching.row(request.app, who, params.limit)
    return web.json_response({"profile_id": str(who.profile_id), "items": items}, headers=_PRIVATE)


@routes.delete("/v1/profiles/{profile_id}/continue-watching/{title_id}")
async def remove_from_continue_watching(request: web.Request) -> web.Response:
    who = await reader(request, _profile(request), "continue_watching")
    title = path_uuid(request, "title_id", "title")
    hidden = await writes.hide(request.app[DB_POOL_KEY], who.profile_id, title)
    if not hidden:
        # An episode shown as a series' next one is not in the history: its series is.
        found = await request.app[TITLES_KEY].get(title)
        series = found.get("series_id") if found else None
        if series:
            hidden = await writes.hide(request.app[DB_POOL_KEY], who.profile_id, series)
    if not hidden:
        raise NotFound(f"title {title} is not in this profile's history")
    return web.Response(status=204)


@routes.post("/v1/admin/history")
async def import_history(request: web.Request) -> web.Response:
    """Bulk-load viewings from another system (`streamcore history import`): idempotent."""
    batch = await json_body(request, HistoryImport)
    result = await importing.load(request.app, request.app[SETTINGS_KEY], batch)
    return web.json_response(result.to_json())
