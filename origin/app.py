"""The origin's app factory."""

from __future__ import annotations

from aiohttp import web

from streamcore.settings import Settings
from streamcore.web import SETTINGS_KEY, health_routes


def create_app(settings: Settings) -> web.Application:
    app = web.Application()
    app[SETTINGS_KEY] = settings
    app.add_routes(health_routes())
    return app
