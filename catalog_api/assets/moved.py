"""The viewer endpoints that moved to the streaming service, answered with where they went.

Playback URLs, steering manifests and watch progress are the streaming service's since the
catalog was split (streaming/): the old paths answer ``308 Permanent Redirect`` to the new
one, query string kept, so that old clients keep working through the gateway (which routes
the new paths to streaming). 308, not 301: a PUT stays a PUT with its body. Each needs what
its new home needs (PLAY for playback and progress: catalog_api/permissions.py).
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

routes = web.RouteTableDef()


def _moved(request: web.Request, path: str) -> web.HTTPPermanentRedirect:
    query = request.rel_url.raw_query_string
    return web.HTTPPermanentRedirect(path + (f"?{query}" if query else ""))


def _asset(request: web.Request) -> str:
    return quote(request.match_info["asset_id"], safe="")


@routes.get("/v1/assets/{asset_id}/playback")
async def playback(request: web.Request) -> web.StreamResponse:
    raise _moved(request, f"/v1/playback/{_asset(request)}")


@routes.get("/v1/assets/{asset_id}/steering/{kind}")
async def steering(request: web.Request) -> web.StreamResponse:
    kind = quote(request.match_info["kind"], safe="")
    raise _moved(request, f"/v1/playback/{_asset(request)}/steering/{kind}")


@routes.get("/v1/assets/{asset_id}/progress")
async def get_progress(request: web.Request) -> web.StreamResponse:
    raise _moved(request, f"/v1/progress/{_asset(request)}")


@routes.put("/v1/assets/{asset_id}/progress")
async def put_progress(request: web.Request) -> web.StreamResponse:
    raise _moved(request, f"/v1/progress/{_asset(request)}")
