"""Every endpoint of the analytics service, declared once for its OpenAPI document, served at
/openapi/analytics.json (the gateway routes that prefix here)."""

from __future__ import annotations

from functools import cache
from typing import Any

from analytics.alerts import models as am
from analytics.platform.models import PlatformOut
from analytics.timerange import RangeQuery
from streamcore.web import diagnostics
from streamcore.web.openapi import Operation, Reply, build, health_operations

PATH = "/openapi/analytics.json"

ALERTS = [
    Operation("GET", "/v1/analytics/alerts", "listAlerts", "Alerts fired and resolved",
              "alerts", {200: Reply("Newest first; every firing alert too", am.AlertsOut)},
              query_model=am.AlertsQuery, admin=True, errors=(400, 403),
              description="Alerts fired since `since` (default 7d), and every alert still "
              "firing; `state` firing, resolved or all (docs/alerts.md)."),
    Operation("POST", "/v1/analytics/alerts/evaluate", "evaluateAlerts",
              "Evaluate every alert rule now", "alerts",
              {200: Reply("The transitions and the webhook messages sent", am.EvaluationOut)},
              admin=True, errors=(403,),
              description="What the processor does each minute: a rule fires once and "
              "resolves once whoever evaluates; undelivered webhook messages are sent."),
    Operation("GET", "/v1/analytics/platform", "platformMetrics",
              "Requests, latency, instances, cache, recommendations, subscriptions, queues",
              "platform", {200: Reply("Per-minute series and the latest figures", PlatformOut)},
              query_model=RangeQuery, admin=True, errors=(400, 403),
              description="Series of the minutes in since..until (default the last hour); "
              "`instances` live from the gateway; `subscriptions` and `queues` the latest "
              "minute sampled (docs/alerts.md, Platform metrics)."),
]  # fmt: skip

OPERATIONS: list[Operation] = [*ALERTS]

DESCRIPTION = """StreamCore's analytics service: the players' playback events (collected into a
Redis stream, processed exactly once), viewers' quality of experience per session, title,
rendition and minute, platform metrics, alerts and the admin dashboard (docs/analytics.md).

Every error is JSON, `{"error": {"code": "...", "message": "..."}}`, with a stable `code`."""


@cache
def document() -> dict[str, Any]:
    operations = [
        *OPERATIONS,
        *health_operations("requests"),
        diagnostics.operation("analytics"),
    ]
    return build(
        operations, title="StreamCore analytics API", version="1", description=DESCRIPTION,
        api_key="An access token from POST /v1/auth/login, or a service account's key",
    )  # fmt: skip
