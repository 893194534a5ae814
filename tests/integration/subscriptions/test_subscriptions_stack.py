"""The subscriptions service as the stack runs it: the scheduler's tick reaching the billing
pool on its own, a double submit creating one subscription, the history refusing changes, and
a fuzz run of its OpenAPI document against the running instance."""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import httpx
import pytest
import schemathesis
from schemathesis.generation import GenerationMode

from streamcore.settings import Settings
from subscriptions.openapi import document
from subscriptions.resources import Billing
from tests.integration.auth.auth_http import login, new_email
from tests.integration.subscriptions.subs_http import (
    DAY,
    DECLINED,
    VISA,
    advance,
    person,
    subscribe,
)
from tests.openapi_fuzz import fuzz

pytestmark = pytest.mark.stack


def test_the_scheduler_ticks_through_the_billing_pool(
    stack: Settings, http: httpx.Client, admin: dict[str, str]
) -> None:
    """No admin tick here: beat sends streamcore.subscriptions_tick every tick_interval_s and
    the stack's worker-billing pool (subscriptions/worker.py) runs it."""
    user = person(http)
    body = {"plan": "basic", "payment_method": VISA}
    assert http.post("/v1/subscription", json=body, headers=user.headers).status_code == 201
    http.post("/v1/subscription/payment-method", json={"payment_method": DECLINED},
              headers=user.headers)  # fmt: skip
    advance(http, admin, 32 * DAY)
    deadline = time.monotonic() + 10 * stack.subscriptions.tick_interval_s + 10
    while time.monotonic() < deadline:
        found = http.get("/v1/subscription", headers=user.headers).json()
        if found["state"] == "GracePeriod":
            break
        time.sleep(0.5)
    assert found["state"] == "GracePeriod", found
    events = http.get("/v1/subscription/events", headers=user.headers).json()["items"]
    by_scheduler = [e["event"] for e in events if e["source"] == "scheduler"]
    assert by_scheduler[0] == "renewal_failed", events  # then perhaps a first retry, failed


async def test_a_double_submit_creates_one_subscription(
    stack: Settings, http: httpx.Client, billing: Billing
) -> None:
    user = person(http)
    body = {"plan": "standard", "payment_method": VISA}
    async with httpx.AsyncClient(base_url=stack.gateway.entry_url, timeout=30) as client:
        answers = await asyncio.gather(
            *(client.post("/v1/subscription", json=body, headers=user.headers) for _ in range(4))
        )
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) == 1 and set(statuses) <= {201, 409}, statuses
    count = await billing.pool.fetchval(
        "SELECT count(*) FROM subscriptions WHERE account_id = $1", uuid.UUID(user.account_id)
    )
    charges = await billing.pool.fetchval(
        "SELECT count(*) FROM local_charges WHERE metadata->>'account_id' = $1", user.account_id
    )
    assert count == 1 and charges == 1  # charged once, too


async def test_the_history_is_append_only(http: httpx.Client, billing: Billing) -> None:
    subscription_id = uuid.UUID(subscribe(http, person(http).headers)["id"])
    for statement in (
        "UPDATE subscription_events SET event = 'cancel' WHERE subscription_id = $1",
        "DELETE FROM subscription_events WHERE subscription_id = $1",
    ):
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await billing.pool.execute(statement, subscription_id)


def test_fuzzing_the_subscriptions_service_finds_no_server_error(
    stack: Settings, http: httpx.Client, admin: dict[str, str]
) -> None:
    spec = document(True)
    # Not the clock: moving the shared clock at random would age every other test's data.
    spec = {**spec, "paths": {p: ops for p, ops in spec["paths"].items() if "clock" not in p}}
    schema = schemathesis.openapi.from_dict(spec)
    email = new_email("fuzz")
    created = http.post("/v1/admin/accounts", headers=admin, json={"email": email, "role": "admin"})
    assert created.status_code == 201, created.text
    tokens = login(http, email, created.json()["password"], device="fuzz").json()
    account_id = created.json()["account"]["id"]
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    sub = http.post("/v1/subscription", json={"plan": "standard", "payment_method": VISA},
                    headers=bearer).json()  # fmt: skip
    call = {"base_url": stack.subscriptions.url, "headers": bearer}
    known_ids = {"account_id": [account_id], "subscription_id": [sub["id"]],
                 "provider": ["local"]}  # fmt: skip
    statuses: dict[int, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode, known_ids, call, statuses)
    assert sum(n for s, n in statuses.items() if s < 300) >= 30, statuses
