"""Every endpoint of the analytics service, declared once for its OpenAPI document, served at
/openapi/analytics.json (the gateway routes that prefix here)."""

from __future__ import annotations

from functools import cache
from typing import Any

from analytics import models as m
from analytics import outputs as o
from analytics.alerts import models as am
from analytics.platform.models import CollectedOut, PlatformOut
from analytics.timerange import RangeQuery
from streamcore.web import diagnostics
from streamcore.web.openapi import Body, Operation, Param, Reply, build, health_operations

PATH = "/openapi/analytics.json"

_FORM = {
    "type": "object", "required": ["batch"],
    "properties": {
        "batch": {"type": "string", "description": "The JSON batch (EventBatch)"},
        "access_token": {"type": "string", "description": "RFC 6750 §2.2: the access token"},
    },
}  # fmt: skip

COLLECTOR = [
    Operation("POST", "/v1/events", "postEvents", "Playback events, in batches", "events",
              {202: Reply("Queued for processing", m.EventsAccepted)},
              body=Body(m.EventBatch, raw={
                  "application/x-www-form-urlencoded": {"schema": _FORM},
                  "text/plain": {"schema": {"type": "string"}},
              }), errors=(400, 401, 403, 415, 503),
              description="JSON with `Authorization: Bearer`; beacons (`sendBeacon`) as a form "
              "(`batch`, optional `access_token`) or as text/plain JSON (anonymous). Anonymous "
              "callers (where allowed) name `viewer_id`. 503 with Retry-After while the "
              "events cannot be queued."),
]  # fmt: skip

READS = [
    Operation("GET", "/v1/analytics/qoe", "qoe", "Quality of experience per minute", "analytics",
              {200: Reply("Minutes and totals", o.QoeOut)}, query_model=m.QoeQuery,
              admin=True, errors=(400, 403)),
    Operation("GET", "/v1/analytics/top", "top", "The most watched titles", "analytics",
              {200: Reply("Titles by views", o.TopOut)}, query_model=m.TopQuery,
              admin=True, errors=(400, 403)),
    Operation("GET", "/v1/analytics/popularity", "popularity",
              "The top titles' views and played time, minute by minute", "analytics",
              {200: Reply("Per minute", o.PopularityOut)}, query_model=m.PopularityQuery,
              admin=True, errors=(400, 403)),
    Operation("GET", "/v1/analytics/concurrent", "concurrent", "Sessions playing now",
              "analytics", {200: Reply("The count", m.ConcurrentOut)}, admin=True,
              errors=(403,)),
    Operation("GET", "/v1/analytics/sessions/{session_id}", "session", "One session's QoE",
              "analytics", {200: Reply("The session", o.SessionOut)},
              (Param("session_id", "path", {"type": "string"}),), admin=True,
              errors=(403, 404)),
    Operation("POST", "/v1/analytics/rollups", "rollup", "Recompute a range's minutes now",
              "analytics", {200: Reply("What was written", m.RollupOut)},
              body=Body(m.RollupBody), admin=True, errors=(400, 403, 503)),
]  # fmt: skip

ALERTS = [
    Operation("GET", "/v1/analytics/alerts", "listAlerts", "Alerts fired and resolved",
              "alerts", {200: Reply("Newest first; every firing alert too", am.AlertsOut)},
              query_model=am.AlertsQuery, admin=True, errors=(400, 403),
              description="Alerts fired since `since` (default 7d), and every alert still "
              "firing; `state` firing, resolved or all (docs/analytics.md, Alerts)."),
    Operation("POST", "/v1/analytics/alerts/evaluate", "evaluateAlerts",
              "Evaluate every alert rule now", "alerts",
              {200: Reply("The transitions and the webhook messages sent", am.EvaluationOut)},
              admin=True, errors=(403,),
              description="What the processor does each minute: a rule fires once and "
              "resolves once whoever evaluates; undelivered webhook messages are sent."),
    Operation("POST", "/v1/analytics/platform/collect", "collectPlatformMetrics",
              "Sample the platform's figures now", "platform",
              {200: Reply("Rows written into the current minute", CollectedOut)},
              admin=True, errors=(403,),
              description="What the processor does each minute (docs/analytics.md, Platform "
              "metrics); a second sample in the same minute replaces the first."),
    Operation("GET", "/v1/analytics/platform", "platformMetrics",
              "Requests, latency, instances, cache, recommendations, subscriptions, queues",
              "platform", {200: Reply("Per-minute series and the latest figures", PlatformOut)},
              query_model=RangeQuery, admin=True, errors=(400, 403),
              description="Series of the minutes in since..until (default the last hour); "
              "`instances` live from the gateway; `subscriptions` and `queues` the latest "
              "minute sampled (docs/analytics.md, Platform metrics)."),
]  # fmt: skip

OPERATIONS: list[Operation] = [*COLLECTOR, *READS, *ALERTS]

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
