"""The notifications service's app factory: resources open and close in cleanup contexts."""

from __future__ import annotations

from aiohttp import web

from notifications import handlers, openapi, resources
from notifications.permissions import PERMISSIONS
from streamcore.auth.middleware import authentication, authorization, remote_keys
from streamcore.ratelimit.guard import RateGuard
from streamcore.settings import Settings
from streamcore.web import diagnostics
from streamcore.web.cors import cors_headers, preflight
from streamcore.web.metrics import HttpMetrics
from streamcore.web.openapi import document_route
from streamcore.web.service import SETTINGS_KEY, health_routes, json_errors


async def _redis_ready(app: web.Application) -> None:
    await app[resources.REDIS_KEY].ping()


def create_app(settings: Settings) -> web.Application:
    metrics = HttpMetrics("notifications")
    guard = RateGuard("notifications", {}, metrics.registry)
    app = web.Application(middlewares=[
        metrics.middleware(), guard.observer, json_errors,
        authentication, guard.limiter, authorization(PERMISSIONS),
    ])  # fmt: skip
    app[SETTINGS_KEY] = settings
    guard.install(app)
    app[resources.METRICS_KEY] = metrics
    app.cleanup_ctx.extend([resources.redis_client, resources.hub, remote_keys])
    app.on_shutdown.append(resources.close_sockets)
    app.on_response_prepare.append(cors_headers(settings.origin.cors_allowed_origins))
    app.router.add_route("OPTIONS", "/v1/{tail:.*}", preflight("GET, POST, OPTIONS"))
    app.add_routes(handlers.routes)
    app.add_routes(health_routes(ready_check=_redis_ready))
    app.add_routes(diagnostics.routes("notifications"))
    app.router.add_get("/metrics", metrics.handler)
    app.add_routes([document_route(openapi.PATH, openapi.document())])
    return app
