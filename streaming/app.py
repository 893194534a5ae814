"""The streaming service's app factory: resources open and close in cleanup contexts."""

from __future__ import annotations

import logging

from aiohttp import web
from redis.exceptions import RedisError

from cdn_adapters.registry import build_adapters
from streamcore.auth.middleware import authentication, authorization, remote_keys
from streamcore.ratelimit.guard import RateGuard
from streamcore.settings import Settings
from streamcore.web import diagnostics
from streamcore.web.cors import cors_headers, preflight
from streamcore.web.database import database_errors, database_ready
from streamcore.web.openapi import document_route
from streamcore.web.service import (
    SETTINGS_KEY,
    Handler,
    ServiceUnavailable,
    health_routes,
    json_errors,
)
from streaming import openapi, resources
from streaming.history.flusher import flusher
from streaming.history.handlers import routes as history_routes
from streaming.metrics import StreamingMetrics
from streaming.permissions import PERMISSIONS
from streaming.playback import routes as playback_routes
from streaming.recommendations.handlers import routes as recommendation_routes
from streaming.sessions import routes as session_routes
from streaming.viewing import routes as viewing_routes

log = logging.getLogger(__name__)


@web.middleware
async def redis_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Redis holds the stream slots and revocations: without it, playback is not granted
    (progress copes on its own, streaming/progress.py)."""
    try:
        return await handler(request)
    except RedisError as exc:
        log.warning("Redis unavailable on %s %s: %s", request.method, request.path, exc)
        raise ServiceUnavailable(
            "stream slots cannot be checked right now; retry shortly", headers={"Retry-After": "2"}
        ) from None


def create_app(settings: Settings) -> web.Application:
    metrics = StreamingMetrics()
    # Every route is a read or a write (streamcore/ratelimit/classes.py).
    guard = RateGuard("streaming", {}, metrics.registry)
    # Metrics outermost (every answer is counted, errors included); the rate guard's observer
    # (it sees every final status); then json_errors, so that errors raised by the other
    # middlewares are JSON too; who is calling, their budget (streamcore/ratelimit/guard.py),
    # then whether they may (streaming/permissions.py), before any handler.
    app = web.Application(
        middlewares=[
            metrics.middleware(), guard.observer, json_errors, database_errors, redis_errors,
            authentication, guard.limiter, authorization(PERMISSIONS),
        ]
    )  # fmt: skip
    app[SETTINGS_KEY] = settings
    guard.install(app)
    app[resources.METRICS_KEY] = metrics
    app[resources.ADAPTERS_KEY] = build_adapters(settings)
    app.cleanup_ctx.extend(
        [
            resources.database,
            resources.redis_client,
            resources.catalog,
            resources.entitlements,
            resources.profiles,
            remote_keys,
            # Last in, first out: stopped (and its last batch written) before the pool closes.
            flusher(resources.DB_POOL_KEY, resources.REDIS_KEY, resources.METRICS_KEY),
        ]
    )
    # Players on other origins call every endpoint here and fetch the steering manifests.
    app.on_response_prepare.append(cors_headers(settings.origin.cors_allowed_origins))
    app.router.add_route("OPTIONS", "/v1/{tail:.*}", preflight("GET, PUT, POST, DELETE, OPTIONS"))
    app.add_routes(health_routes(ready_check=database_ready(resources.DB_POOL_KEY)))
    app.add_routes(diagnostics.routes("streaming"))
    app.router.add_get("/metrics", metrics.handler)
    app.add_routes(playback_routes)
    app.add_routes(session_routes)
    app.add_routes(viewing_routes)
    app.add_routes(history_routes)
    app.add_routes(recommendation_routes)
    app.add_routes([document_route(openapi.PATH, openapi.document())])
    return app
