"""Playback URLs for a published asset: every configured CDN, primary first, then the origin.

Each source gets an origin token scoped to the asset version's folder. Path-token sources (the
local edge, the origin) carry it in the path, so players need no help; query-token CDNs
(CloudFront, Cloudflare) carry it, with their own signature, in the query, and the origin adds
the same query to every URI in the manifests it serves.
"""

from __future__ import annotations

import time
from typing import Any, Literal
from uuid import UUID

from cdn_adapters.base import CdnAdapter
from cdn_adapters.local_edge import LocalEdgeAdapter
from streamcore import signing
from streamcore.assets import keys
from streamcore.settings import Settings

MANIFESTS = {"hls": "master.m3u8", "dash": "manifest.mpd"}


def token_mode(adapter: CdnAdapter) -> Literal["path", "query"]:
    return "path" if isinstance(adapter, LocalEdgeAdapter) else "query"


def _poster(images: dict[str, Any]) -> str | None:
    """The widest JPEG poster (they are at most 1280 wide): posters are named poster_<w>.jpg."""
    jpegs = [p for p in images.get("posters", []) if p.endswith(".jpg")]
    return (
        max(jpegs, key=lambda p: int(p.rsplit("_", 1)[-1].removesuffix(".jpg"))) if jpegs else None
    )


def sources(
    settings: Settings,
    adapters: list[CdnAdapter],
    asset_id: UUID,
    version: int,
    *,
    ttl_s: int,
    images: dict[str, Any] | None = None,
    client_ip: str | None = None,
) -> dict[str, Any]:
    origin = settings.origin
    assert origin.active_key_id is not None
    scope = "/" + keys.version_prefix(asset_id, version)
    token = signing.sign(
        origin.signing_keys, origin.active_key_id, scope, ttl_s=ttl_s, client_ip=client_ip
    )
    files = dict(MANIFESTS)
    if images and (poster := _poster(images)):
        files["poster"] = poster
    if images and images.get("storyboard"):
        files["storyboard"] = images["storyboard"]
    entries = []
    for adapter in adapters:
        urls = {}
        for kind, name in files.items():
            if token_mode(adapter) == "path":
                urls[kind] = adapter.signed_url(scope + name, ttl_s=ttl_s, scope=scope)
            else:
                path = f"{scope}{name}?{origin.token_param}={token}"
                urls[kind] = adapter.signed_url(path, ttl_s=ttl_s, scope=scope, client_ip=client_ip)
        entries.append({"name": adapter.name, "kind": "cdn", **urls})
    entries.append(
        {
            "name": "origin",
            "kind": "origin",
            **{
                k: signing.path_url(origin.base_url, token, scope + n) for k, n in MANIFESTS.items()
            },
        }
    )
    return {
        "asset_id": str(asset_id),
        "version": version,
        "expires_at": int(time.time()) + ttl_s,
        "sources": entries,
    }
