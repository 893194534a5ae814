"""Playback authorisation: signed playback URLs, and the content steering manifests.

Both ask the catalog what the asset is (streaming/catalog_client.py); the URLs are signed by
cdn_adapters/playback.py, for every configured CDN, primary first, then the origin.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web

from cdn_adapters.playback import sources as playback_sources
from streamcore.settings import path_token_sources
from streamcore.web.service import SETTINGS_KEY, Conflict, NotFound
from streamcore.web.validation import path_uuid, query_params
from streaming.catalog_client import CatalogAsset
from streaming.models import PlaybackParams
from streaming.resources import ADAPTERS_KEY, CATALOG_KEY

routes = web.RouteTableDef()


class NotReady(Conflict):
    code = "not_ready"


def asset_id_of(request: web.Request) -> UUID:
    return path_uuid(request, "asset_id", "asset")


async def known_asset(app: web.Application, asset_id: UUID, *, fresh: bool = False) -> CatalogAsset:
    """The catalog's asset (maybe from the client's short cache, unless `fresh`); 404 if it has
    none, 503 if it cannot say."""
    asset = await app[CATALOG_KEY].asset(asset_id, fresh=fresh)
    if asset is None:
        raise NotFound(f"no asset with id {asset_id}")
    return asset


async def authorise(app: web.Application, asset_id: UUID, ttl_s: int | None) -> dict[str, Any]:
    """Signed HLS and DASH URLs of the asset's published version (409 before it has one).
    Always the version the catalog says now: the one before may be deleted already."""
    settings = app[SETTINGS_KEY]
    asset = await known_asset(app, asset_id, fresh=True)
    if asset.version < 1:
        raise NotReady(f"the asset is {asset.status} and has no published version yet")
    return playback_sources(
        settings, app[ADAPTERS_KEY], asset.id, asset.version,
        ttl_s=ttl_s or settings.origin.playback_ttl_s, images=asset.images,
    )  # fmt: skip


@routes.get("/v1/playback/{asset_id}")
async def playback_urls(request: web.Request) -> web.Response:
    """Signed HLS and DASH URLs: each configured CDN, primary first, then the origin."""
    asset_id, params = asset_id_of(request), query_params(request, PlaybackParams)
    body = await authorise(request.app, asset_id, params.ttl)
    return web.json_response(body, headers={"Cache-Control": "private, no-store"})


@routes.get("/v1/playback/{asset_id}/steering/{kind}")
async def steering_manifest(request: web.Request) -> web.Response:
    """The content steering manifest players fetch (HLS: pathways; DASH: service locations).

    The viewer's master playlist and MPD list every path-token source and name this URL
    (origin/steering.py); this orders them: the CDNs first, the origin last. "." is the single
    default pathway of a master served with a query token.
    """
    settings = request.app[SETTINGS_KEY]
    await known_asset(request.app, asset_id_of(request))
    names = [name for name, _ in path_token_sources(settings)]
    reload_uri = str(request.url.with_query(None))
    body: dict[str, object]
    if request.match_info["kind"] == "hls":
        body = {"VERSION": 1, "TTL": 300, "RELOAD-URI": reload_uri,
                "PATHWAY-PRIORITY": [*names, "."]}  # fmt: skip
    elif request.match_info["kind"] == "dash":
        body = {"VERSION": 1, "TTL": 300, "RELOAD-URI": reload_uri,
                "SERVICE-LOCATION-PRIORITY": names}  # fmt: skip
    else:
        raise NotFound("steering manifests are 'hls' or 'dash'")
    return web.json_response(body, headers={"Cache-Control": "public, max-age=60"})
