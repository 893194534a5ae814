"""GET /v1/profiles/{profile_id}/recommendations?row=…: one row of a profile's
recommendations (streaming/recommendations/rows.py), for the profile itself or an admin."""

from __future__ import annotations

from aiohttp import web

from streamcore.web.service import SETTINGS_KEY
from streamcore.web.validation import path_uuid, query_params
from streaming.history.models import RecommendationQuery
from streaming.history.whose import reader
from streaming.recommendations import rows

routes = web.RouteTableDef()


@routes.get("/v1/profiles/{profile_id}/recommendations")
async def recommendations(request: web.Request) -> web.Response:
    params = query_params(request, RecommendationQuery)
    who = await reader(request, path_uuid(request, "profile_id", "profile"), "recommendations")
    limit = params.limit or request.app[SETTINGS_KEY].recommendations.row_size
    items, cached = await rows.serve(request.app, who, params.row, limit)
    body = {"profile_id": str(who.profile_id), "row": params.row.value, "items": items}
    headers = {"Cache-Control": "private, no-store", "X-Cache": "HIT" if cached else "MISS"}
    return web.json_response(body, headers=headers)
