"""The alerts' and platform metrics' HTTP API: parse, call, respond (admins only:
analytics/permissions.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
from aiohttp import web

from analytics.alerts import evaluate, queries
from analytics.alerts.models import AlertOut, AlertsOut, AlertsQuery, EvaluationOut
from analytics.platform import read
from analytics.platform.models import PlatformOut
from analytics.resources import DB_POOL_KEY
from analytics.timerange import RangeQuery, TimeRangeError, instant
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
    async with aiohttp.ClientSession() as session:
        context = evaluate.AlertContext(
            request.app[DB_POOL_KEY], request.app[SETTINGS_KEY], session
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


def routes() -> list[web.RouteDef]:
    return [
        web.get("/v1/analytics/alerts", list_alerts),
        web.post("/v1/analytics/alerts/evaluate", evaluate_now),
        web.get("/v1/analytics/platform", platform),
    ]
