"""Roles and administration: admin routes refused to viewers, accounts listed with their
profiles, created with a role, changed; the audit log and its consumer."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from streamcore.auth.audit import AuditEvent, publish
from streamcore.cache.redis_client import create_redis
from streamcore.settings import Settings
from tests.integration.auth.auth_http import (
    audit_kinds,
    login,
    new_email,
    signed_in,
    signup,
    wait_for,
)

pytestmark = pytest.mark.stack


def test_a_viewer_calling_an_admin_route_is_a_403(http: httpx.Client) -> None:
    viewer = signed_in(http)
    for method, path in (
        ("GET", "/v1/admin/accounts"),
        ("GET", "/v1/admin/audit"),
        ("PATCH", f"/v1/admin/accounts/{viewer.account_id}"),
    ):
        response = http.request(method, path, headers=viewer.headers, json={"role": "admin"})
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"]["code"] == "forbidden"
    assert http.get("/v1/admin/accounts").status_code == 401


def test_admins_create_accounts_with_roles_and_change_them(
    http: httpx.Client, admin: dict[str, str]
) -> None:
    email = new_email("creator")
    created = http.post(
        "/v1/admin/accounts", headers=admin, json={"email": email, "role": "creator"}
    )
    assert created.status_code == 201, created.text
    account, password = created.json()["account"], created.json()["password"]
    assert account["role"] == "creator" and account["display_name"] == email.split("@")[0]
    signed = login(http, email, password)
    assert signed.status_code == 200, signed.text
    given = http.post(
        "/v1/admin/accounts",
        headers=admin,
        json={"email": new_email(), "role": "viewer", "password": "chosen passphrase"},
    )
    assert given.status_code == 201 and "password" not in given.json()
    assert (
        http.post(
            "/v1/admin/accounts", headers=admin, json={"email": email, "role": "viewer"}
        ).status_code
        == 409
    )

    changed = http.patch(
        f"/v1/admin/accounts/{account['id']}",
        headers=admin,
        json={"role": "admin"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "admin" and "tier" not in changed.json()
    # The new role is in the next token (a refresh) and opens the admin routes.
    refreshed = http.post(
        "/v1/auth/refresh", json={"refresh_token": signed.json()["refresh_token"]}
    ).json()
    bearer = {"Authorization": f"Bearer {refreshed['access_token']}"}
    assert http.get("/v1/admin/audit", headers=bearer).status_code == 200
    # Tiers are gone (the subscription decides what an account plays): an unknown field.
    tier = http.patch(f"/v1/admin/accounts/{account['id']}", headers=admin, json={"tier": "free"})
    assert tier.status_code == 400
    unknown = http.patch(
        f"/v1/admin/accounts/{uuid.uuid4()}", headers=admin, json={"role": "viewer"}
    )
    assert unknown.status_code == 404

    kinds = wait_for(
        lambda: (
            {"account_created", "role_changed", "login"}
            <= set(k := audit_kinds(http, admin, account["id"]))
            and k
        ),
        what="the admin's changes in the audit log",
    )
    events = http.get(
        "/v1/admin/audit", headers=admin, params={"account": account["id"], "kind": "role_changed"}
    ).json()["items"]
    assert [(e["detail"]["from"], e["detail"]["to"]) for e in events] == [("creator", "admin")]
    assert events[0]["actor"] == "service:ci" and kinds


def test_accounts_are_listed_with_profiles_filtered_and_paged(
    http: httpx.Client, admin: dict[str, str]
) -> None:
    marker = uuid.uuid4().hex[:10]
    ids = [signup(http, display_name=f"Fan {marker} {i}")["id"] for i in range(3)]
    first = http.get("/v1/admin/accounts", headers=admin, params={"q": marker, "limit": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert [a["id"] for a in page["items"]] == ids[::-1][:2]  # newest first
    assert page["items"][0]["profiles"][0]["name"] == f"Fan {marker} 2"
    rest = http.get(
        "/v1/admin/accounts",
        headers=admin,
        params={"q": marker, "limit": 2, "cursor": page["next_cursor"]},
    ).json()
    assert [a["id"] for a in rest["items"]] == ids[:1] and rest["next_cursor"] is None
    by_email = http.get(
        "/v1/admin/accounts", headers=admin, params={"q": page["items"][0]["email"].upper()}
    ).json()
    assert [a["id"] for a in by_email["items"]] == [ids[2]]
    assert (
        http.get("/v1/admin/accounts", headers=admin, params={"cursor": "bogus"}).json()["error"][
            "code"
        ]
        == "invalid_cursor"
    )
    assert http.get("/v1/admin/accounts", headers=admin, params={"limit": 101}).status_code == 400


def test_sign_up_sign_in_failure_and_sign_out_are_audited(
    http: httpx.Client, admin: dict[str, str]
) -> None:
    person = signed_in(http)
    login(http, person.email, "wrong password")
    http.post("/v1/auth/logout", headers=person.headers)
    expected = {"signup", "login", "login_failed", "device_signed_out"}
    wait_for(
        lambda: expected <= set(audit_kinds(http, admin, person.account_id)), what="every event"
    )
    events = http.get(
        "/v1/admin/audit", headers=admin, params={"account": person.account_id, "limit": 2}
    ).json()
    assert len(events["items"]) == 2 and events["next_cursor"]
    older = http.get(
        "/v1/admin/audit",
        headers=admin,
        params={"account": person.account_id, "cursor": events["next_cursor"]},
    ).json()
    seen = [e["id"] for e in events["items"] + older["items"]]
    assert len(seen) == len(set(seen)) >= 4
    failed = next(e for e in older["items"] + events["items"] if e["kind"] == "login_failed")
    assert failed["detail"]["reason"] == "invalid_credentials" and failed["ip"]


def test_the_consumer_records_events_published_by_any_service_once(
    stack: Settings, http: httpx.Client, admin: dict[str, str]
) -> None:
    event = AuditEvent(
        kind="playback_granted",
        actor="service:streaming",
        account_id=uuid.uuid4(),
        detail={"asset_id": str(uuid.uuid4())},
    )

    async def send_twice() -> None:
        redis = create_redis(stack)
        try:
            await publish(redis, event)
            await publish(redis, event)  # a redelivery: still one row
        finally:
            await redis.aclose()

    asyncio.run(send_twice())
    rows = wait_for(
        lambda: http.get(
            "/v1/admin/audit", headers=admin, params={"account": str(event.account_id)}
        ).json()["items"],
        what="the event",
    )
    assert [(r["id"], r["kind"], r["detail"]) for r in rows] == [
        (str(event.id), "playback_granted", event.detail)
    ]
