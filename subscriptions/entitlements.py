"""``GET /v1/entitlements/{account_id}``: what an account may play now (the kernel's
`streamcore.entitlements.Entitlement`), for the catalog and streaming services.

The account's current subscription grants its plan when its state does
(subscriptions/states.py `grants_plan`); otherwise, and without a subscription, the free plan.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from aiohttp import web

from streamcore.entitlements import Entitlement, free, of_plan
from streamcore.settings import Settings
from streamcore.web.service import SETTINGS_KEY
from streamcore.web.validation import path_uuid
from subscriptions import queries
from subscriptions.records import Subscription
from subscriptions.resources import billing_of
from subscriptions.states import StateName, state

routes = web.RouteTableDef()


def _until(sub: Subscription) -> datetime | None:
    if sub.state is StateName.GRACE_PERIOD:
        return sub.grace_until
    return sub.period_end


def entitlement_of(
    settings: Settings, account_id: UUID, sub: Subscription | None, now: datetime
) -> Entitlement:
    if sub is None:
        return free(settings, account_id)
    if state(sub.state).grants_plan(now, sub.period_end) and sub.plan in settings.plans:
        return of_plan(
            settings.plans[sub.plan], account_id=account_id, state=str(sub.state),
            until=_until(sub),
        )  # fmt: skip
    return free(settings, account_id, state=str(sub.state))


async def current_entitlement(request: web.Request, account_id: UUID) -> Entitlement:
    billing = billing_of(request)
    sub = await queries.current(billing.pool, account_id)
    return entitlement_of(request.app[SETTINGS_KEY], account_id, sub, await billing.clock.now())


@routes.get("/v1/entitlements/{account_id}")
async def entitlement(request: web.Request) -> web.Response:
    account_id = path_uuid(request, "account_id", "account")
    found = await current_entitlement(request, account_id)
    return web.json_response(
        found.model_dump(mode="json"), headers={"Cache-Control": "private, no-store"}
    )
