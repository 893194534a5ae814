"""The read API (``/v1/analytics/...``, admins: Permission.VIEW_ANALYTICS): per-minute QoE,
the most watched titles, popularity over time, live concurrency, one session, and on-demand
rollups. Every range is a `RangeQuery` (analytics/timerange.py); figures come from
analytics/queries.py. The admin dashboard reads these exact field names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from analytics import queries, rollups
from analytics.models import Dimension, PopularityQuery, QoeQuery, RollupBody, TopQuery
from analytics.resources import DB_POOL_KEY, REDIS_KEY
from analytics.timerange import RangeQuery, TimeRangeError
from streamcore import notify
from streamcore.web.service import SETTINGS_KEY, NotFound
from streamcore.web.validation import invalid, json_body, query_params

routes = web.RouteTableDef()
# A session counts as playing now with an event this recent (GET /v1/analytics/concurrent).
LIVE_WINDOW_S = 60.0
_PRIVATE = {"Cache-Control": "private, no-store"}


def _range(query: RangeQuery) -> tuple[datetime, datetime]:
    try:
        return query.resolve()
    except TimeRangeError as exc:
        raise invalid("since", str(exc)) from None


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value if isinstance(value, (int, float, bool, str, type(None))) else str(value)


def _dimension_key(params: QoeQuery) -> str:
    if params.dimension is Dimension.ALL:
        if params.key:
            raise invalid("key", "dimension all takes no key")
        return ""
    if not params.key:
        raise invalid("key", f"name the {params.dimension} (its id or label)")
    return params.key


@routes.get("/v1/analytics/qoe")
async def qoe(request: web.Request) -> web.Response:
    params = query_params(request, QoeQuery)
    key = _dimension_key(params)
    since, until = _range(params)
    rows = await queries.minutes(request.app[DB_POOL_KEY], params.dimension, key, since, until)
    return web.json_response({
        "dimension": params.dimension.value, "key": key or None,
        "since": since.isoformat(), "until": until.isoformat(),
        "minutes": [{"bucket": r["bucket"].isoformat(), **queries.figures(r)} for r in rows],
        "totals": queries.totals(rows),
    }, headers=_PRIVATE)  # fmt: skip


@routes.get("/v1/analytics/top")
async def top(request: web.Request) -> web.Response:
    params = query_params(request, TopQuery)
    since, until = _range(params)
    items = await queries.top(request.app[DB_POOL_KEY], since, until, params.limit)
    return web.json_response({
        "since": since.isoformat(), "until": until.isoformat(), "items": items,
    }, headers=_PRIVATE)  # fmt: skip


@routes.get("/v1/analytics/popularity")
async def popularity(request: web.Request) -> web.Response:
    """The range's top titles, and each one's views and played time minute by minute."""
    params = query_params(request, PopularityQuery)
    since, until = _range(params)
    pool = request.app[DB_POOL_KEY]
    keys = [item["key"] for item in await queries.top(pool, since, until, params.limit)]
    by_minute: dict[str, list[dict[str, Any]]] = {}
    for row in await queries.title_minutes(pool, keys, since, until):
        by_minute.setdefault(row["bucket"].isoformat(), []).append(
            {"key": row["key"], "views": row["views"], "played_ms": row["played_ms"]}
        )
    return web.json_response({
        "since": since.isoformat(), "until": until.isoformat(), "keys": keys,
        "minutes": [{"bucket": b, "items": items} for b, items in by_minute.items()],
    }, headers=_PRIVATE)  # fmt: skip


@routes.get("/v1/analytics/concurrent")
async def concurrent(request: web.Request) -> web.Response:
    now, at = await queries.concurrent_now(request.app[DB_POOL_KEY], LIVE_WINDOW_S)
    return web.json_response({"now": now, "at": at.isoformat()}, headers=_PRIVATE)


@routes.get("/v1/analytics/sessions/{session_id}")
async def session(request: web.Request) -> web.Response:
    found = await queries.session(request.app[DB_POOL_KEY], request.match_info["session_id"])
    if found is None:
        raise NotFound("no such session")
    return web.json_response({k: _json(v) for k, v in found.items()}, headers=_PRIVATE)


@routes.post("/v1/analytics/rollups")
async def run_rollup(request: web.Request) -> web.Response:
    app, body = request.app, await json_body(request, RollupBody)
    since, until = _range(RangeQuery(since=body.since, until=body.until))
    settings = request.app[SETTINGS_KEY].analytics
    written = await rollups.rollup(
        request.app[DB_POOL_KEY], since, until,
        now=datetime.now(UTC), idle_s=settings.session_idle_s,
    )  # fmt: skip
    await rollups.announce(notify.Notifier.of(app[SETTINGS_KEY], app[REDIS_KEY]).publish, written)
    return web.json_response({
        "minutes": written.minutes, "rows": written.rows,
        "since": written.since.isoformat(), "until": written.until.isoformat(),
    })  # fmt: skip
