"""The subscriptions API through the gateway, against the stack's real subscriptions instance,
auth service, PostgreSQL and Redis: subscribing (and a declined card creating nothing), the
lifecycle's endpoints and their error codes, entitlements, dunning moved by the test clock,
admin, metrics and the OpenAPI document."""

from __future__ import annotations

import httpx
import pytest

from streamcore.settings import Settings
from subscriptions.openapi import PATH, document
from tests.integration.subscriptions.subs_http import DAY, DECLINED, VISA, advance, person, tick

pytestmark = pytest.mark.stack


def _error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    error: dict[str, object] = response.json()["error"]
    assert error["code"] == code, error
    return error


def _entitlement(http: httpx.Client, admin: dict[str, str], account_id: str) -> dict[str, object]:
    response = http.get(f"/v1/entitlements/{account_id}", headers=admin)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_plans_are_public(http: httpx.Client, stack: Settings) -> None:
    body = http.get("/v1/plans").json()
    assert [p["name"] for p in body["items"]] == stack.plans.names()
    assert body["free_plan"] == "free"
    premium = next(p for p in body["items"] if p["name"] == "premium")
    assert premium["premium"] is True and premium["amount_minor"] == 1599


def test_subscribing_and_every_error_code(http: httpx.Client, admin: dict[str, str]) -> None:
    user = person(http)
    me = user.headers
    _error(http.get("/v1/subscription", headers=me), 404, "no_subscription")
    free = _entitlement(http, admin, user.account_id)
    assert (free["plan"], free["state"], free["premium"]) == ("free", None, False)
    # A declined card: 402, and nothing half-created.
    declined = http.post("/v1/subscription", json={"plan": "premium", "payment_method": DECLINED},
                         headers=me)  # fmt: skip
    assert _error(declined, 402, "payment_failed")["failure_code"] == "card_declined"
    _error(http.get("/v1/subscription", headers=me), 404, "no_subscription")
    assert http.get("/v1/invoices", headers=me).json()["items"] == []
    bad_card = http.post("/v1/subscription", json={"plan": "premium", "payment_method": "pm_x"},
                         headers=me)  # fmt: skip
    _error(bad_card, 400, "invalid_payment_method")
    free_plan = http.post("/v1/subscription", json={"plan": "free", "payment_method": VISA},
                          headers=me)  # fmt: skip
    _error(free_plan, 400, "invalid_request")
    _error(http.post("/v1/subscription", json={"plan": "standard"}, headers=me), 400,
           "invalid_request")  # fmt: skip

    created = http.post("/v1/subscription", json={"plan": "standard", "payment_method": VISA},
                        headers=me)  # fmt: skip
    assert created.status_code == 201, created.text
    sub = created.json()
    assert (sub["state"], sub["plan"], sub["version"]) == ("Active", "standard", 1)
    assert sub["entitlement"]["plan"] == "standard" and sub["entitlement"]["streams"] == 2
    again = http.post("/v1/subscription", json={"plan": "basic", "payment_method": VISA},
                      headers=me)  # fmt: skip
    _error(again, 409, "subscription_exists")
    resume = _error(http.post("/v1/subscription/resume", headers=me), 409, "invalid_transition")
    assert resume["state"] == "Active" and "Active" in str(resume["message"])

    up = http.post("/v1/subscription/change-plan", json={"plan": "premium"}, headers=me).json()
    assert (up["plan"], up["pending_plan"]) == ("premium", None)
    assert _entitlement(http, admin, user.account_id)["premium"] is True
    down = http.post("/v1/subscription/change-plan", json={"plan": "basic"}, headers=me).json()
    assert (down["plan"], down["pending_plan"]) == ("premium", "basic")
    cancelled = http.post("/v1/subscription/cancel", headers=me).json()
    assert cancelled["state"] == "Cancelled"
    assert _entitlement(http, admin, user.account_id)["plan"] == "premium"  # until period end
    assert http.post("/v1/subscription/resume", headers=me).json()["state"] == "Active"

    events = http.get("/v1/subscription/events", headers=me).json()["items"]
    assert [e["event"] for e in events] == [
        "subscribe", "change_plan", "change_plan", "cancel", "resume"
    ]  # fmt: skip
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert {e["source"] for e in events} == {"user"}
    invoices = http.get("/v1/invoices", headers=me).json()["items"]
    assert [(i["plan"], i["status"]) for i in invoices] == [
        ("premium", "paid"),
        ("standard", "paid"),
    ]

    shown = http.get(f"/v1/admin/subscriptions/{sub['id']}", headers=admin).json()
    assert shown["version"] == 5
    history = http.get(f"/v1/admin/subscriptions/{sub['id']}/events", headers=admin).json()
    assert history["items"] == events
    listed = http.get("/v1/admin/subscriptions", params={"state": "Active", "plan": "premium",
                                                          "limit": 100}, headers=admin)  # fmt: skip
    assert listed.status_code == 200 and all(
        (s["state"], s["plan"]) == ("Active", "premium") for s in listed.json()["items"]
    )
    _error(http.get("/v1/admin/subscriptions", params={"state": "Nope"}, headers=admin), 400,
           "invalid_request")  # fmt: skip
    _error(http.get("/v1/admin/subscriptions", params={"cursor": "x"}, headers=admin), 400,
           "invalid_cursor")  # fmt: skip


