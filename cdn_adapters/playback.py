"""Playback URLs for a published asset: every configured CDN, primary first, then the origin.

One origin token, scoped to the asset version's folder (and, with `renditions`, to those
renditions: the ``only`` of streamcore/signing.py), opens every source. Path-token sources (the
local edges, the origin) carry it in the path, in one shape, ``{source}/t/{token}/assets/...``,
so players need no help and may switch between them; query-token CDNs (CloudFront,
Cloudflare) carry it, with their own signature, in the query, and the origin adds the same
query to every URI in the manifests it serves.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from cdn_adapters.base import CdnAdapter, TokenMode
from streamcore import signing
from streamcore.assets import keys
from streamcore.cache.memo import Memo
from streamcore.settings import Settings

MANIFESTS = {"hls": "master.m3u8", "dash": "manifest.mpd"}


def sources(
    settings: Settings,
    adapters: list[CdnAdapter],
    asset_id: UUID,
    version: int,
    *,
    ttl_s: int,
    images: dict[str, Any] | None = None,
    client_ip: str | None = None,
    renditions: Sequence[str] | None = None,
    slot: str | None = None,
    session: UUID | None = None,
) -> dict[str, Any]:
    """Every source's URLs; `renditions` (None: all) limits what the token opens. `slot`
    names the stream slot the grant belongs to (a watch session; None: a slot of its own);
    `session` the playback session the player reports its events and CMCD data under (claim
    ``sid``: streamcore/signing.py)."""
    origin = settings.origin
    assert origin.active_key_id is not None
    scope = "/" + keys.version_prefix(asset_id, version)
    # The grant's id is its stream slot, whose media share one rate budget: a session's
    # renewed tokens keep it, any other playback gets one of its own.
    token = signing.sign(
        origin.signing_keys, origin.active_key_id, scope, ttl_s=ttl_s, client_ip=client_ip,
        only=renditions, grant_id=slot or secrets.token_urlsafe(12),
        session_id=str(session) if session is not None else None,
    )  # fmt: skip
    files = dict(MANIFESTS)
    if images and (poster := keys.widest_poster(images)):
        files["poster"] = poster
    if images and images.get("storyboard"):
        files["storyboard"] = images["storyboard"]
    entries = [
        {"name": adapter.name, "kind": "cdn",
         **_cdn_urls(settings, adapter, token, scope, files, ttl_s=ttl_s, client_ip=client_ip)}
        for adapter in adapters
    ]  # fmt: skip
    origin_urls = {
        k: signing.path_url(settings.origin_url, token, scope + n) for k, n in MANIFESTS.items()
    }
    entries.append({"name": "origin", "kind": "origin", **origin_urls})
    body: dict[str, Any] = {
        "asset_id": str(asset_id),
        "version": version,
        "expires_at": int(time.time()) + ttl_s,
        "sources": entries,
    }
    if renditions is not None:
        # As given (allowed_renditions lists them lowest first); a set has no order: sorted.
        body["renditions"] = (
            list(renditions) if isinstance(renditions, list | tuple) else sorted(renditions)
        )
    return body


def _cdn_urls(
    settings: Settings,
    adapter: CdnAdapter,
    token: str,
    scope: str,
    files: dict[str, str],
    *,
    ttl_s: int,
    client_ip: str | None,
) -> dict[str, str]:
    """One CDN's URLs of `files` (kind -> name in the `scope` folder), carrying `token`."""
    urls = {}
    for kind, name in files.items():
        if adapter.token_mode is TokenMode.PATH:
            # The same token, in the same place, as the origin's URLs.
            urls[kind] = adapter.asset_url(signing.path_url("", token, scope + name))
        else:
            path = signing.query_url("", token, scope + name, settings.origin.token_param)
            urls[kind] = adapter.signed_url(path, ttl_s=ttl_s, scope=scope, client_ip=client_ip)
    return urls


HOUR = 3600


def image_expiry(ttl_s: int, now: float) -> int:
    """When an image URL signed at `now` for `ttl_s` expires: rounded up to a whole hour, so
    that the URL changes only when this does (a rendering may be kept until then)."""
    return -(-(int(now) + ttl_s) // HOUR) * HOUR


def image_url(
    settings: Settings,
    adapters: list[CdnAdapter],
    path: str,
    *,
    ttl_s: int,
    scope: str | None = None,
    now: float | None = None,
) -> str:
    """A signed URL of one image (a poster, a thumbnail) through the primary CDN.

    The origin when no CDN is configured. The expiry is rounded up to a whole hour, so that
    every response within the hour carries the same URL: one cache entry at the CDN and in
    browsers, and API responses that may be cached. `scope` (a folder) lets one token open
    the folder's other images too.
    """
    origin = settings.origin
    assert origin.active_key_id is not None
    moment = int(now if now is not None else time.time())
    ttl = image_expiry(ttl_s, moment) - moment
    token = signing.sign(
        origin.signing_keys, origin.active_key_id, scope or path, ttl_s=ttl, now=moment
    )
    if not adapters:
        return signing.path_url(settings.origin_url, token, path)
    adapter = adapters[0]
    if adapter.token_mode is TokenMode.PATH:
        # The token is built here, from `moment`, rather than by the adapter from its own
        # clock: the URL then depends on nothing but the hour.
        return adapter.asset_url(signing.path_url("", token, path))
    query_path = signing.query_url("", token, path, origin.token_param)
    return adapter.signed_url(query_path, ttl_s=ttl, scope=scope)


class ImageUrls:
    """`image_url`, each URL signed once for its expiry hour and then reused.

    A URL changes only with its expiry (`image_expiry`), so the one made first in the hour is
    the one every response of the hour carries: for the origin and path-token CDNs the very
    same bytes `image_url` would make; for query-token CDNs, whose adapters read their own
    clock, the same expiry to the second. What is kept is bounded (``max_entries``)."""

    def __init__(self, settings: Settings, adapters: list[CdnAdapter], max_entries: int) -> None:
        self._settings, self._adapters = settings, adapters
        self._memo: Memo[tuple[str, str | None, int, int], str] = Memo(max_entries)

    def url(self, path: str, *, ttl_s: int, scope: str | None = None, now: float) -> str:
        moment = int(now)
        return self._memo.get_or_make(
            (path, scope, ttl_s, image_expiry(ttl_s, moment)),
            lambda: image_url(
                self._settings, self._adapters, path, ttl_s=ttl_s, scope=scope, now=moment
            ),
        )
