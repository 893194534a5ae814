"""Helpers of the subscriptions tests: accounts signed up through the real auth service, the
shared clock moved through the admin endpoint, webhooks signed like the local provider's."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import httpx

from streamcore.settings import Settings
from subscriptions.billing.local import SIGNATURE_HEADER, event_body, sign
from subscriptions.billing.port import Charge
from subscriptions.states import legal
from tests.integration.auth.auth_http import Signed, signed_in

DAY = 86400.0
VISA, DECLINED = "pm_card_visa", "pm_card_chargeDeclined"


def person(http: httpx.Client) -> Signed:
    return signed_in(http)


def advance(http: httpx.Client, admin: dict[str, str], seconds: float) -> str:
    response = http.post(
        "/v1/admin/subscriptions/clock", json={"advance_s": seconds}, headers=admin
    )
    assert response.status_code == 200, response.text
    now: str = response.json()["now"]
    return now


def tick(http: httpx.Client, admin: dict[str, str]) -> dict[str, Any]:
    response = http.post("/v1/admin/subscriptions/tick", headers=admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def webhook(
    http: httpx.Client,
    settings: Settings,
    event_id: str,
    type_: str,
    created: datetime,
    charge: Charge | None,
    *,
    timestamp: int | None = None,
    secret: str | None = None,
    **metadata: str,
) -> httpx.Response:
    body = event_body(event_id, type_, created, charge, **metadata)
    key = settings.subscriptions.local_webhook_secret
    assert key is not None
    header = sign(secret or key.get_secret_value(), body, timestamp)
    return http.post(
        "/v1/billing/webhooks/local",
        content=body,
        headers={SIGNATURE_HEADER: header, "Content-Type": "application/json"},
    )


def check_history(events: Iterable[dict[str, Any]], state: str, version: int) -> None:
    """A history is complete and ordered (seq 1..version), begins with the subscription's
    creation, holds only legal transitions, each from where the one before it left off, and
    ends in the subscription's state."""
    items = list(events)
    assert [e["seq"] for e in items] == list(range(1, version + 1)), json.dumps(items)
    assert items[0]["event"] == "subscribe" and items[0]["from_state"] is None
    previous = None
    for e in items:
        assert legal(e["from_state"], e["event"], e["to_state"]), e
        assert e["from_state"] == previous, (previous, e)
        previous = e["to_state"]
    assert previous == state


def subscribe(
    http: httpx.Client, headers: dict[str, str], plan: str = "standard"
) -> dict[str, Any]:
    created = http.post("/v1/subscription", json={"plan": plan, "payment_method": VISA},
                        headers=headers)  # fmt: skip
    assert created.status_code == 201, created.text
    return created.json()
