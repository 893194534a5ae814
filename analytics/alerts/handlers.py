"""The alerts' and platform metrics' HTTP API: parse, call, respond (admins only:
analytics/permissions.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from analytics.alerts import evaluate, queries
from analytics.alerts.models import AlertOut, AlertsOut, AlertsQuery, EvaluationOut
from analytics.platform import collect, read
from analytics.platform.models import CollectedOut, PlatformOut
from analytics.resources import DB_POOL_KEY, HTTP_KEY, REDIS_KEY
from analytics.timerange import RangeQuery, TimeRangeError, instant
from streamcore import notify
from streamcore.web.service import SETTINGS_KEY
from streamcore.web.validation import invalid, query_params


async def list_alerts(request: web.Request) -> web.Response:
    params = query_params(request, AlertsQuery)
    try:
        since = instant(params.since, datetime.now(UTC))
    except TimeRangeError as exc:
        raise invalid("since", str(exc)) from None
    async with request.app[DB_POOL_KEY].acquire() as conn:
        rows = await queries.alerts(conn, params.state, since)
    body = AlertsOut(items=[AlertOut.model_validate(dict(row)) for row in rows])
    return web.json_response(text=body.model_dump_json())


async def evaluate_now(request: web.Request) -> web.Response:
    """One evaluation now, as the processor's minute job does (the same guarded writes: an
    evaluation racing the processor's fires nothing twice)."""
    app = request.app
    publish = notify.Notifier.of(app[SETTINGS_KEY], app[REDIS_KEY]).publish
    context = evaluate.AlertContext(
        app[DB_POOL_KEY], app[SETTINGS_KEY], app[HTTP_KEY], publish=publish
    )
    result = await evaluate.run(context)
    body = EvaluationOut.model_validate({
        "transitions": [t.to_dict() for t in result.transitions],
        "delivered": result.delivery.delivered, "undelivered": result.delivery.undelivered,
    })  # fmt: skip
    return web.json_response(text=body.model_dump_json())


async def platform(request: web.Request) -> web.Response:
    params = query_params(request, RangeQuery)
    try:
        start, end = params.resolve()
    except TimeRangeError as exc:
        raise invalid("since", str(exc)) from None
    answer = await read.platform(request.app[DB_POOL_KEY], request.app[SETTINGS_KEY], start, end)
    return web.json_response(text=PlatformOut.model_validate(answer).model_dump_json())


async def collect_now(request: web.Request) -> web.Response:
    """One sample of the platform's figures now, as the processor's minute job takes."""
    app = request.app
    context = collect.PlatformContext(
        app[DB_POOL_KEY], app[SETTINGS_KEY], app[HTTP_KEY], app[REDIS_KEY]
    )
    rows = await collect.run(context)
    return web.json_response(text=CollectedOut(rows=rows).model_dump_json())


def routes() -> list[web.RouteDef]:
    return [
        web.get("/v1/analytics/alerts", list_alerts),
        web.post("/v1/analytics/alerts/evaluate", evaluate_now),
        web.get("/v1/analytics/platform", platform),
        web.post("/v1/analytics/platform/collect", collect_now),
    ]
