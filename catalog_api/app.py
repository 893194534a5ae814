"""The catalog API's app factory: resources open and close in cleanup contexts."""

from __future__ import annotations

import logging

from aiohttp import web

from catalog_api import openapi, player, resources
from catalog_api.assets.handlers import routes as asset_routes
from catalog_api.auth import require_api_key
from catalog_api.metrics import CatalogMetrics
from catalog_api.titles.handlers import routes as title_routes
from catalog_api.viewing.handlers import routes as viewing_routes
from cdn_adapters.registry import build_adapters
from streamcore.db.database import UNAVAILABLE_ERRORS
from streamcore.settings import Settings
from streamcore.web import diagnostics
from streamcore.web.cors import cors_headers, preflight
from streamcore.web.service import (
    SETTINGS_KEY,
    Handler,
    ServiceUnavailable,
    health_routes,
    json_errors,
)

log = logging.getLogger(__name__)


@web.middleware
async def database_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """No server could answer (as opposed to a bad query): 503, which clients retry."""
    try:
        return await handler(request)
    except UNAVAILABLE_ERRORS as exc:
        log.warning("%s %s: the database is unavailable: %r", request.method, request.path, exc)
        raise ServiceUnavailable(
            "the database is unavailable; retry shortly", headers={"Retry-After": "2"}
        ) from None


async def _database_ready(app: web.Application) -> None:
    async with app[resources.DB_POOL_KEY].acquire(timeout=2) as conn:
        await conn.fetchval("SELECT 1")


def create_app(settings: Settings) -> web.Application:
    metrics = CatalogMetrics()
    # Metrics outermost (every answer is counted, errors included); then json_errors, so that
    # errors raised by the other middlewares are JSON too.
    app = web.Application(
        middlewares=[metrics.middleware(), json_errors, database_errors, require_api_key]
    )
    app[SETTINGS_KEY] = settings
    app[resources.METRICS_KEY] = metrics
    app[resources.ADAPTERS_KEY] = build_adapters(settings)
    app.cleanup_ctx.extend(
        [
            resources.database,
            resources.redis_client,
            resources.cache,
            resources.storage,
            resources.task_queue,
        ]
    )
    # Players on other origins call the viewer endpoints and fetch steering manifests.
    app.on_response_prepare.append(cors_headers(settings.origin.cors_allowed_origins))
    methods = "GET, HEAD, PUT, POST, PATCH, DELETE, OPTIONS"
    app.router.add_route("OPTIONS", "/v1/{tail:.*}", preflight(methods))
    app.add_routes(health_routes(ready_check=_database_ready))
    app.add_routes(diagnostics.routes("catalog"))
    app.router.add_get("/metrics", metrics.handler)
    app.add_routes(asset_routes)
    app.add_routes(viewing_routes)
    app.add_routes(title_routes)
    app.add_routes(openapi.routes)
    app.add_routes(player.routes)
    return app
