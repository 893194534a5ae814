"""The auth service's app factory: resources open and close in cleanup contexts."""

from __future__ import annotations

from aiohttp import web

from auth import jwks as jwks_route
from auth import openapi, resources
from auth.accounts import routes as account_routes
from auth.admin import routes as admin_routes
from auth.admin_profiles import routes as admin_profile_routes
from auth.audit import routes as audit_routes
from auth.audit_consumer import audit_consumer
from auth.devices import routes as device_routes
from auth.permissions import PERMISSIONS
from auth.profiles import routes as profile_routes
from auth.rate_classes import RATE_CLASSES
from auth.ratelimit_admin import routes as ratelimit_routes
from auth.sessions import routes as session_routes
from streamcore.auth.keys import private_key
from streamcore.auth.middleware import authentication, authorization, local_keys
from streamcore.ratelimit.guard import RateGuard
from streamcore.settings import Settings
from streamcore.web import diagnostics
from streamcore.web.cors import cors_headers, preflight
from streamcore.web.database import database_errors, database_ready
from streamcore.web.metrics import HttpMetrics
from streamcore.web.openapi import document_route
from streamcore.web.service import SETTINGS_KEY, health_routes, json_errors


class NotConfigured(RuntimeError):
    """The settings lack what the auth service cannot run without."""


def _check(settings: Settings) -> None:
    section = settings.auth
    if section.active_key_id is None:
        raise NotConfigured(
            "auth.active_key_id is not set: the auth service signs every access token with it "
            "(set auth.signing_keys and auth.active_key_id; docs/auth.md)"
        )
    for kid, pem in section.signing_keys.items():
        try:
            private_key(pem)
        except ValueError as exc:
            raise NotConfigured(f"auth.signing_keys.{kid}: {exc}") from None


def create_app(settings: Settings) -> web.Application:
    _check(settings)
    metrics = HttpMetrics("auth")
    guard = RateGuard("auth", RATE_CLASSES, metrics.registry)
    # Metrics outermost (every answer is counted), the rate guard's observer (it sees every
    # final status), json_errors (errors of the middlewares after it are JSON too), then who
    # is asking, their budget (streamcore/ratelimit/guard.py) and whether they may.
    app = web.Application(middlewares=[
        metrics.middleware(), guard.observer, json_errors, database_errors, authentication,
        guard.limiter, authorization(PERMISSIONS),
    ])  # fmt: skip
    app[SETTINGS_KEY] = settings
    guard.install(app)
    app[resources.METRICS_KEY] = metrics
    local_keys(app)
    app.cleanup_ctx.extend(
        [resources.database, resources.redis_client, resources.passwords, audit_consumer]
    )
    # Players and pages on other origins sign in here.
    app.on_response_prepare.append(cors_headers(settings.origin.cors_allowed_origins))
    app.router.add_route("OPTIONS", "/v1/{tail:.*}", preflight("GET, POST, PATCH, DELETE, OPTIONS"))
    app.add_routes(health_routes(ready_check=database_ready(resources.DB_POOL_KEY)))
    app.add_routes(diagnostics.routes("auth"))
    app.router.add_get("/metrics", metrics.handler)
    for table in (account_routes, session_routes, profile_routes, device_routes, admin_routes,
                  admin_profile_routes, audit_routes, ratelimit_routes):  # fmt: skip
        app.add_routes(table)
    app.add_routes([jwks_route.route(settings.auth)])
    app.add_routes([document_route(openapi.PATH, openapi.document())])
    return app