def test_who_may_call(http: httpx.Client, admin: dict[str, str]) -> None:
    user = person(http)
    _error(http.get("/v1/subscription"), 401, "unauthorized")
    _error(http.get("/v1/subscription", headers=admin), 403, "account_required")
    _error(http.get(f"/v1/entitlements/{user.account_id}", headers=user.headers), 403,
           "forbidden")  # fmt: skip
    _error(http.post("/v1/admin/subscriptions/tick", headers=user.headers), 403, "forbidden")


def test_dunning_grace_suspension_and_reactivation(
    http: httpx.Client, admin: dict[str, str]
) -> None:
    user = person(http)
    me = user.headers
    body = {"plan": "standard", "payment_method": VISA}
    assert http.post("/v1/subscription", json=body, headers=me).status_code == 201
    # The next renewal will be declined.
    stored = http.post("/v1/subscription/payment-method", json={"payment_method": DECLINED},
                       headers=me).json()  # fmt: skip
    assert (stored["state"], stored["payment_method"]) == ("Active", DECLINED)

    advance(http, admin, 32 * DAY)
    tick(http, admin)
    grace = http.get("/v1/subscription", headers=me).json()
    assert grace["state"] == "GracePeriod" and grace["next_retry_at"] is not None
    assert _entitlement(http, admin, user.account_id)["plan"] == "standard"  # access kept

    advance(http, admin, 8 * DAY)
    tick(http, admin)
    suspended = http.get("/v1/subscription", headers=me).json()
    assert suspended["state"] == "Suspended"
    access = _entitlement(http, admin, user.account_id)
    assert (access["plan"], access["state"]) == ("free", "Suspended")
    invoices = http.get("/v1/invoices", headers=me).json()["items"]
    assert [i["status"] for i in invoices].count("failed") >= 2  # the renewal, then retries

    # Paying reactivates at once; a declined card is 402 and changes nothing.
    _error(http.post("/v1/subscription/payment-method", json={"payment_method": DECLINED},
                     headers=me), 402, "payment_failed")  # fmt: skip
    paid = http.post("/v1/subscription/payment-method", json={"payment_method": VISA},
                     headers=me).json()  # fmt: skip
    assert paid["state"] == "Active"
    assert _entitlement(http, admin, user.account_id)["plan"] == "standard"
    events = [e["event"] for e in http.get("/v1/subscription/events", headers=me).json()["items"]]
    assert events[:3] == ["subscribe", "payment_method_updated", "renewal_failed"]
    assert "grace_ended" in events and events[-1] == "payment_method_paid"

    # Cancelled, then the period ends: Expired, and a new subscription starts afresh.
    assert http.post("/v1/subscription/cancel", headers=me).json()["state"] == "Cancelled"
    advance(http, admin, 32 * DAY)
    tick(http, admin)
    assert http.get("/v1/subscription", headers=me).json()["state"] == "Expired"
    _error(http.post("/v1/subscription/resume", headers=me), 409, "invalid_transition")
    fresh = http.post("/v1/subscription", json=body, headers=me)
    assert fresh.status_code == 201 and fresh.json()["version"] == 1


def test_metrics_and_the_document(http: httpx.Client, stack: Settings) -> None:
    assert http.get(PATH).json() == document(True)  # through the gateway
    text = httpx.get(f"{stack.subscriptions.url}/metrics", timeout=10).text
    assert 'subscriptions{plan="standard",state="Active"}' in text
    assert "subscription_transitions_total{" in text and 'event="subscribe"' in text
