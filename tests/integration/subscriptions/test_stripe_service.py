"""The subscriptions service with the Stripe provider, end to end through its HTTP API: the app
built here by its factory with ``subscriptions.provider: stripe``, against the test stack's
database, Redis and auth (a real account signed in through the gateway), and the local stand-in
of Stripe's API of test_stripe_adapter.py (Stripe cannot be reached from here and stripe-mock
cannot be installed: see that module). Subscribing charges through the official SDK; Stripe's
webhooks, signed as Stripe documents, reach ``POST /v1/billing/webhooks/stripe``, verified by
``stripe.Webhook.construct_event``, deduplicated by event id and applied only when newer than
what is stored."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from streamcore.settings import Settings, StripeSettings
from subscriptions.app import create_app
from tests.integration.subscriptions.subs_http import person
from tests.integration.subscriptions.test_stripe_adapter import (
    API_KEY,
    StripeStandIn,
    _posts,
    api,
)
from tests.unit.subscriptions.test_stripe_webhooks import event_body, intent, signed

pytestmark = pytest.mark.stack
__all__ = ["api"]  # the Stripe stand-in's fixture
SECRET = "whsec_service_test_secret"


@pytest.fixture
async def service(stack: Settings, api: tuple[StripeStandIn, str]) -> AsyncIterator[TestClient]:
    stripe = StripeSettings(
        api_key=SecretStr(API_KEY), webhook_secret=SecretStr(SECRET), api_base=api[1]
    )
    section = stack.subscriptions.model_copy(update={"provider": "stripe", "stripe": stripe})
    app = create_app(stack.model_copy(update={"subscriptions": section}))
    async with TestClient(TestServer(app)) as client:
        yield client


async def _webhook(service: TestClient, body: bytes, **signing: Any) -> tuple[int, Any]:
    headers = {**signed(body, **{"secret": SECRET, **signing}), "Content-Type": "application/json"}
    response = await service.post("/v1/billing/webhooks/stripe", data=body, headers=headers)
    return response.status, await response.json()


async def test_subscribing_charges_through_stripe_and_its_webhooks_are_applied_once(
    stack: Settings, service: TestClient, api: tuple[StripeStandIn, str]
) -> None:
    state = api[0]
    with httpx.Client(base_url=stack.gateway.entry_url, timeout=30) as http:
        user = person(http)
    body = {"plan": "standard", "payment_method": "pm_card_visa"}
    created = await service.post("/v1/subscription", json=body, headers=user.headers)
    assert created.status == 201, await created.text()
    sub = await created.json()
    assert (sub["state"], sub["plan"]) == ("Active", "standard")
    [charge] = _posts(state, "/v1/payment_intents")
    assert charge["form"]["metadata[subscription_id]"] == sub["id"]
    assert charge["form"]["amount"] == str(stack.plans["standard"].amount_minor)

    now = int(time.time())
    [first_intent] = state.intents
    # Stripe tells of the payment the service made and applied itself: nothing more happens.
    told = event_body("payment_intent.succeeded", intent(sub["id"], id=first_intent),
                      event_id=f"evt_{uuid.uuid4().hex}", created=now)  # fmt: skip
    assert (await _webhook(service, told))[1]["outcome"] == "already_applied"
    # A renewal paid at Stripe (a retried invoice, say): applied once, redelivered: nothing.
    renewal = event_body("payment_intent.succeeded", intent(sub["id"], id="pi_renewal_1"),
                         event_id=f"evt_{uuid.uuid4().hex}", created=now + 1)  # fmt: skip
    assert (await _webhook(service, renewal))[1]["outcome"] == "applied"
    assert (await _webhook(service, renewal))[1]["outcome"] == "duplicate"
    # A failure older than what was applied, delivered late: recorded, nothing changes.
    late = event_body(
        "payment_intent.payment_failed",
        intent(sub["id"], id="pi_old", status="requires_payment_method",
               last_payment_error={"code": "card_declined", "message": "declined"}),
        event_id=f"evt_{uuid.uuid4().hex}", created=now - 60,
    )  # fmt: skip
    assert (await _webhook(service, late))[1]["outcome"] == "stale"
    after = await (await service.get("/v1/subscription", headers=user.headers)).json()
    assert (after["state"], after["version"]) == ("Active", 2)
    events = await (await service.get("/v1/subscription/events", headers=user.headers)).json()
    assert [(e["event"], e["source"]) for e in events["items"]] == [
        ("subscribe", "user"), ("renewal_paid", "webhook")
    ]  # fmt: skip


async def test_stripe_webhooks_that_do_not_verify_are_refused(service: TestClient) -> None:
    body = event_body("payment_intent.succeeded", intent(str(uuid.uuid4())))
    for signing in ({"secret": "whsec_someone_else"}, {"timestamp": int(time.time()) - 3600}):
        status, error = await _webhook(service, body, **signing)
        assert status == 400 and error["error"]["code"] == "invalid_signature", error
    headers = {**signed(body, secret=SECRET), "Content-Type": "application/json"}
    tampered = await service.post(
        "/v1/billing/webhooks/stripe", data=body.replace(b"usd", b"eur"), headers=headers
    )
    assert tampered.status == 400
    # The local provider's path is not this service's: 404, not a verification attempt.
    local = await service.post("/v1/billing/webhooks/local", data=body, headers=headers)
    assert local.status == 404
