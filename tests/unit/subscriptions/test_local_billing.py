"""The local billing adapter's webhook signatures (no database needed: parsing is pure), the
provider registry, and the policy's calendar arithmetic."""

from __future__ import annotations

import json
import sys
import types
import uuid
from datetime import UTC, datetime

import pytest

from streamcore.settings import Settings
from subscriptions.billing.local import SIGNATURE_HEADER, LocalBilling, event_body, sign
from subscriptions.billing.port import Charge, EventKind, WebhookRejected
from subscriptions.billing.registry import build_provider
from subscriptions.policy import add_months

SECRET = "whsec_local_test"
NOW = 1_800_000_000
CREATED = datetime(2027, 1, 15, 8, tzinfo=UTC)


def adapter(secret: str | None = SECRET) -> LocalBilling:
    return LocalBilling(None, secret, 300, now=lambda: NOW)  # type: ignore[arg-type]


def body(subscription_id: uuid.UUID) -> bytes:
    charge = Charge("ch_1", False, 999, "USD", "card_declined", "Your card was declined.")
    return event_body("evt_1", "payment_intent.payment_failed", CREATED, charge,
                      subscription_id=str(subscription_id), plan="standard")  # fmt: skip


def test_a_signed_event_is_read() -> None:
    subscription_id = uuid.uuid4()
    payload = body(subscription_id)
    event = adapter().parse_webhook(payload, {SIGNATURE_HEADER.lower(): sign(SECRET, payload, NOW)})
    assert (event.id, event.kind, event.created) == ("evt_1", EventKind.PAYMENT_FAILED, CREATED)
    assert event.subscription_id == subscription_id and event.charge_id == "ch_1"
    assert event.failure_code == "card_declined" and event.metadata["plan"] == "standard"


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (None, "no StreamCore-Signature"),
        ("v1=abc", "expected t=<unix>,v1=<hex>"),
        ("t=x,v1=abc", "expected t=<unix>,v1=<hex>"),
        (f"t={NOW - 301},v1=abc", "outside the tolerance"),
        (f"t={NOW + 301},v1=abc", "outside the tolerance"),
        (f"t={NOW},v1=" + "0" * 64, "does not match"),
    ],
)
def test_unsigned_late_or_forged_events_are_refused(header: str | None, why: str) -> None:
    payload = body(uuid.uuid4())
    headers = {} if header is None else {SIGNATURE_HEADER: header}
    with pytest.raises(WebhookRejected, match=why):
        adapter().parse_webhook(payload, headers)


def test_another_secret_or_another_body_does_not_verify() -> None:
    payload = body(uuid.uuid4())
    with pytest.raises(WebhookRejected, match="does not match"):
        adapter().parse_webhook(payload, {SIGNATURE_HEADER: sign("other", payload, NOW)})
    with pytest.raises(WebhookRejected, match="does not match"):
        adapter().parse_webhook(payload + b" ", {SIGNATURE_HEADER: sign(SECRET, payload, NOW)})
    with pytest.raises(WebhookRejected, match="local_webhook_secret is not set"):
        adapter(None).parse_webhook(payload, {SIGNATURE_HEADER: sign(SECRET, payload, NOW)})


def test_one_of_several_signatures_may_match_and_the_body_must_be_an_event() -> None:
    payload = body(uuid.uuid4())
    good = sign(SECRET, payload, NOW).split("v1=")[1]
    header = f"t={NOW},v1={'0' * 64},v1={good}"
    assert adapter().parse_webhook(payload, {SIGNATURE_HEADER: header}).id == "evt_1"
    garbage = json.dumps({"id": "evt_2"}).encode()
    with pytest.raises(WebhookRejected, match="not a provider event"):
        adapter().parse_webhook(garbage, {SIGNATURE_HEADER: sign(SECRET, garbage, NOW)})


def test_months_end_on_the_same_day_or_the_month_s_last() -> None:
    assert add_months(datetime(2027, 1, 31, tzinfo=UTC), 1) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2028, 1, 31, tzinfo=UTC), 1) == datetime(2028, 2, 29, tzinfo=UTC)
    assert add_months(datetime(2027, 11, 15, tzinfo=UTC), 3) == datetime(2028, 2, 15, tzinfo=UTC)
    assert add_months(datetime(2027, 3, 1, tzinfo=UTC), 12) == datetime(2028, 3, 1, tzinfo=UTC)


def test_the_registry_chooses_by_setting_and_loads_stripe_only_then(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(build_provider(settings, None), LocalBilling)  # type: ignore[arg-type]
    made: list[Settings] = []
    fake = types.ModuleType("subscriptions.billing.stripe_billing")
    fake.from_settings = lambda s: made.append(s) or adapter()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "subscriptions.billing.stripe_billing", fake)
    section = settings.subscriptions.model_copy(update={"provider": "stripe"})
    stripe_settings = settings.model_copy(update={"subscriptions": section})
    assert isinstance(build_provider(stripe_settings, None), LocalBilling)  # type: ignore[arg-type]
    assert made == [stripe_settings]
