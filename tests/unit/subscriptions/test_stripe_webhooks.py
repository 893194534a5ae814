"""Stripe webhooks through `StripeBilling.parse_webhook`, signed the way Stripe documents.

https://docs.stripe.com/webhooks#verify-manually: the ``Stripe-Signature`` header is
``t=<unix time>,v1=<signature>[,v1=...]``, where a signature is the hex HMAC-SHA256 of
``"<t>.<raw body>"`` keyed with the endpoint's secret; other schemes (``v0``) are ignored, any
one ``v1`` that matches is enough, and a timestamp older than the tolerance is refused. The
signatures here are computed with `hmac` from that description, not with the SDK's helper.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from multidict import CIMultiDict
from pydantic import SecretStr

from streamcore.settings import Settings
from subscriptions.billing.port import BillingProvider, EventKind, WebhookRejected
from subscriptions.billing.stripe_billing import StripeBilling, from_settings

SECRET = "whsec_unit_test_secret"
TOLERANCE_S = 300


def signature_header(
    payload: bytes, *, secret: str = SECRET, timestamp: int | None = None, extra: str = ""
) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}{extra}"


def event_body(
    type_: str,
    obj: dict[str, Any],
    *,
    event_id: str = "evt_1NG8Du2eZvKYlo2CUI79vXWy",
    created: int = 1_780_000_000,
) -> bytes:
    """An event as Stripe sends it (https://docs.stripe.com/api/events/object)."""
    event = {
        "id": event_id,
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": "renewal-1"},
        "type": type_,
    }
    return json.dumps(event).encode()


def intent(subscription_id: UUID | str | None, **fields: Any) -> dict[str, Any]:
    """A PaymentIntent (https://docs.stripe.com/api/payment_intents/object), trimmed."""
    metadata = {} if subscription_id is None else {"subscription_id": str(subscription_id)}
    return {
        "id": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
        "object": "payment_intent",
        "amount": 1299,
        "currency": "usd",
        "customer": "cus_NffrFeUfNV2Hib",
        "metadata": metadata,
        "status": "succeeded",
        "last_payment_error": None,
        **fields,
    }


def signed(body: bytes, **kwargs: Any) -> dict[str, str]:
    return {"Stripe-Signature": signature_header(body, **kwargs)}


@pytest.fixture
async def billing() -> AsyncIterator[StripeBilling]:
    adapter = StripeBilling(
        api_key="sk_test_unit", webhook_secret=SECRET, webhook_tolerance_s=TOLERANCE_S
    )
    yield adapter
    await adapter.aclose()


def test_a_billing_provider(billing: StripeBilling) -> None:
    assert isinstance(billing, BillingProvider)
    assert billing.name == "stripe"


def test_payment_succeeded_is_mapped(billing: StripeBilling) -> None:
    subscription = uuid4()
    body = event_body("payment_intent.succeeded", intent(subscription), created=1_780_000_123)
    event = billing.parse_webhook(body, signed(body))
    assert event.id == "evt_1NG8Du2eZvKYlo2CUI79vXWy"
    assert event.type == "payment_intent.succeeded"
    assert event.kind is EventKind.PAYMENT_SUCCEEDED
    assert event.created == datetime.fromtimestamp(1_780_000_123, UTC)
    assert event.created.tzinfo is not None and event.created.utcoffset() == UTC.utcoffset(None)
    assert event.subscription_id == subscription
    assert event.charge_id == "pi_3MtwBwLkdIwHu7ix28a3tqPa"
    assert (event.amount_minor, event.currency) == (1299, "USD")
    assert (event.failure_code, event.failure_message) == (None, None)
    assert event.metadata == {"subscription_id": str(subscription)}


@pytest.mark.parametrize(
    ("error", "code"),
    [
        ({"code": "card_declined", "decline_code": "insufficient_funds"}, "insufficient_funds"),
        ({"code": "card_declined", "decline_code": "generic_decline"}, "card_declined"),
        ({"code": "expired_card", "decline_code": None}, "expired_card"),
        (None, "card_declined"),
    ],
)
def test_payment_failed_carries_the_reason(
    billing: StripeBilling, error: dict[str, Any] | None, code: str
) -> None:
    last_error = None if error is None else {"type": "card_error", "message": "Declined.", **error}
    obj = intent(uuid4(), status="requires_payment_method", last_payment_error=last_error)
    body = event_body("payment_intent.payment_failed", obj)
    event = billing.parse_webhook(body, signed(body))
    assert event.kind is EventKind.PAYMENT_FAILED
    assert event.failure_code == code
    assert event.failure_message == (None if error is None else "Declined.")


@pytest.mark.parametrize("type_", ["customer.created", "charge.refunded", "invoice.paid"])
def test_other_types_are_kept_without_a_kind(billing: StripeBilling, type_: str) -> None:
    body = event_body(type_, {"id": "cus_1", "object": "customer"}, event_id="evt_other")
    event = billing.parse_webhook(body, signed(body))
    assert (event.id, event.type, event.kind) == ("evt_other", type_, None)
    assert event.subscription_id is None
    assert event.created == datetime.fromtimestamp(1_780_000_000, UTC)


@pytest.mark.parametrize("subscription_id", [None, "not-a-uuid", ""])
def test_no_subscription_without_a_uuid_in_the_metadata(
    billing: StripeBilling, subscription_id: str | None
) -> None:
    body = event_body("payment_intent.succeeded", intent(subscription_id))
    assert billing.parse_webhook(body, signed(body)).subscription_id is None


def test_tampered_body_is_rejected(billing: StripeBilling) -> None:
    body = event_body("payment_intent.succeeded", intent(uuid4()))
    headers = signed(body)
    tampered = body.replace(b"1299", b"1")
    with pytest.raises(WebhookRejected, match="signature"):
        billing.parse_webhook(tampered, headers)


def test_wrong_secret_is_rejected(billing: StripeBilling) -> None:
    body = event_body("payment_intent.succeeded", intent(uuid4()))
    with pytest.raises(WebhookRejected, match="signature"):
        billing.parse_webhook(body, signed(body, secret="whsec_someone_else"))


def test_timestamp_beyond_the_tolerance_is_rejected(billing: StripeBilling) -> None:
    body = event_body("payment_intent.succeeded", intent(uuid4()))
    now = int(time.time())
    billing.parse_webhook(body, signed(body, timestamp=now - TOLERANCE_S + 30))
    with pytest.raises(WebhookRejected, match="tolerance"):
        billing.parse_webhook(body, signed(body, timestamp=now - TOLERANCE_S - 30))


def test_the_timestamp_is_signed(billing: StripeBilling) -> None:
    """A valid signature replayed under a fresh timestamp does not verify."""
    body = event_body("payment_intent.succeeded", intent(uuid4()))
    old = signature_header(body, timestamp=int(time.time()) - 3600)
    fresh = old.replace(old.split(",")[0], f"t={int(time.time())}")
    with pytest.raises(WebhookRejected, match="signature"):
        billing.parse_webhook(body, {"Stripe-Signature": fresh})


def test_one_valid_signature_among_several_is_enough(billing: StripeBilling) -> None:
    """Stripe signs with every active secret while one is rolled; v0 is not a scheme we check."""
    body = event_body("payment_intent.succeeded", intent(uuid4()))
    t = int(time.time())
    stale = hmac.new(b"whsec_rolled", f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    valid = signature_header(body, timestamp=t).split(",")[1]
    header = f"t={t},v1={stale},{valid},v0={'0' * 64}"
    assert billing.parse_webhook(body, {"Stripe-Signature": header}).kind is not None
    with pytest.raises(WebhookRejected):
        billing.parse_webhook(body, {"Stripe-Signature": f"t={t},v1={stale},v0={'0' * 64}"})


@pytest.mark.parametrize(
    "headers",
    [{}, {"Stripe-Signature": ""}, {"Content-Type": "application/json"}],
    ids=["none", "empty", "other-headers"],
)
def test_missing_signature_is_rejected(billing: StripeBilling, headers: dict[str, str]) -> None:
    body = event_body("payment_intent.succeeded", intent(uuid4()))
    with pytest.raises(WebhookRejected, match="Stripe-Signature"):
        billing.parse_webhook(body, headers)


@pytest.mark.parametrize(
    "header",
    ["v1=abc", "t=notanumber,v1=abc", "t=1780000000", "garbage"],
    ids=["no-timestamp", "bad-timestamp", "no-v1", "garbage"],
)
def test_malformed_signature_header_is_rejected(billing: StripeBilling, header: str) -> None:
    body = event_body("payment_intent.succeeded", intent(uuid4()))
    with pytest.raises(WebhookRejected):
        billing.parse_webhook(body, {"Stripe-Signature": header})


def test_header_names_are_case_insensitive(billing: StripeBilling) -> None:
    body = event_body("payment_intent.succeeded", intent(uuid4()))
    value = signature_header(body)
    assert billing.parse_webhook(body, {"stripe-signature": value}).kind is not None
    assert billing.parse_webhook(body, CIMultiDict({"STRIPE-SIGNATURE": value})).kind is not None


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"\xff\xfe\x00", b"[1, 2, 3]", b'{"object": "v2.core.event", "id": "x"}'],
    ids=["not-json", "not-utf8", "not-an-object", "thin-event"],
)
def test_signed_garbage_is_rejected(billing: StripeBilling, body: bytes) -> None:
    with pytest.raises(WebhookRejected, match="not a Stripe event"):
        billing.parse_webhook(body, signed(body))


