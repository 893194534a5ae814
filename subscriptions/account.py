"""One's own subscription: the plans, subscribing, cancel and resume, changing plan and
payment method, its history and the invoices. Thin: parse, call subscriptions/services.py,
answer."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web

from streamcore.auth.principal import principal
from streamcore.web.service import SETTINGS_KEY
from streamcore.web.validation import invalid, json_body, query_params
from subscriptions import queries, services
from subscriptions.entitlements import entitlement_of
from subscriptions.errors import AccountRequired, NoSubscription
from subscriptions.models import ChangePlanIn, InvoicesParams, PaymentMethodIn, SubscribeIn
from subscriptions.records import Subscription, event_json, invoice_json
from subscriptions.resources import Billing, billing_of
from subscriptions.states import Event

routes = web.RouteTableDef()
_PRIVATE = {"Cache-Control": "private, no-store"}


def account_of(request: web.Request) -> UUID:
    """The account of the request's access token; 403 for a service account's key."""
    account_id = principal(request).account_id
    if account_id is None:
        raise AccountRequired("this needs a person's access token, not a service account's key")
    return account_id


def _paid_plan(billing: Billing, plan: str) -> str:
    names = billing.policy.paid_plans()
    if plan not in names:
        raise invalid("plan", f"one of {', '.join(names)}")
    return plan


async def _current(request: web.Request) -> Subscription:
    sub = await queries.current(billing_of(request).pool, account_of(request))
    if sub is None:
        raise NoSubscription("the account has no subscription")
    return sub


async def _answer(request: web.Request, sub: Subscription, status: int = 200) -> web.Response:
    now = await billing_of(request).clock.now()
    access = entitlement_of(request.app[SETTINGS_KEY], sub.account_id, sub, now)
    body = {**sub.json(), "entitlement": access.model_dump(mode="json")}
    return web.json_response(body, status=status, headers=_PRIVATE)


@routes.get("/v1/plans")
async def plans(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS_KEY]
    items: list[dict[str, Any]] = [
        {
            "name": p.name, "display_name": p.display_name, "price": str(p.price),
            "currency": p.currency, "amount_minor": p.amount_minor, "interval": p.interval,
            "interval_count": p.interval_count, "streams": p.streams,
            "max_height": p.max_height, "premium": p.premium, "free": p.is_free,
        }
        for p in settings.plans.plans.values()
    ]  # fmt: skip
    body = {"items": items, "free_plan": settings.subscriptions.free_plan}
    return web.json_response(body, headers={"Cache-Control": "public, max-age=60"})


@routes.get("/v1/subscription")
async def show(request: web.Request) -> web.Response:
    return await _answer(request, await _current(request))


@routes.post("/v1/subscription")
async def subscribe(request: web.Request) -> web.Response:
    account_id, body = account_of(request), await json_body(request, SubscribeIn)
    billing = billing_of(request)
    sub = await services.subscribe(
        billing, account_id, _paid_plan(billing, body.plan), body.payment_method
    )
    return await _answer(request, sub, status=201)


@routes.post("/v1/subscription/cancel")
async def cancel(request: web.Request) -> web.Response:
    sub = await services.simple(billing_of(request), await _current(request), Event.CANCEL)
    return await _answer(request, sub)


@routes.post("/v1/subscription/resume")
async def resume(request: web.Request) -> web.Response:
    sub = await services.simple(billing_of(request), await _current(request), Event.RESUME)
    return await _answer(request, sub)


@routes.post("/v1/subscription/change-plan")
async def change_plan(request: web.Request) -> web.Response:
    body, billing = await json_body(request, ChangePlanIn), billing_of(request)
    sub = await services.change_plan(
        billing, await _current(request), _paid_plan(billing, body.plan)
    )
    return await _answer(request, sub)


@routes.post("/v1/subscription/payment-method")
async def payment_method(request: web.Request) -> web.Response:
    body = await json_body(request, PaymentMethodIn)
    sub = await services.update_payment_method(
        billing_of(request), await _current(request), body.payment_method
    )
    return await _answer(request, sub)


@routes.get("/v1/subscription/events")
async def events(request: web.Request) -> web.Response:
    sub = await _current(request)
    rows = await queries.events(billing_of(request).pool, sub.id)
    body = {"subscription_id": str(sub.id), "items": [event_json(r) for r in rows]}
    return web.json_response(body, headers=_PRIVATE)


@routes.get("/v1/invoices")
async def invoices(request: web.Request) -> web.Response:
    params, account_id = query_params(request, InvoicesParams), account_of(request)
    rows = await queries.invoices(billing_of(request).pool, account_id, params.limit)
    return web.json_response({"items": [invoice_json(r) for r in rows]}, headers=_PRIVATE)
