"""The streaming service's permission table: every route declared, nothing else; steering
manifests public (players fetch them without headers), everything a viewer does PLAY."""

from __future__ import annotations

from streamcore.auth.middleware import unlisted_routes
from streamcore.auth.roles import Permission
from streamcore.settings import Settings
from streaming.app import create_app
from streaming.permissions import PERMISSIONS


def test_every_route_has_a_permission_and_every_permission_a_route(settings: Settings) -> None:
    app = create_app(settings)
    assert unlisted_routes(app, PERMISSIONS) == []
    routes = {
        f"{route.method} {route.resource.canonical}"
        for route in app.router.routes()
        if route.resource is not None
    }
    assert set(PERMISSIONS) <= routes


def test_viewers_play_and_players_fetch_steering_without_a_token() -> None:
    assert PERMISSIONS["GET /v1/playback/{asset_id}/steering/{kind}"] is Permission.PUBLIC
    for key, permission in PERMISSIONS.items():
        if key.split()[1].startswith("/v1/admin/"):
            assert permission is Permission.MANAGE_ACCOUNTS, key
        elif key.split()[1].startswith("/v1/") and "steering" not in key:
            assert permission is Permission.PLAY, key
