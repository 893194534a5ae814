"""The catalog API's app factory: resources open and close in cleanup contexts."""

from __future__ import annotations

from aiohttp import web

from catalog_api import openapi, player, resources
from catalog_api.assets.captions import routes as caption_routes
from catalog_api.assets.handlers import routes as asset_routes
from catalog_api.assets.moved import routes as moved_routes
from catalog_api.metrics import CatalogMetrics
from catalog_api.permissions import PERMISSIONS
from catalog_api.rate_classes import RATE_CLASSES
from catalog_api.titles.handlers import routes as title_routes
from cdn_adapters.playback import ImageUrls
from cdn_adapters.registry import build_adapters
from streamcore.auth.middleware import authentication, authorization, remote_keys
from streamcore.ratelimit.guard import RateGuard
from streamcore.settings import Settings
from streamcore.web import diagnostics
from streamcore.web.cors import cors_headers, preflight
from streamcore.web.database import database_errors, database_ready
from streamcore.web.service import SETTINGS_KEY, health_routes, json_errors


def create_app(settings: Settings) -> web.Application:
    metrics = CatalogMetrics()
    guard = RateGuard("catalog", RATE_CLASSES, metrics.registry)
    # Metrics outermost (every answer is counted, errors included); the rate guard's observer
    # (it sees every final status); then json_errors, so that errors raised by the other
    # middlewares are JSON too; then who the caller is, their budget
    # (streamcore/ratelimit/guard.py), and whether the route's permission (permissions.py)
    # is one its role holds.
    app = web.Application(
        middlewares=[
            metrics.middleware(), guard.observer, json_errors, database_errors,
            authentication, guard.limiter, authorization(PERMISSIONS),
        ]
    )  # fmt: skip
    app[SETTINGS_KEY] = settings
    guard.install(app)
    app[resources.METRICS_KEY] = metrics
    app[resources.ADAPTERS_KEY] = adapters = build_adapters(settings)
    # About as many images as the cache holds titles (a title has two, as have its assets).
    image_urls = ImageUrls(settings, adapters, 4 * settings.cache.local_max_entries)
    app[resources.IMAGE_URLS_KEY] = image_urls
    app.cleanup_ctx.extend(
        [
            remote_keys,  # the auth service's public keys (its JWKS, through the gateway)
            resources.database,
            resources.redis_client,
            resources.cache,
            resources.storage,
            resources.task_queue,
            resources.entitlements_client,  # what accounts' plans grant (locks.py)
        ]
    )
    # Players and pages on other origins read titles and assets, and follow the moved paths.
    app.on_response_prepare.append(cors_headers(settings.origin.cors_allowed_origins))
    methods = "GET, HEAD, PUT, POST, PATCH, DELETE, OPTIONS"
    app.router.add_route("OPTIONS", "/v1/{tail:.*}", preflight(methods))
    app.add_routes(health_routes(ready_check=database_ready(resources.DB_POOL_KEY)))
    app.add_routes(diagnostics.routes("catalog"))
    app.router.add_get("/metrics", metrics.handler)
    app.add_routes(asset_routes)
    app.add_routes(caption_routes)
    app.add_routes(moved_routes)
    app.add_routes(title_routes)
    app.add_routes(openapi.routes())
    app.add_routes(player.routes)
    return app
