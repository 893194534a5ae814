"""Refresh tokens: rotated on every use, a short grace for racing tabs, and a reused token
past the grace revoking its whole family (the device session)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from aiohttp.test_utils import TestClient

from streamcore.auth import revocation
from streamcore.cache.redis_client import create_redis
from streamcore.settings import Settings
from tests.integration.auth.auth_http import signed_in

pytestmark = pytest.mark.stack


def _refresh(http: httpx.Client, token: str) -> httpx.Response:
    return http.post("/v1/auth/refresh", json={"refresh_token": token})


def test_each_refresh_rotates_the_token(http: httpx.Client) -> None:
    person = signed_in(http)
    first = person.tokens["refresh_token"]
    second = _refresh(http, first).json()["refresh_token"]
    third = _refresh(http, second).json()["refresh_token"]
    assert len({first, second, third}) == 3
    unknown = _refresh(http, "not-a-token-we-issued")
    assert unknown.status_code == 401
    assert unknown.json()["error"]["code"] == "invalid_refresh_token"


async def test_two_refreshes_of_one_token_at_once_both_succeed(stack: Settings) -> None:
    with httpx.Client(base_url=stack.gateway.entry_url, timeout=30) as http:
        person = signed_in(http)
    token = person.tokens["refresh_token"]
    async with httpx.AsyncClient(base_url=stack.gateway.entry_url, timeout=30) as client:
        answers = await asyncio.gather(
            *(client.post("/v1/auth/refresh", json={"refresh_token": token}) for _ in range(2))
        )
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        successors = {a.json()["refresh_token"] for a in answers}
        assert len(successors) == 2  # one each: both tabs go on
        for successor in successors:
            again = await client.post("/v1/auth/refresh", json={"refresh_token": successor})
            assert again.status_code == 200, again.text


async def test_a_token_reused_past_the_grace_revokes_its_family(
    stack: Settings, short_grace: TestClient, admin: dict[str, str]
) -> None:
    with httpx.Client(base_url=stack.gateway.entry_url, timeout=30) as http:
        person = signed_in(http)
    used = person.tokens["refresh_token"]
    first = await short_grace.post("/v1/auth/refresh", json={"refresh_token": used})
    assert first.status == 200
    current = (await first.json())["refresh_token"]
    await asyncio.sleep(0.5)  # past the 0.3 s grace
    reused = await short_grace.post("/v1/auth/refresh", json={"refresh_token": used})
    assert reused.status == 401
    assert (await reused.json())["error"]["code"] == "refresh_token_reused"
    # The whole family is gone: the token the owner holds does not work either.
    after = await short_grace.post("/v1/auth/refresh", json={"refresh_token": current})
    assert after.status == 401
    assert (await after.json())["error"]["code"] == "invalid_refresh_token"
    redis = create_redis(stack)
    try:
        assert await revocation.is_revoked(redis, uuid.UUID(person.tokens["device_id"]))
    finally:
        await redis.aclose()
    devices = await short_grace.get("/v1/devices", headers=person.headers)
    assert (await devices.json())["items"] == []
    # Polled without blocking the loop: this process's own consumer may hold the events.
    for _ in range(100):
        audit = await short_grace.get(
            "/v1/admin/audit", params={"account": person.account_id}, headers=admin
        )
        kinds = {event["kind"] for event in (await audit.json())["items"]}
        if {"refresh_reused", "device_signed_out"} <= kinds:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"no reuse in the audit log: {kinds}")
