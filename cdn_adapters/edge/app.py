"""The local edge: a caching reverse proxy in front of the origin, run by `streamcore up`.

It behaves as the CDNs we support do: it checks the viewer's token itself, before its cache
(scope, expiry and the renditions a plan's token opens: a segment held for one viewer is never
handed to a token that does not open it), caches by the path without the token (one copy
serves every viewer), honours the origin's Cache-Control, collapses concurrent misses into one
origin request, marks responses ``X-Cache: HIT`` or ``MISS``, and forgets paths when told to
through its purge endpoint.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
from aiohttp import web

from cdn_adapters.edge.cache import KEPT_HEADERS, EdgeCache, Stored, freshness
from streamcore import delivery
from streamcore.ratelimit.classes import RateClass
from streamcore.ratelimit.guard import RateGuard
from streamcore.settings import LocalEdgeCdn, Settings
from streamcore.signing import derived_key
from streamcore.web.access import authorize, path_token_request
from streamcore.web.cors import cors_headers, preflight
from streamcore.web.metrics import HttpMetrics
from streamcore.web.representation import Representation, http_date, respond
from streamcore.web.service import SETTINGS_KEY, Unauthorized, error_response, json_errors

EDGE_KEY = web.AppKey("edge_settings", LocalEdgeCdn)
CACHE_KEY = web.AppKey("edge_cache", EdgeCache)
CLIENT_KEY = web.AppKey("origin_client", aiohttp.ClientSession)
_TEXT_TYPES = ("application/vnd.apple.mpegurl", "application/dash+xml", "text/vtt")


def purge_key(settings: Settings) -> bytes:
    """The edge's purge credential, derived from the active signing key: nothing more to keep."""
    return derived_key(settings.origin.signing_keys, settings.origin.active_key_id, "edge-purge")


async def _origin_client(app: web.Application) -> AsyncIterator[None]:
    timeout = aiohttp.ClientTimeout(total=60, connect=5)
    async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session:
        app[CLIENT_KEY] = session
        yield


async def _load(app: web.Application, token: str, path: str) -> Stored:
    """One request to the origin, for the whole object (ranges are cut from the copy)."""
    url = f"{app[SETTINGS_KEY].origin_url}/t/{token}{path}"
    async with app[CLIENT_KEY].get(url, headers={"Accept-Encoding": "identity"}) as response:
        body = await response.read()
        headers = {
            name: response.headers[name] for name in KEPT_HEADERS if name in response.headers
        }
        headers.pop("Content-Length", None)
        ttl = freshness(response.headers.get("Cache-Control")) if response.status == 200 else None
        return Stored(
            status=response.status,
            headers=headers,
            body=body,
            expires_at=time.monotonic() + (ttl or 0),
            cacheable=ttl is not None,
        )


async def serve(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS_KEY]
    token, path = path_token_request(request)
    authorize(request, settings, token, path)  # before the cache, whatever it holds
    stored, hit = await request.app[CACHE_KEY].fetch(path, lambda: _load(request.app, token, path))
    x_cache = {"X-Cache": "HIT" if hit else "MISS"}
    if stored.status != 200:
        return web.Response(
            status=stored.status, body=stored.body, headers={**stored.headers, **x_cache}
        )
    etag = stored.headers.get("ETag", '""').strip('"')
    modified = http_date(stored.headers.get("Last-Modified")) or datetime.now(UTC)
    extra = {k: v for k, v in stored.headers.items() if k not in ("ETag", "Last-Modified", "Vary")}
    rep = Representation(
        body=stored.body,
        etag=etag,
        last_modified=modified,
        headers={**extra, **x_cache},
        compressible=stored.headers.get("Content-Type", "") in _TEXT_TYPES,
    )
    return await respond(request, rep)


async def purge(request: web.Request) -> web.Response:
    presented = request.headers.get("Authorization", "").removeprefix("Bearer ").encode()
    if not hmac.compare_digest(presented, purge_key(request.app[SETTINGS_KEY])):
        raise Unauthorized("a valid purge key is required")
    payload = await request.json()
    paths = payload.get("paths") if isinstance(payload, dict) else None
    if not isinstance(paths, list) or not all(
        isinstance(p, str) and p.startswith("/") for p in paths
    ):
        return error_response(400, "bad_request", 'expected {"paths": ["/absolute/path", ...]}')
    return web.json_response({"purged": request.app[CACHE_KEY].purge(paths)})


async def stats(request: web.Request) -> web.Response:
    s = request.app[CACHE_KEY].stats
    return web.json_response(
        {"hits": s.hits, "misses": s.misses, "origin_requests": s.origin_requests,
         "purged": s.purged, "origin_requests_by_path": s.by_path}
    )  # fmt: skip


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


# Files are MEDIA, budgeted per stream slot (streamcore/ratelimit/budgets.py), like the
# origin's; the cache's control endpoints are the stack's own (the workers purge through them).
RATE_CLASSES = {
    "GET /t/{token}/{tail}": RateClass.MEDIA,
    "GET /_edge/stats": RateClass.UNLIMITED,
    "POST /_edge/purge": RateClass.UNLIMITED,
}


def create_edge_app(settings: Settings, edge: LocalEdgeCdn) -> web.Application:
    metrics = HttpMetrics("edge")
    guard = RateGuard("edge", RATE_CLASSES, metrics.registry)
    # What each playback session got from this edge (the players' CMCD, which is not passed
    # on to the origin: a miss is counted once, here): streamcore/delivery.py.
    app = web.Application(
        middlewares=[
            metrics.middleware(), guard.observer, delivery.middleware, json_errors,
            guard.limiter,
        ]
    )  # fmt: skip
    app[SETTINGS_KEY] = settings
    guard.install(app)
    delivery.install(app, f"edge:{edge.name}")
    app[EDGE_KEY] = edge
    app[CACHE_KEY] = EdgeCache(edge.cache_bytes)
    app.cleanup_ctx.append(_origin_client)
    app.on_response_prepare.append(cors_headers(settings.origin.cors_allowed_origins))
    app.add_routes(
        [
            web.get("/healthz", healthz),
            web.get("/metrics", metrics.handler),
            web.get("/_edge/stats", stats),
            web.post("/_edge/purge", purge),
            web.get("/t/{token}/{tail:.+}", serve),
            web.options("/{tail:.*}", preflight()),
        ]
    )
    return app
