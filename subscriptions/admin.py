"""Administration (MANAGE_SUBSCRIPTIONS): every subscription, one with its history, running
the scheduler's tick now, and (test_clock only) moving the clock."""

from __future__ import annotations

from aiohttp import web

from streamcore.web import cursors
from streamcore.web.service import NotFound
from streamcore.web.validation import json_body, path_uuid, query_params
from subscriptions import queries, renewals
from subscriptions.clock import OffsetClock
from subscriptions.models import AdminParams, ClockIn
from subscriptions.records import Subscription, event_json
from subscriptions.resources import billing_of

# The kind cursors of this list carry (streamcore/web/cursors.py).
_CURSOR = "subscriptions"

routes = web.RouteTableDef()
_PRIVATE = {"Cache-Control": "private, no-store"}


async def _one(request: web.Request) -> Subscription:
    subscription_id = path_uuid(request, "subscription_id", "subscription")
    sub = await queries.subscription(billing_of(request).pool, subscription_id)
    if sub is None:
        raise NotFound(f"no subscription with id {subscription_id}")
    return sub


@routes.get("/v1/admin/subscriptions")
async def list_subscriptions(request: web.Request) -> web.Response:
    params = query_params(request, AdminParams)
    rows = await queries.page(
        billing_of(request).pool, params.state, params.plan, params.limit,
        cursors.decode(_CURSOR, params.cursor),
    )  # fmt: skip
    page, more = rows[: params.limit], len(rows) > params.limit
    last = page[-1] if page else None
    body = {
        "items": [sub.json() for sub in page],
        "next_cursor": cursors.encode(_CURSOR, last.created_at, last.id) if more and last else None,
    }
    return web.json_response(body, headers=_PRIVATE)


@routes.get("/v1/admin/subscriptions/{subscription_id}")
async def show_subscription(request: web.Request) -> web.Response:
    return web.json_response((await _one(request)).json(), headers=_PRIVATE)


@routes.get("/v1/admin/subscriptions/{subscription_id}/events")
async def subscription_events(request: web.Request) -> web.Response:
    sub = await _one(request)
    rows = await queries.events(billing_of(request).pool, sub.id)
    body = {"subscription_id": str(sub.id), "items": [event_json(r) for r in rows]}
    return web.json_response(body, headers=_PRIVATE)


@routes.post("/v1/admin/subscriptions/tick")
async def tick(request: web.Request) -> web.Response:
    billing = billing_of(request)
    now = await billing.clock.now()
    done = await renewals.tick(
        billing.pool, billing.provider, billing.policy, now, billing.notifier
    )
    return web.json_response({"now": now.isoformat(), "done": done}, headers=_PRIVATE)


async def advance_clock(request: web.Request) -> web.Response:
    """POST /v1/admin/subscriptions/clock: only routed when subscriptions.test_clock is on."""
    body, clock = await json_body(request, ClockIn), billing_of(request).clock
    assert isinstance(clock, OffsetClock)
    offset = await clock.advance(body.advance_s)
    now = await clock.now()
    return web.json_response({"now": now.isoformat(), "offset_s": offset}, headers=_PRIVATE)


CLOCK_ROUTE = web.post("/v1/admin/subscriptions/clock", advance_clock)