def _with_stripe(settings: Settings, **stripe_fields: Any) -> Settings:
    section = settings.subscriptions
    return settings.model_copy(
        update={
            "subscriptions": section.model_copy(
                update={
                    "provider": "stripe",
                    "webhook_tolerance_s": 60,
                    "stripe": section.stripe.model_copy(update=stripe_fields),
                }
            )
        }
    )


async def test_from_settings_reads_the_keys_and_the_tolerance(settings: Settings) -> None:
    configured = _with_stripe(
        settings, api_key=SecretStr("sk_test_settings"), webhook_secret=SecretStr(SECRET)
    )
    adapter = from_settings(configured)
    try:
        body = event_body("payment_intent.succeeded", intent(uuid4()))
        adapter.parse_webhook(body, signed(body, timestamp=int(time.time()) - 30))
        with pytest.raises(WebhookRejected, match="tolerance"):
            adapter.parse_webhook(body, signed(body, timestamp=int(time.time()) - 90))
    finally:
        await adapter.aclose()


@pytest.mark.parametrize("missing", ["api_key", "webhook_secret"])
def test_from_settings_names_a_missing_key(settings: Settings, missing: str) -> None:
    keys: dict[str, SecretStr | None] = {
        "api_key": SecretStr("sk_test_x"),
        "webhook_secret": SecretStr(SECRET),
    }
    keys[missing] = None
    with pytest.raises(ValueError, match=f"subscriptions.stripe.{missing}"):
        from_settings(_with_stripe(settings, **keys))
