"""The alerts' and platform routes in the analytics service's permission table and OpenAPI
document: admins only (VIEW_ANALYTICS), every route documented."""

from __future__ import annotations

from analytics import openapi
from analytics.app import create_app
from analytics.permissions import PERMISSIONS
from streamcore.auth.middleware import unlisted_routes
from streamcore.auth.roles import ROLE_PERMISSIONS, Permission, Role
from streamcore.settings import Settings

ROUTES = {
    "GET /v1/analytics/alerts",
    "POST /v1/analytics/alerts/evaluate",
    "GET /v1/analytics/platform",
}


def test_every_route_has_a_permission(settings: Settings) -> None:
    assert unlisted_routes(create_app(settings), PERMISSIONS) == []


def test_the_alert_routes_are_for_admins_alone() -> None:
    for route in ROUTES:
        assert PERMISSIONS[route] is Permission.VIEW_ANALYTICS
    assert Permission.VIEW_ANALYTICS in ROLE_PERMISSIONS[Role.ADMIN]
    assert Permission.VIEW_ANALYTICS not in ROLE_PERMISSIONS[Role.VIEWER]


def test_the_document_describes_them() -> None:
    paths = openapi.document()["paths"]
    documented = {f"{method.upper()} {path}" for path, ops in paths.items() for method in ops}
    assert documented >= ROUTES
    alerts = paths["/v1/analytics/alerts"]["get"]
    assert {p["name"] for p in alerts["parameters"]} >= {"state", "since"}
