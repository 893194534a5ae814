"""Profiles (at most auth.max_profiles, maturity levels, another account's is a 404) and
devices (listed, signed out one by one or all but this one)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from streamcore.auth import revocation
from streamcore.auth.keys import public_keys
from streamcore.auth.tokens import verify
from streamcore.cache.redis_client import create_redis
from streamcore.settings import Settings
from tests.integration.auth.auth_http import login, signed_in

pytestmark = pytest.mark.stack


def test_profiles_are_created_changed_selected_and_deleted(
    stack: Settings, http: httpx.Client
) -> None:
    person = signed_in(http)
    created = http.post(
        "/v1/profiles",
        headers=person.headers,
        json={"name": "Kid", "maturity": "kids", "language": "pt-BR"},
    )
    assert created.status_code == 201, created.text
    kid = created.json()
    assert (kid["maturity"], kid["language"]) == ("kids", "pt-BR")
    patched = http.patch(
        f"/v1/profiles/{kid['id']}", headers=person.headers, json={"maturity": "teen"}
    )
    assert patched.status_code == 200 and patched.json()["maturity"] == "teen"
    selected = http.post(f"/v1/profiles/{kid['id']}/select", headers=person.headers)
    assert selected.status_code == 200, selected.text
    claims = verify(
        selected.json()["access_token"], public_keys(stack.auth.signing_keys), stack.auth
    )
    assert str(claims.profile_id) == kid["id"] and claims.maturity == "teen"
    assert str(claims.session_id) == person.tokens["device_id"]
    # The device keeps the profile: its refreshes are for it too.
    refreshed = http.post(
        "/v1/auth/refresh", json={"refresh_token": person.tokens["refresh_token"]}
    )
    assert refreshed.json()["profile_id"] == kid["id"]
    assert http.delete(f"/v1/profiles/{kid['id']}", headers=person.headers).status_code == 204
    assert len(http.get("/v1/profiles", headers=person.headers).json()["items"]) == 1
    (last,) = http.get("/v1/profiles", headers=person.headers).json()["items"]
    refused = http.delete(f"/v1/profiles/{last['id']}", headers=person.headers)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "last_profile"


def test_bad_profile_fields_are_400s(http: httpx.Client) -> None:
    person = signed_in(http)
    for body, field in (
        ({"name": "X", "maturity": "toddler"}, "maturity"),
        ({"name": "X", "maturity": "kids", "language": "not a tag"}, "language"),
        ({"name": "  ", "maturity": "kids"}, "name"),
    ):
        response = http.post("/v1/profiles", headers=person.headers, json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["details"][0]["field"] == field


def test_at_most_max_profiles(stack: Settings, http: httpx.Client) -> None:
    person = signed_in(http)
    for i in range(stack.auth.max_profiles - 1):
        response = http.post(
            "/v1/profiles", headers=person.headers, json={"name": f"P{i}", "maturity": "teen"}
        )
        assert response.status_code == 201, response.text
    one_more = http.post(
        "/v1/profiles", headers=person.headers, json={"name": "extra", "maturity": "teen"}
    )
    assert one_more.status_code == 409
    assert one_more.json()["error"]["code"] == "too_many_profiles"


def test_another_accounts_profile_is_a_404(http: httpx.Client) -> None:
    owner, other = signed_in(http), signed_in(http)
    (profile,) = http.get("/v1/profiles", headers=owner.headers).json()["items"]
    path = f"/v1/profiles/{profile['id']}"
    for response in (
        http.patch(path, headers=other.headers, json={"name": "mine now"}),
        http.post(f"{path}/select", headers=other.headers),
        http.delete(path, headers=other.headers),
        http.patch(f"/v1/profiles/{uuid.uuid4()}", headers=other.headers, json={"name": "x"}),
    ):
        assert response.status_code == 404, response.text
    assert http.get("/v1/profiles", headers=owner.headers).json()["items"] == [profile]


def test_devices_are_listed_and_signed_out(stack: Settings, http: httpx.Client) -> None:
    phone = signed_in(http, device="phone")
    tv = login(http, phone.email, device="living room tv", **{"User-Agent": "SmartTV/2"}).json()
    laptop = login(http, phone.email, device="laptop").json()
    devices = http.get("/v1/devices", headers=phone.headers).json()["items"]
    assert [d["name"] for d in devices] == ["laptop", "living room tv", "phone"]
    assert [d["current"] for d in devices] == [False, False, True]
    assert devices[1]["user_agent"] == "SmartTV/2" and devices[1]["ip"]

    removed = http.delete(f"/v1/devices/{tv['device_id']}", headers=phone.headers)
    assert removed.status_code == 204
    refused = http.post("/v1/auth/refresh", json={"refresh_token": tv["refresh_token"]})
    assert refused.status_code == 401
    # A signed-out device gets no new token by selecting a profile either.
    (profile,) = http.get("/v1/profiles", headers=phone.headers).json()["items"]
    tv_bearer = {"Authorization": f"Bearer {tv['access_token']}"}
    assert http.post(f"/v1/profiles/{profile['id']}/select", headers=tv_bearer).status_code == 401

    others = http.post("/v1/devices/sign-out-others", headers=phone.headers)
    assert others.json() == {"signed_out": 1}  # the laptop; the tv had gone already
    assert (
        http.post("/v1/auth/refresh", json={"refresh_token": laptop["refresh_token"]}).status_code
        == 401
    )
    assert (
        http.post(
            "/v1/auth/refresh", json={"refresh_token": phone.tokens["refresh_token"]}
        ).status_code
        == 200
    )
    (left,) = http.get("/v1/devices", headers=phone.headers).json()["items"]
    assert left["id"] == phone.tokens["device_id"]

    async def revoked() -> list[bool]:
        redis = create_redis(stack)
        try:
            ids = (tv["device_id"], laptop["device_id"], phone.tokens["device_id"])
            return [await revocation.is_revoked(redis, uuid.UUID(i)) for i in ids]
        finally:
            await redis.aclose()

    assert asyncio.run(revoked()) == [True, True, False]
    other = signed_in(http)
    assert (
        http.delete(f"/v1/devices/{phone.tokens['device_id']}", headers=other.headers).status_code
        == 404
    )


def test_a_service_key_has_no_account_of_its_own(http: httpx.Client, admin: dict[str, str]) -> None:
    response = http.get("/v1/me", headers=admin)
    assert response.status_code == 403 and response.json()["error"]["code"] == "account_required"
