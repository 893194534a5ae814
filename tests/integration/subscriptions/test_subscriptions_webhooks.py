"""Provider webhooks through the gateway to the stack's subscriptions instance, signed as the
local provider signs them: verified, deduplicated by event id, applied only when newer than
what is stored, and a charge applied once whoever reports it; and webhook, scheduler and user
racing on one subscription (each on its own connection) leave one consistent history."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from streamcore.settings import Settings
from subscriptions import queries, renewals
from subscriptions.billing.local import SIGNATURE_HEADER, event_body, sign
from subscriptions.billing.port import Charge
from subscriptions.policy import add_months
from subscriptions.records import Subscription, event_json
from subscriptions.resources import Billing
from tests.integration.subscriptions.subs_http import (
    DAY,
    DECLINED,
    VISA,
    advance,
    check_history,
    person,
    webhook,
)

pytestmark = pytest.mark.stack
SUCCEEDED, FAILED = "payment_intent.succeeded", "payment_intent.payment_failed"


def _subscribe(http: httpx.Client, headers: dict[str, str], method: str = VISA) -> str:
    body = {"plan": "standard", "payment_method": VISA}
    created = http.post("/v1/subscription", json=body, headers=headers)
    assert created.status_code == 201, created.text
    if method != VISA:
        response = http.post("/v1/subscription/payment-method", json={"payment_method": method},
                             headers=headers)  # fmt: skip
        assert response.status_code == 200, response.text
    subscription_id: str = created.json()["id"]
    return subscription_id


async def _row(billing: Billing, subscription_id: str) -> Subscription:
    sub = await queries.subscription(billing.pool, uuid.UUID(subscription_id))
    assert sub is not None
    return sub


async def _history(billing: Billing, sub: Subscription) -> list[dict[str, object]]:
    items = [event_json(r) for r in await queries.events(billing.pool, sub.id)]
    check_history(items, str(sub.state), sub.version)
    return items


async def _charge(billing: Billing, sub: Subscription, key: str, method: str = VISA) -> Charge:
    assert sub.customer_id is not None
    return await billing.provider.charge(
        customer_id=sub.customer_id, payment_method=method, amount_minor=999, currency="USD",
        idempotency_key=key, description="test", metadata={"subscription_id": str(sub.id)},
    )  # fmt: skip


async def test_duplicate_and_out_of_order_webhooks_change_nothing_twice(
    stack: Settings, http: httpx.Client, billing: Billing
) -> None:
    user = person(http)
    sub = await _row(billing, _subscribe(http, user.headers))
    charge = await _charge(billing, sub, f"test:{uuid.uuid4()}")
    t0 = datetime.now(UTC).replace(microsecond=0)
    meta = {"subscription_id": str(sub.id), "plan": "standard"}

    def send(event_id: str, type_: str, at: datetime, paid: Charge | None) -> str:
        response = webhook(http, stack, event_id, type_, at, paid, **meta)
        assert response.status_code == 200, response.text
        outcome: str = response.json()["outcome"]
        return outcome

    first = f"evt_{uuid.uuid4().hex}"
    assert send(first, SUCCEEDED, t0, charge) == "applied"
    renewed = await _row(billing, str(sub.id))
    assert renewed.version == 2 and renewed.period_end == add_months(sub.period_end, 1)
    assert renewed.last_provider_event_at == t0
    # Delivered again; then the same charge in another event: nothing changes twice.
    assert send(first, SUCCEEDED, t0, charge) == "duplicate"
    later = t0 + timedelta(seconds=10)
    assert send(f"evt_{uuid.uuid4().hex}", SUCCEEDED, later, charge) == "already_applied"
    # An older event, delivered late: recorded, nothing changes.
    declined = await _charge(billing, sub, f"test:{uuid.uuid4()}", DECLINED)
    assert send(f"evt_{uuid.uuid4().hex}", FAILED, t0 - timedelta(minutes=1), declined) == "stale"
    assert send(f"evt_{uuid.uuid4().hex}", "customer.updated", later + timedelta(1), None) == (
        "ignored"
    )
    after = await _row(billing, str(sub.id))
    assert (after.state, after.version, after.period_end) == ("Active", 2, renewed.period_end)
    events = await _history(billing, after)
    assert [(e["event"], e["source"]) for e in events] == [
        ("subscribe", "user"), ("renewal_paid", "webhook")
    ]  # fmt: skip
    outcomes = await billing.pool.fetch(
        "SELECT outcome FROM webhook_events WHERE subscription_id = $1 ORDER BY received_at",
        sub.id,
    )
    assert [r["outcome"] for r in outcomes] == ["applied", "already_applied", "stale", "ignored"]


def test_webhooks_that_do_not_verify_are_refused(stack: Settings, http: httpx.Client) -> None:
    now = datetime.now(UTC)

    def code(response: httpx.Response) -> str:
        assert response.status_code == 400, response.text
        found: str = response.json()["error"]["code"]
        return found

    assert code(webhook(http, stack, "evt_x", SUCCEEDED, now, None, secret="wrong")) == (
        "invalid_signature"
    )
    stale_stamp = int(time.time()) - stack.subscriptions.webhook_tolerance_s - 60
    assert code(webhook(http, stack, "evt_y", SUCCEEDED, now, None, timestamp=stale_stamp)) == (
        "invalid_signature"
    )
    assert code(http.post("/v1/billing/webhooks/local", content=b"{}")) == "invalid_signature"
    secret = stack.subscriptions.local_webhook_secret
    assert secret is not None
    garbage = b'{"not": "an event"}'
    signed = {SIGNATURE_HEADER: sign(secret.get_secret_value(), garbage)}
    assert code(http.post("/v1/billing/webhooks/local", content=garbage, headers=signed)) == (
        "invalid_signature"
    )
    other = http.post("/v1/billing/webhooks/stripe", content=event_body("e", SUCCEEDED, now, None))
    assert other.status_code == 404


async def _race(
    stack: Settings, billing: Billing, sub: Subscription, type_: str, user_call: tuple[str, dict]
) -> None:
    """The renewal's charge made by the provider (its answer, say, lost), then at once: the
    tick charging it again (the same key: the same charge), the provider's webhook about it,
    and the user's request, each on connections of its own."""
    key = f"renewal:{sub.id}:{sub.period_end.isoformat()}"
    charge = await _charge(billing, sub, key, sub.payment_method or VISA)
    body = event_body(f"evt_{uuid.uuid4().hex}", type_, await billing.clock.now(), charge,
                      subscription_id=str(sub.id))  # fmt: skip
    secret = stack.subscriptions.local_webhook_secret
    assert secret is not None
    headers = {SIGNATURE_HEADER: sign(secret.get_secret_value(), body)}
    path, user_headers = user_call
    async with httpx.AsyncClient(base_url=stack.gateway.entry_url, timeout=30) as client:
        results = await asyncio.gather(
            renewals.tick(billing.pool, billing.provider, billing.policy,
                          await billing.clock.now()),
            client.post("/v1/billing/webhooks/local", content=body, headers=headers),
            client.post(path, **user_headers),
        )  # fmt: skip
    assert results[1].status_code == 200, results[1].text
    assert results[2].status_code == 200, results[2].text


