"""The subscriptions service's route table, its OpenAPI document against its routes, and the
kernel's wiring of it (queue, periodic tick, gateway routes, the stack's pools)."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from devstack import pools
from devstack.services import WEB_SERVICES, worker_specs
from streamcore.auth.middleware import unlisted_routes
from streamcore.auth.roles import Permission
from streamcore.settings import Settings
from streamcore.tasks.queue import create_celery
from streamcore.tasks.routes import TASK_QUEUES, QueueName, TaskName
from streamcore.tasks.schedule import beat_schedule
from subscriptions.app import create_app
from subscriptions.openapi import document
from subscriptions.permissions import PERMISSIONS
from tests.openapi_routes import served_routes

UNDOCUMENTED = re.compile(r"^/openapi/")


def _routes(settings: Settings) -> set[str]:
    app = create_app(settings)
    assert unlisted_routes(app, PERMISSIONS) == []
    return {
        f"{r.method} {r.resource.canonical}"
        for r in app.router.routes()
        if r.resource is not None and r.method not in {"HEAD", "OPTIONS"}
    }


def test_every_route_is_in_the_permission_table(settings: Settings) -> None:
    routes = _routes(settings)
    assert set(PERMISSIONS) - routes == {"POST /v1/admin/subscriptions/clock"}
    testing = settings.model_copy(
        update={"env": "test", "subscriptions": settings.subscriptions.model_copy(
            update={"test_clock": True})}
    )  # fmt: skip
    assert set(PERMISSIONS) == _routes(testing)


def test_who_may_call_what() -> None:
    assert PERMISSIONS["GET /v1/plans"] is Permission.PUBLIC
    assert PERMISSIONS["POST /v1/billing/webhooks/{provider}"] is Permission.PUBLIC
    assert PERMISSIONS["GET /v1/entitlements/{account_id}"] is Permission.MANAGE_SUBSCRIPTIONS
    for key, needed in PERMISSIONS.items():
        if "/admin/" in key:
            assert needed is Permission.MANAGE_SUBSCRIPTIONS, key


def test_the_document_is_valid_and_documents_every_route(settings: Settings) -> None:
    for test_clock in (False, True):
        spec = document(test_clock)
        validate(spec)
        documented = {
            (method.upper(), path) for path, ops in spec["paths"].items() for method in ops
        }
        current = settings.model_copy(
            update={"env": "test" if test_clock else "dev",
                    "subscriptions": settings.subscriptions.model_copy(
                        update={"test_clock": test_clock})}
        )  # fmt: skip
        assert served_routes(create_app(current), UNDOCUMENTED) == documented


def test_the_tick_runs_every_interval_on_the_billing_queue(settings: Settings) -> None:
    assert TASK_QUEUES[TaskName.SUBSCRIPTIONS_TICK] is QueueName.BILLING
    schedule = beat_schedule(settings)[str(TaskName.SUBSCRIPTIONS_TICK)]
    assert schedule["schedule"] == settings.subscriptions.tick_interval_s
    app = create_celery(settings)
    assert app.conf.task_routes[str(TaskName.SUBSCRIPTIONS_TICK)] == {"queue": "billing"}
    assert settings.worker.queues[QueueName.BILLING].concurrency == 1


def test_the_stack_runs_the_service_and_its_billing_pool(settings: Settings) -> None:
    assert WEB_SERVICES["subscriptions"] == "subscriptions"
    (billing,) = [spec for spec in worker_specs(settings) if spec.queue is QueueName.BILLING]
    command = billing.program(settings).command
    assert command[command.index("--app") + 1] == "subscriptions.worker"
    assert pools.QUEUE_APPS[QueueName.TRANSCODE] == "workers.app"
    routed = {route.prefix: route.service for route in settings.gateway.routes}
    for prefix in (
        "/v1/plans",
        "/v1/subscription",
        "/v1/entitlements",
        "/v1/billing",
        "/v1/admin/subscriptions",
        "/openapi/subscriptions",
        "/v1/invoices",
    ):
        assert routed[prefix] == "subscriptions", prefix
    assert "subscriptions" in settings.gateway.backends
