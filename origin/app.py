"""The origin's app factory."""

from __future__ import annotations

from aiohttp import web

from origin import handlers
from origin.disk_cache import DiskCache
from origin.memory_cache import MemoryCache
from origin.rate_classes import RATE_CLASSES
from origin.resources import (
    CACHE_KEY,
    DISK_KEY,
    LOAD_KEY,
    METRICS_KEY,
    Load,
    OriginMetrics,
    disk_cache,
    storage,
)
from streamcore import delivery
from streamcore.ratelimit.guard import RateGuard
from streamcore.settings import Settings
from streamcore.storage import ObjectNotFound, StorageUnavailable
from streamcore.web import diagnostics
from streamcore.web.cors import cors_headers, preflight
from streamcore.web.service import (
    SETTINGS_KEY,
    Handler,
    NotFound,
    ServiceUnavailable,
    health_routes,
    json_errors,
)


@web.middleware
async def shed_load(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Past max_inflight, answer 503 + Retry-After: players retry a 5xx, never a 4xx."""
    load = request.app[LOAD_KEY]
    if load.inflight >= request.app[SETTINGS_KEY].origin.max_inflight:
        request.app[METRICS_KEY].overloaded.inc()
        raise ServiceUnavailable(
            "the origin is overloaded; retry shortly", headers={"Retry-After": "1"}
        )
    load.inflight += 1
    try:
        return await handler(request)
    finally:
        load.inflight -= 1


@web.middleware
async def storage_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ObjectNotFound:
        raise NotFound("no such file") from None
    except StorageUnavailable as exc:
        raise ServiceUnavailable(
            f"storage is unavailable ({exc}); retry shortly", headers={"Retry-After": "2"}
        ) from None


def create_app(settings: Settings) -> web.Application:
    cache = MemoryCache(settings.origin.memory_cache_bytes, settings.origin.memory_cache_ttl_s)
    disk = DiskCache(
        settings.origin_disk_cache_dir,
        settings.origin.disk_cache_bytes,
        settings.origin.disk_cache_max_object_bytes,
    )
    metrics = OriginMetrics(cache, disk)
    guard = RateGuard("origin", RATE_CLASSES, metrics.registry)
    # Outermost first: measure everything, watch every final status (the rate guard's
    # observer), turn errors into JSON, spend the stream slot's budget (there is no signed-in
    # caller here: streamcore/ratelimit/budgets.py), count what each playback session got
    # (the players' CMCD: streamcore/delivery.py), turn errors into JSON, then shed load.
    app = web.Application(
        middlewares=[
            metrics.middleware(), guard.observer, delivery.middleware, json_errors,
            guard.limiter, shed_load, storage_errors,
        ]
    )  # fmt: skip
    app[SETTINGS_KEY] = settings
    guard.install(app)
    delivery.install(app, "origin")
    app[CACHE_KEY] = cache
    app[DISK_KEY] = disk
    app[METRICS_KEY] = metrics
    app[LOAD_KEY] = Load()
    app.cleanup_ctx.append(storage)
    app.cleanup_ctx.append(disk_cache)
    app.on_response_prepare.append(cors_headers(settings.origin.cors_allowed_origins))
    app.add_routes(
        [
            *health_routes(),
            *diagnostics.routes("origin"),
            web.get("/metrics", metrics.handler),
            web.get("/t/{token}/{tail:.+}", handlers.serve_path_token),
            web.get("/assets/{tail:.+}", handlers.serve_query_token),
            web.get("/titles/{tail:.+}", handlers.serve_query_token),
            web.options("/{tail:.*}", preflight()),
        ]
    )
    return app
