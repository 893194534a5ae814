"""Playback authorisation: signed playback URLs, and the content steering manifests.

Both ask the catalog what the asset is (streaming/catalog_client.py); the URLs are signed by
cdn_adapters/playback.py, for every configured CDN, primary first, then the origin.

Who gets URLs, and for how long (docs/streaming.md, "Accounts and stream slots"):

- a signed-in viewer only while one of its account's stream slots is held by this device for
  this asset (POST /v1/sessions takes it; otherwise 409 ``no_stream_slot``), and then for
  ``streaming.playback_token_ttl_s`` only, whatever ``ttl`` asks: a copied URL dies within that
  once the slot is gone, since only heartbeats of a held slot renew it. Taking a slot here
  instead would let a GET loop hold slots without sessions; requiring one cannot be bypassed:
  every URL a signed-in caller ever gets was handed out while a slot was held;
- an anonymous viewer (where allowed) and a service account (a script's key) as before
  accounts: URLs for ``ttl`` (default ``origin.playback_ttl_s``), no slot.

Every grant to a signed-in viewer first checks the profile's maturity against the asset's
certification (403 ``restricted``) and that the device has not been signed out. Every grant
to anyone then asks what the viewer's plan allows (streaming/entitlement.py): premium titles
(403 ``not_entitled``), and the renditions the URLs' token opens.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web

from cdn_adapters.playback import sources as playback_sources
from streamcore.settings import path_token_sources
from streamcore.web.service import SETTINGS_KEY, Conflict, NotFound
from streamcore.web.validation import path_uuid, query_params
from streaming import entitlement, grants, writes
from streaming.catalog_client import CatalogAsset
from streaming.entitlement import Playback
from streaming.models import PlaybackParams
from streaming.resources import ADAPTERS_KEY, CATALOG_KEY, DB_POOL_KEY, SLOTS_KEY
from streaming.viewer import signed_in

routes = web.RouteTableDef()
_PRIVATE = {"Cache-Control": "private, no-store"}


class NotReady(Conflict):
    code = "not_ready"


class NoStreamSlot(Conflict):
    code = "no_stream_slot"


def asset_id_of(request: web.Request) -> UUID:
    return path_uuid(request, "asset_id", "asset")


async def known_asset(app: web.Application, asset_id: UUID, *, fresh: bool = False) -> CatalogAsset:
    """The catalog's asset (maybe from the client's short cache, unless `fresh`); 404 if it has
    none, 503 if it cannot say."""
    asset = await app[CATALOG_KEY].asset(asset_id, fresh=fresh)
    if asset is None:
        raise NotFound(f"no asset with id {asset_id}")
    return asset


async def playable(app: web.Application, asset_id: UUID, *, fresh: bool = True) -> CatalogAsset:
    """The asset with a published version (409 before it has one), as the catalog says it is
    now: grants ask afresh, since the version before may be deleted already. Heartbeats'
    renewals (`fresh` False) take the client's few seconds' cache: one call per stream every
    few seconds would be the catalog's heaviest load."""
    asset = await known_asset(app, asset_id, fresh=fresh)
    if asset.version < 1:
        raise NotReady(f"the asset is {asset.status} and has no published version yet")
    return asset


def signed(
    app: web.Application,
    asset: CatalogAsset,
    ttl_s: int,
    grant: Playback,
    session_id: UUID | None = None,
    *,
    playback_session: UUID | None = None,
) -> dict[str, Any]:
    """Signed HLS and DASH URLs of the asset's published version, valid for `ttl_s`, opening
    the renditions of `grant` alone; a session's URLs name it as their stream slot (the
    media's rate budget: docs/ratelimits.md) and as their playback session (claim ``sid``).
    Without a slot, `playback_session` (the player's own id) is the ``sid`` alone."""
    return playback_sources(
        app[SETTINGS_KEY], app[ADAPTERS_KEY], asset.id, asset.version,
        ttl_s=ttl_s, images=asset.images, renditions=grant.renditions,
        slot=session_id.hex if session_id is not None else None,
        session=session_id if session_id is not None else playback_session,
    )  # fmt: skip


async def authorise(request: web.Request, asset_id: UUID, params: PlaybackParams) -> dict[str, Any]:
    """URLs for an anonymous viewer (the free plan's) or a tool (unlimited): for `params.ttl`
    (default origin.playback_ttl_s), naming the player's `params.session_id` if it gave one."""
    app = request.app
    asset = await playable(app, asset_id)
    grant = entitlement.of_caller(request, asset)
    ttl_s = params.ttl or app[SETTINGS_KEY].origin.playback_ttl_s
    return signed(app, asset, ttl_s, grant, playback_session=params.session_id)


@routes.get("/v1/playback/{asset_id}")
async def playback_urls(request: web.Request) -> web.Response:
    """Signed HLS and DASH URLs: each configured CDN, primary first, then the origin."""
    asset_id, params = asset_id_of(request), query_params(request, PlaybackParams)
    app, viewer = request.app, signed_in(request)
    if viewer is None:
        body = await authorise(request, asset_id, params)
        await grants.audit_tool_grant(request, asset_id)
        return web.json_response(body, headers=_PRIVATE)
    assert viewer.account_id is not None
    await grants.not_signed_out(app, viewer)
    asset = await playable(app, asset_id)
    grants.may_watch(app, viewer, asset)
    grant = await entitlement.of_account(app, viewer.account_id, asset)
    held = await app[SLOTS_KEY].holders(viewer.account_id)
    timeout_s = app[SETTINGS_KEY].streaming.slot_timeout_s
    await writes.end_expired(app[DB_POOL_KEY], held.expired, timeout_s)
    slot = next(
        (s for s in held.holders
         if s.asset_id == str(asset_id) and s.device_id == str(viewer.device_id)),
        None,
    )  # fmt: skip
    if slot is None:
        raise NoStreamSlot("playing needs a stream slot: start a session (POST /v1/sessions)")
    session_id = UUID(slot.session_id)
    ttl_s = app[SETTINGS_KEY].streaming.playback_token_ttl_s
    body = signed(app, asset, ttl_s, grant, session_id)
    await grants.audit_grant(request, viewer, asset_id, session_id)
    return web.json_response(body, headers=_PRIVATE)


@routes.get("/v1/playback/{asset_id}/steering/{kind}")
async def steering_manifest(request: web.Request) -> web.Response:
    """The content steering manifest players fetch (HLS: pathways; DASH: service locations).

    The viewer's master playlist and MPD list every path-token source and name this URL
    (origin/steering.py); this orders them: the CDNs first, the origin last. "." is the single
    default pathway of a master served with a query token. Public: players fetch it without
    any header, and it names no URL that opens anything.
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