async def test_webhook_scheduler_and_user_racing_leave_one_history(
    stack: Settings, http: httpx.Client, admin: dict[str, str], billing: Billing
) -> None:
    paying, failing = person(http), person(http)
    paid = await _row(billing, _subscribe(http, paying.headers))
    declined = await _row(billing, _subscribe(http, failing.headers, DECLINED))
    advance(http, admin, 32 * DAY)
    await _race(stack, billing, paid, SUCCEEDED, ("/v1/subscription/cancel",
                                                  {"headers": paying.headers}))  # fmt: skip
    await _race(stack, billing, declined, FAILED, (
        "/v1/subscription/payment-method",
        {"headers": failing.headers, "json": {"payment_method": VISA}},
    ))  # fmt: skip

    after = await _row(billing, str(paid.id))
    events = [e["event"] for e in await _history(billing, after)]
    assert events.count("renewal_paid") == 1 and events.count("cancel") == 1
    assert after.state == "Cancelled" and after.period_end == add_months(paid.period_end, 1)

    after = await _row(billing, str(declined.id))
    events = [e["event"] for e in await _history(billing, after)]
    assert events.count("renewal_failed") <= 1 and after.state in ("Active", "GracePeriod")
    assert events.count("payment_method_updated") >= 2  # the DECLINED one, then VISA
