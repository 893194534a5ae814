"""The subscriptions service's app factory: resources open and close in cleanup contexts."""

from __future__ import annotations

from aiohttp import web

from streamcore.auth.middleware import authentication, authorization, remote_keys
from streamcore.ratelimit.guard import RateGuard
from streamcore.settings import Settings
from streamcore.web import diagnostics
from streamcore.web.cors import cors_headers, preflight
from streamcore.web.database import database_errors, database_ready
from streamcore.web.openapi import document_route
from streamcore.web.service import SETTINGS_KEY, health_routes, json_errors
from subscriptions import openapi, resources
from subscriptions.account import routes as account_routes
from subscriptions.admin import CLOCK_ROUTE
from subscriptions.admin import routes as admin_routes
from subscriptions.entitlements import routes as entitlement_routes
from subscriptions.errors import billing_errors
from subscriptions.metrics import SubscriptionMetrics
from subscriptions.permissions import PERMISSIONS
from subscriptions.webhooks import routes as webhook_routes


def create_app(settings: Settings) -> web.Application:
    metrics = SubscriptionMetrics()
    # Every route is a read or a write (streamcore/ratelimit/classes.py); providers' webhook
    # addresses can be exempted with ratelimit.exempt_networks.
    guard = RateGuard("subscriptions", {}, metrics.registry)
    # Metrics outermost (every answer is counted), the rate guard's observer (it sees every
    # final status), json_errors (errors of the middlewares after it are JSON too), the
    # lifecycle's and billing's errors translated, then who is asking, their budget
    # (streamcore/ratelimit/guard.py) and whether they may.
    app = web.Application(middlewares=[
        metrics.middleware(), guard.observer, json_errors, database_errors, billing_errors,
        authentication, guard.limiter, authorization(PERMISSIONS),
    ])  # fmt: skip
    app[SETTINGS_KEY] = settings
    guard.install(app)
    app[resources.METRICS_KEY] = metrics
    app.cleanup_ctx.extend(
        [resources.database, resources.redis_client, resources.billing, remote_keys]
    )
    # Players and pages on other origins show plans and one's subscription.
    app.on_response_prepare.append(cors_headers(settings.origin.cors_allowed_origins))
    app.router.add_route("OPTIONS", "/v1/{tail:.*}", preflight("GET, POST, OPTIONS"))
    app.add_routes(health_routes(ready_check=database_ready(resources.DB_POOL_KEY)))
    app.add_routes(diagnostics.routes("subscriptions"))
    app.add_routes([metrics.scrape(resources.DB_POOL_KEY)])
    for table in (account_routes, entitlement_routes, webhook_routes, admin_routes):
        app.add_routes(table)
    test_clock = settings.subscriptions.test_clock
    if test_clock:
        app.add_routes([CLOCK_ROUTE])
    app.add_routes([document_route(openapi.PATH, openapi.document(test_clock))])
    return app
