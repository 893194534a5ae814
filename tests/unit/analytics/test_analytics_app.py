"""The analytics service's route table, its OpenAPI document against its routes, and the
kernel's wiring of it (the gateway's routes, the processor's periodic jobs)."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from analytics.app import create_app
from analytics.openapi import document
from analytics.permissions import PERMISSIONS
from analytics.processor.periodic import JOBS
from streamcore.auth.middleware import unlisted_routes
from streamcore.auth.roles import ROLE_PERMISSIONS, Permission, Role
from streamcore.settings import Settings
from tests.openapi_routes import served_routes

# The dashboard's page and files are static, not API.
UNDOCUMENTED = re.compile(r"^/(openapi/|admin/dashboard)")


def test_every_route_is_in_the_permission_table(settings: Settings) -> None:
    app = create_app(settings)
    assert unlisted_routes(app, PERMISSIONS) == []
    routes = {f"{m} {p}" for m, p in served_routes(app, re.compile("^$"))}
    assert set(PERMISSIONS) == routes


def test_the_reads_are_for_admins_only() -> None:
    for key, needed in PERMISSIONS.items():
        if key.split(" ")[1].startswith("/v1/analytics"):
            assert needed is Permission.VIEW_ANALYTICS, key
    assert Permission.VIEW_ANALYTICS in ROLE_PERMISSIONS[Role.ADMIN]
    assert Permission.VIEW_ANALYTICS not in ROLE_PERMISSIONS[Role.CREATOR]


def test_the_document_is_valid_and_documents_every_route(settings: Settings) -> None:
    spec = document()
    validate(spec)
    documented = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert documented == served_routes(create_app(settings), UNDOCUMENTED)


def test_the_gateway_sends_events_to_analytics(settings: Settings) -> None:
    routes = {route.prefix: route.service for route in settings.gateway.routes if route.prefix}
    assert routes["/v1/events"] == "analytics" and routes["/v1/analytics"] == "analytics"


def test_periodic_jobs_have_unique_names_and_intervals(settings: Settings) -> None:
    assert len({job.name for job in JOBS}) == len(JOBS)
    assert {"rollup", "partitions"} <= {job.name for job in JOBS}
    assert all(job.interval_s(settings) > 0 for job in JOBS)
