"""``POST /v1/billing/webhooks/{provider}``: the provider's notifications.

The provider verifies the signature (`parse_webhook`: 400 ``invalid_signature``). An event is
recorded once by (provider, event id): a redelivery is answered ``duplicate`` and changes
nothing. An event about a subscription is applied only when it is newer than the newest one
applied (``last_provider_event_at``): providers deliver for days, unordered, so an older one
is recorded ``stale`` and changes nothing. A payment's event becomes the lifecycle's (a paid
renewal, a failed one, a failed retry) under the charge's key, so a charge the service applied
itself when it made it (the tick, a subscriber) is ``already_applied``. Every answer is 200
once verified: the provider must not retry what was understood.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from streamcore.web.service import NotFound
from subscriptions import lifecycle, payments, queries, writes
from subscriptions.billing.port import EventKind, ProviderEvent, WebhookRejected
from subscriptions.errors import InvalidSignature
from subscriptions.records import Subscription
from subscriptions.resources import Billing, billing_of
from subscriptions.states import Event, InvalidTransition, StateName

routes = web.RouteTableDef()
S = StateName

# (what the provider says, the subscription's state) -> the lifecycle's event
EVENTS: dict[tuple[EventKind, StateName], Event] = {
    (EventKind.PAYMENT_SUCCEEDED, S.ACTIVE): Event.RENEWAL_PAID,
    (EventKind.PAYMENT_SUCCEEDED, S.GRACE_PERIOD): Event.RENEWAL_PAID,
    (EventKind.PAYMENT_SUCCEEDED, S.SUSPENDED): Event.RENEWAL_PAID,
    (EventKind.PAYMENT_SUCCEEDED, S.CANCELLED): Event.RENEWAL_PAID,
    (EventKind.PAYMENT_FAILED, S.ACTIVE): Event.RENEWAL_FAILED,
    (EventKind.PAYMENT_FAILED, S.GRACE_PERIOD): Event.PAYMENT_RETRY_FAILED,
}


class Stale(Exception):
    pass


def _instant(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _newer_than_stored(event: ProviderEvent) -> Callable[[Subscription], None]:
    def guard(sub: Subscription) -> None:
        if sub.last_provider_event_at is not None and event.created <= sub.last_provider_event_at:
            raise Stale()

    return guard


async def _outcome(billing: Billing, event: ProviderEvent) -> str:
    if event.kind is None or event.subscription_id is None:
        return "ignored"
    sub = await queries.subscription(billing.pool, event.subscription_id)
    if sub is None:
        return "ignored"
    guard = _newer_than_stored(event)
    try:
        guard(sub)
    except Stale:
        return "stale"
    lifecycle_event = EVENTS.get((event.kind, sub.state))
    if lifecycle_event is None:
        await writes.note_provider_event(billing.pool, sub.id, event.created)
        return "ignored"
    plan = event.metadata.get("plan")
    args: dict[str, object] = {"plan": plan} if plan in billing.policy.plans else {}
    if (period := event.metadata.get("period_start")) is not None:
        args["for_period"] = _instant(period)
    try:
        applied = await lifecycle.apply(
            billing.pool, sub.id, lifecycle_event, source="webhook",
            now=await billing.clock.now(), policy=billing.policy,
            args=args,
            key=payments.charge_key(event.charge_id) if event.charge_id else f"event:{event.id}",
            detail={"provider_event": event.id, "type": event.type},
            also={"last_provider_event_at": event.created}, guard=guard,
            notifier=billing.notifier,
        )  # fmt: skip
    except Stale:
        return "stale"
    except (InvalidTransition, lifecycle.LostRace):
        await writes.note_provider_event(billing.pool, sub.id, event.created)
        return "refused"
    if applied.duplicate:
        await writes.note_provider_event(billing.pool, sub.id, event.created)
        return "already_applied"
    return "applied"


async def receive(billing: Billing, event: ProviderEvent) -> str:
    """What became of a verified event (see the module's docstring)."""
    provider = billing.provider.name
    if await queries.webhook_seen(billing.pool, provider, event.id):
        return "duplicate"
    outcome = await _outcome(billing, event)
    first = await writes.record_webhook(
        billing.pool, provider, event.id, event.type, event.created, event.subscription_id,
        outcome,
    )  # fmt: skip
    return outcome if first else "duplicate"


@routes.post("/v1/billing/webhooks/{provider}")
async def webhook(request: web.Request) -> web.Response:
    billing = billing_of(request)
    if request.match_info["provider"] != billing.provider.name:
        raise NotFound(f"this service takes webhooks of {billing.provider.name!r} only")
    payload = await request.read()
    try:
        event = billing.provider.parse_webhook(payload, request.headers)
    except WebhookRejected as exc:
        raise InvalidSignature(str(exc)) from None
    outcome = await receive(billing, event)
    return web.json_response({"event_id": event.id, "outcome": outcome})
