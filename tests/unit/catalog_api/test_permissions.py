"""The catalog's route table: every route declared, and what each role may call."""

from __future__ import annotations

import pytest

from catalog_api.app import create_app
from catalog_api.permissions import PERMISSIONS
from streamcore.auth.middleware import unlisted_routes
from streamcore.auth.roles import Permission, Role, grants
from streamcore.settings import Settings


def test_every_route_of_the_app_has_a_permission(settings: Settings) -> None:
    app = create_app(settings)
    assert unlisted_routes(app, PERMISSIONS) == []
    routes = {
        f"{route.method} {route.resource.canonical}"
        for route in app.router.routes()
        if route.resource is not None and route.method not in {"HEAD", "OPTIONS", "*"}
    }
    assert set(PERMISSIONS) == routes  # and the table names no route that is gone


@pytest.mark.parametrize(
    ("route", "viewer", "creator", "admin"),
    [
        ("GET /v1/titles", True, True, True),
        ("POST /v1/titles", False, False, True),
        ("PUT /v1/titles/{title_id}/poster", False, False, True),
        ("POST /v1/assets", False, True, True),
        ("DELETE /v1/assets/{asset_id}", False, True, True),
        ("GET /v1/assets/{asset_id}", True, True, True),
        ("PUT /v1/assets/{asset_id}/progress", True, True, True),
    ],
)
def test_who_may_call_what(route: str, viewer: bool, creator: bool, admin: bool) -> None:
    needed = PERMISSIONS[route]
    held = [grants(role, needed, anonymous_playback=False) for role in Role]
    assert held == [viewer, creator, admin]


def test_anonymous_callers_read_and_play_where_allowed() -> None:
    assert grants(None, PERMISSIONS["GET /v1/titles/{title_id}"], anonymous_playback=False)
    progress = PERMISSIONS["PUT /v1/assets/{asset_id}/progress"]
    assert progress is Permission.PLAY
    assert grants(None, progress, anonymous_playback=True)
    assert not grants(None, progress, anonymous_playback=False)
    assert not grants(None, PERMISSIONS["POST /v1/assets"], anonymous_playback=True)
