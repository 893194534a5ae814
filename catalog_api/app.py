"""The catalog API's app factory: resources open and close in cleanup contexts."""

from __future__ import annotations

from aiohttp import web

from catalog_api import player, resources
from catalog_api.assets.handlers import routes as asset_routes
from catalog_api.auth import require_api_key
from catalog_api.viewing.handlers import routes as viewing_routes
from cdn_adapters.registry import build_adapters
from streamcore.cors import cors_headers, preflight
from streamcore.settings import Settings
from streamcore.web import SETTINGS_KEY, health_routes, json_errors


async def _database_ready(app: web.Application) -> None:
    async with app[resources.DB_POOL_KEY].acquire(timeout=2) as conn:
        await conn.fetchval("SELECT 1")


def create_app(settings: Settings) -> web.Application:
    # json_errors is outermost, so that errors raised by the other middlewares are JSON too.
    app = web.Application(middlewares=[json_errors, require_api_key])
    app[SETTINGS_KEY] = settings
    app[resources.ADAPTERS_KEY] = build_adapters(settings)
    app.cleanup_ctx.extend(
        [resources.database, resources.redis_client, resources.storage, resources.task_queue]
    )
    # Players on other origins call the viewer endpoints and fetch steering manifests.
    app.on_response_prepare.append(cors_headers(settings.origin.cors_allowed_origins))
    app.router.add_route("OPTIONS", "/v1/{tail:.*}", preflight("GET, HEAD, PUT, POST, OPTIONS"))
    app.add_routes(health_routes(ready_check=_database_ready))
    app.add_routes(asset_routes)
    app.add_routes(viewing_routes)
    app.add_routes(player.routes)
    return app
