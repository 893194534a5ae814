"""The analytics service's app factory: resources open and close in cleanup contexts."""

from __future__ import annotations

from aiohttp import web

from analytics import collector, dashboard, handlers, openapi, qoe_metrics, resources
from analytics.alerts import handlers as alert_handlers
from analytics.permissions import PERMISSIONS
from streamcore.auth.middleware import authentication, authorization, remote_keys
from streamcore.ratelimit.guard import RateGuard
from streamcore.settings import Settings
from streamcore.web import diagnostics
from streamcore.web.cors import cors_headers, preflight
from streamcore.web.database import database_errors, database_ready
from streamcore.web.metrics import HttpMetrics
from streamcore.web.openapi import document_route
from streamcore.web.service import SETTINGS_KEY, health_routes, json_errors


def create_app(settings: Settings) -> web.Application:
    metrics = HttpMetrics("analytics")
    guard = RateGuard("analytics", {}, metrics.registry)
    app = web.Application(middlewares=[
        metrics.middleware(), guard.observer, json_errors, database_errors,
        authentication, guard.limiter, authorization(PERMISSIONS),
    ])  # fmt: skip
    app[SETTINGS_KEY] = settings
    guard.install(app)
    app[resources.METRICS_KEY] = metrics
    app.cleanup_ctx.extend(
        [resources.database, resources.redis_client, resources.http_client, remote_keys]
    )
    # Players on other origins post their events here.
    app.on_response_prepare.append(cors_headers(settings.origin.cors_allowed_origins))
    app.router.add_route("OPTIONS", "/v1/{tail:.*}", preflight("GET, POST, OPTIONS"))
    app.add_routes(health_routes(ready_check=database_ready(resources.DB_POOL_KEY)))
    app.add_routes(diagnostics.routes("analytics"))
    app.add_routes(collector.routes)
    app.add_routes(handlers.routes)
    app.add_routes(alert_handlers.routes())
    app.add_routes([qoe_metrics.scrape_route(metrics, resources.DB_POOL_KEY)])
    app.add_routes(dashboard.routes)
    app.add_routes([document_route(openapi.PATH, openapi.document())])
    return app
