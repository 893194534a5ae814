"""The auth service's route table, its refusal to start unconfigured, and its document."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from auth.app import NotConfigured, create_app
from auth.openapi import document
from auth.permissions import PERMISSIONS
from streamcore.auth.middleware import unlisted_routes
from streamcore.auth.roles import Permission
from streamcore.settings import Settings


def test_every_route_of_the_app_is_in_the_permission_table(settings: Settings) -> None:
    app = create_app(settings)
    assert unlisted_routes(app, PERMISSIONS) == []
    routes = {
        f"{r.method} {r.resource.canonical}"
        for r in app.router.routes()
        if r.resource is not None and r.method not in {"HEAD", "OPTIONS"}
    }
    assert set(PERMISSIONS) == routes  # and nothing listed that the app does not have


def test_signing_in_is_public_and_the_admin_routes_are_not(settings: Settings) -> None:
    for route in (
        "POST /v1/auth/signup",
        "POST /v1/auth/login",
        "POST /v1/auth/refresh",
        "GET /.well-known/jwks.json",
        "GET /openapi/auth.json",
        "GET /healthz",
    ):
        assert PERMISSIONS[route] is Permission.PUBLIC
    assert PERMISSIONS["GET /v1/me"] is Permission.ACCOUNT
    assert PERMISSIONS["GET /v1/admin/accounts"] is Permission.MANAGE_ACCOUNTS
    assert PERMISSIONS["GET /v1/admin/audit"] is Permission.READ_AUDIT


def test_the_app_refuses_to_start_without_an_active_signing_key(settings: Settings) -> None:
    section = settings.auth.model_copy(update={"active_key_id": None})
    with pytest.raises(NotConfigured, match=r"auth\.active_key_id is not set"):
        create_app(settings.model_copy(update={"auth": section}))


def test_the_document_is_valid_openapi_and_every_path_goes_to_auth(settings: Settings) -> None:
    spec = document()
    validate(spec)
    for path in spec["paths"]:
        if path in ("/healthz", "/readyz", "/metrics"):
            continue  # the instance's own, not routed by the gateway
        assert settings.gateway.service_for(path) == "auth", path
