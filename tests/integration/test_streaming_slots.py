"""Concurrent stream slots, against the stack's Redis and PostgreSQL and its catalog: limits
under concurrent starts, the holders of a refused start, ending from another device, expiry,
signed-out devices, and short-lived playback URLs that the origin refuses once expired.

Tokens are minted with the stack's keys (tests/streaming_http.py), since the auth service's
sign-in was built beside these tests; every service verifies them from the auth service's JWKS.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from origin.app import create_app as create_origin_app
from streamcore import signing
from streamcore.auth.audit import STREAM, decode
from streamcore.auth.revocation import revoke
from streamcore.db.database import connect
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from streaming.slots import Slot, Slots
from tests.integration.auth.auth_http import signed_in
from tests.integration.published import Published, catalog_row
from tests.integration.subscriptions.subs_http import subscribe
from tests.streaming_http import (
    Device,
    entitled_app,
    heartbeat,
    signed_in_app,
    start_session,
    subscribed_app,
)

pytestmark = pytest.mark.stack


@pytest.fixture
async def signed(stack: Settings) -> AsyncIterator[TestClient]:
    """The streaming service as production runs it: signed-in viewers only."""
    async with signed_in_app(stack, anonymous=False) as client:
        yield client


@pytest.fixture
async def ready(stack: Settings) -> uuid.UUID:
    return await catalog_row(stack)


@pytest.fixture
async def redis(stack: Settings) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(stack.redis_dsn)
    yield client
    await client.aclose()


async def _session_row(stack: Settings, session: str) -> Any:
    conn = await connect(stack, schema=Schema.STREAMING)
    try:
        return await conn.fetchrow("SELECT * FROM watch_sessions WHERE id = $1", uuid.UUID(session))
    finally:
        await conn.close()


async def _slots_held(redis: aioredis.Redis, device: Device) -> int:
    return int(await redis.zcard(f"streaming:slots:{{{device.account_id}}}"))


async def test_concurrent_starts_never_exceed_the_accounts_limit(
    stack: Settings, ready: uuid.UUID, redis: aioredis.Redis
) -> None:
    # 20 devices of one standard (2-stream) account start at once, through the gateway, on
    # the stack's streaming instances and on one built here: two processes, one Redis. The
    # account is a real one, subscribed to Standard through the stack's subscriptions service.
    with httpx.Client(base_url=stack.gateway.entry_url, timeout=30) as http:
        account = signed_in(http)
        subscribe(http, account.headers, plan="standard")
    first = Device(account_id=uuid.UUID(account.account_id))
    devices = [first] + [first.another(device_id=uuid.uuid4()) for _ in range(19)]
    async with (
        httpx.AsyncClient(base_url=stack.gateway.entry_url, timeout=30) as gateway,
        subscribed_app(stack) as here,
    ):

        async def start(i: int, device: Device) -> tuple[int, dict[str, Any]]:
            body, headers = {"asset_id": str(ready)}, device.headers(stack, f"player-{i}")
            if i % 4 == 3:
                response = await here.post("/v1/sessions", json=body, headers=headers)
                return response.status, await response.json()
            answer = await gateway.post("/v1/sessions", json=body, headers=headers)
            return answer.status_code, answer.json()

        answers = await asyncio.gather(*(start(i, d) for i, d in enumerate(devices)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] * 2 + [409] * 18
    started = {body["session_id"] for status, body in answers if status == 201}
    assert await _slots_held(redis, first) == 2
    for status, body in answers:
        if status == 409:
            error = body["error"]
            assert error["code"] == "too_many_streams" and error["limit"] == 2
            assert {s["session_id"] for s in error["streams"]} == started


async def test_the_third_stream_is_refused_with_the_holders_until_one_ends(
    signed: TestClient, stack: Settings, ready: uuid.UUID
) -> None:
    phone, tv, laptop = Device(), None, None
    tv, laptop = phone.another(device_id=uuid.uuid4()), phone.another(device_id=uuid.uuid4())
    on_phone = await start_session(signed, stack, phone, ready)
    assert on_phone["heartbeat_s"] == 10
    on_tv = await start_session(signed, stack, tv, ready)
    refused = (await start_session(signed, stack, laptop, ready, status=409))["error"]
    assert refused["code"] == "too_many_streams"
    holders = {s["session_id"]: s for s in refused["streams"]}
    assert set(holders) == {on_phone["session_id"], on_tv["session_id"]}
    held = holders[on_phone["session_id"]]
    assert held["device_id"] == str(phone.device_id) and held["asset_id"] == str(ready)
    assert held["user_agent"] == "test-player/1" and held["started_at"] == on_phone["started_at"]
    assert set(held) >= {"session_id", "device_id", "asset_id", "started_at", "user_agent"}
    metrics = await (await signed.get("/metrics")).text()
    assert 'stream_slot_requests_total{outcome="refused"} 1.0' in metrics
    assert 'stream_slot_requests_total{outcome="granted"} 2.0' in metrics

    listed = await signed.get("/v1/sessions", headers=laptop.headers(stack))
    assert {s["session_id"] for s in (await listed.json())["items"]} == set(holders)
    # The laptop stops the phone's stream (any device of the account may), and starts its own.
    stop = await signed.delete(
        f"/v1/sessions/{on_phone['session_id']}", headers=laptop.headers(stack)
    )
    assert stop.status == 204
    await start_session(signed, stack, laptop, ready)
    status, body = await heartbeat(signed, stack, phone, on_phone["session_id"])
    assert status == 409 and body["error"]["code"] == "session_ended"
    row = await _session_row(stack, on_phone["session_id"])
    assert row["ended_at"] is not None and row["end_reason"] == "stopped"
    assert row["account_id"] == phone.account_id and row["profile_id"] == phone.profile_id
    assert row["device_id"] == phone.device_id and row["user_agent"] == "test-player/1"
    # Someone else's session is not found.
    stranger = Device()
    gone = await signed.delete(
        f"/v1/sessions/{on_tv['session_id']}", headers=stranger.headers(stack)
    )
    assert gone.status == 404


async def test_a_free_plan_plays_one_stream_and_limits_are_per_account(
    stack: Settings, ready: uuid.UUID
) -> None:
    free, other = Device(), Device()
    async with entitled_app(stack, anonymous=False) as (signed, plans):
        plans.grant(free.account_id, "free")
        plans.grant(other.account_id, "free")
        await start_session(signed, stack, free, ready)
        refused = await start_session(
            signed, stack, free.another(device_id=uuid.uuid4()), ready, status=409
        )
        assert refused["error"]["limit"] == 1
        # Another account is not affected by the first one's streams.
        await start_session(signed, stack, other, ready)


@pytest.fixture
async def short_slots(stack: Settings) -> AsyncIterator[TestClient]:
    """Slots that expire after two seconds without a heartbeat (players beat every second)."""
    async with signed_in_app(stack, slot_timeout_s=2.0, heartbeat_s=1) as client:
        yield client


async def test_a_slot_without_heartbeats_expires_and_frees_its_place(
    short_slots: TestClient, stack: Settings, ready: uuid.UUID
) -> None:
    beating, silent = Device(), None
    silent = beating.another(device_id=uuid.uuid4())
    kept = await start_session(short_slots, stack, beating, ready)
    lost = await start_session(short_slots, stack, silent, ready)
    third = beating.another(device_id=uuid.uuid4())
    await start_session(short_slots, stack, third, ready, status=409)
    for _ in range(6):
        await asyncio.sleep(0.5)
        status, body = await heartbeat(short_slots, stack, beating, kept["session_id"])
        assert status == 200, body
        assert body["playback"]["asset_id"] == str(ready) and body["heartbeat_s"] == 1
    # The silent slot expired: the third device gets in; a heartbeat does not revive it.
    await start_session(short_slots, stack, third, ready)
    status, body = await heartbeat(short_slots, stack, silent, lost["session_id"])
    assert status == 409 and body["error"]["code"] == "session_ended"
    row = await _session_row(stack, lost["session_id"])
    assert row["end_reason"] == "expired"
    assert (row["ended_at"] - row["heartbeat_at"]).total_seconds() == pytest.approx(2.0)


async def test_a_signed_out_devices_heartbeat_fails_and_its_urls_are_not_renewed(
    signed: TestClient, stack: Settings, ready: uuid.UUID, redis: aioredis.Redis
) -> None:
    device = Device()
    started = await start_session(signed, stack, device, ready)
    status, alive = await heartbeat(signed, stack, device, started["session_id"])
    assert status == 200 and alive["playback"]["expires_at"] >= started["playback"]["expires_at"]
    await revoke(redis, stack.auth, device.device_id)  # what the auth service's logout does
    status, body = await heartbeat(signed, stack, device, started["session_id"])
    assert status == 409 and body["error"]["code"] == "session_ended"
    assert "playback" not in body
    assert await _slots_held(redis, device) == 0
    assert (await _session_row(stack, started["session_id"]))["end_reason"] == "revoked"
    # Its token is still valid for a while, but grants nothing more.
    refused = await start_session(signed, stack, device, ready, status=401)
    assert refused["error"]["code"] == "session_revoked"
    again = await signed.get(f"/v1/playback/{ready}", headers=device.headers(stack))
    assert again.status == 401


async def test_signed_in_playback_urls_need_this_devices_slot_and_are_short_lived(
    signed: TestClient, stack: Settings, ready: uuid.UUID
) -> None:
    device = Device()
    path = f"/v1/playback/{ready}"
    none = await signed.get(path, headers=device.headers(stack))
    assert none.status == 409 and (await none.json())["error"]["code"] == "no_stream_slot"
    await start_session(signed, stack, device, ready)
    # Whatever ttl asks, signed-in URLs live streaming.playback_token_ttl_s.
    got = await signed.get(path, params={"ttl": 86400}, headers=device.headers(stack))
    assert got.status == 200
    expires = (await got.json())["expires_at"]
    assert expires == pytest.approx(time.time() + stack.streaming.playback_token_ttl_s, abs=3)
    # Another device of the account, or another asset, holds no slot.
    other = device.another(device_id=uuid.uuid4())
    assert (await signed.get(path, headers=other.headers(stack))).status == 409
    elsewhere = await catalog_row(stack)
    assert (
        await signed.get(f"/v1/playback/{elsewhere}", headers=device.headers(stack))
    ).status == 409


async def test_without_anonymous_playback_a_token_is_needed_but_steering_is_public(
    signed: TestClient, ready: uuid.UUID
) -> None:
    viewer = {"X-Viewer-Id": str(uuid.uuid4())}
    for method, path in [("GET", f"/v1/playback/{ready}"), ("POST", "/v1/sessions"),
                         ("GET", "/v1/sessions"), ("POST", "/v1/viewers"),
                         ("GET", f"/v1/progress/{ready}")]:  # fmt: skip
        response = await signed.request(method, path, headers=viewer, json={})
        assert response.status == 401, (method, path)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    steering = await signed.get(f"/v1/playback/{ready}/steering/hls")
    assert steering.status == 200


async def test_a_grant_is_audited_with_account_profile_device_asset_and_ip(
    signed: TestClient, stack: Settings, ready: uuid.UUID, redis: aioredis.Redis
) -> None:
    device = Device()
    started = await start_session(signed, stack, device, ready)
    entries = await redis.xrevrange(STREAM, count=200)
    events = [decode(fields) for _, fields in entries]
    session = started["session_id"]
    grant = next(
        e for e in events
        if e.kind == "playback_granted" and e.detail.get("watch_session_id") == session
    )  # fmt: skip
    assert grant.actor == f"account:{device.account_id}"
    assert (grant.account_id, grant.profile_id, grant.session_id) == (
        device.account_id, device.profile_id, device.device_id,
    )  # fmt: skip
    assert grant.detail["asset_id"] == str(ready) and grant.ip == "127.0.0.1"


@pytest.fixture
async def short_tokens(stack: Settings) -> AsyncIterator[TestClient]:
    async with signed_in_app(stack, playback_token_ttl_s=2) as client:
        yield client


@pytest.fixture
async def strict_origin(stack: Settings) -> AsyncIterator[TestClient]:
    """The origin without clock skew: a token is refused the second it expires."""
    settings = stack.model_copy(
        update={"origin": stack.origin.model_copy(update={"clock_skew_s": 0})}
    )
    async with TestClient(TestServer(create_origin_app(settings))) as client:
        yield client


def _origin_path(playback: dict[str, Any]) -> tuple[str, str]:
    """The origin source's HLS URL path (with its token) and the token."""
    url = next(s for s in playback["sources"] if s["name"] == "origin")["hls"]
    path = "/t/" + url.split("/t/", 1)[1]
    return path, path.split("/")[2]


async def test_the_url_token_lives_the_short_ttl_and_the_origin_refuses_it_after(
    short_tokens: TestClient,
    strict_origin: TestClient,
    stack: Settings,
    published: Published,
) -> None:
    await catalog_row(stack, published.asset_id)
    device = Device()
    started = await start_session(short_tokens, stack, device, published.asset_id)
    path, token = _origin_path(started["playback"])
    grant = signing.verify(
        token, f"/{published.prefix}master.m3u8", stack.origin.signing_keys, skew_s=0
    )
    assert grant.expires == started["playback"]["expires_at"]
    assert grant.expires - time.time() == pytest.approx(2, abs=1.5)
    assert (await strict_origin.get(path)).status == 200
    await asyncio.sleep(grant.expires - time.time() + 1.1)
    expired = await strict_origin.get(path)
    assert expired.status == 403 and (await expired.json())["error"]["code"] == "token_expired"
    # A heartbeat of the held slot renews it.
    status, body = await heartbeat(short_tokens, stack, device, started["session_id"])
    assert status == 200
    fresh, _ = _origin_path(body["playback"])
    assert (await strict_origin.get(fresh)).status == 200


async def test_the_slot_script_drops_expired_members_first_and_never_revives_one(
    stack: Settings, redis: aioredis.Redis
) -> None:
    slots, account = Slots(redis, timeout_s=1.0), uuid.uuid4()
    started = iter(range(10))

    def slot() -> Slot:
        return Slot(
            session_id=str(uuid.uuid4()), device_id=None, asset_id=str(uuid.uuid4()),
            profile_id=str(uuid.uuid4()), user_agent=None, started_at=f"2024-01-0{next(started)}",
        )  # fmt: skip

    first, second, third = slot(), slot(), slot()
    assert (await slots.acquire(account, first, 2)).ok
    assert (await slots.acquire(account, first, 2)).ok, "acquiring a held slot again succeeds"
    await asyncio.sleep(0.6)
    assert (await slots.acquire(account, second, 2)).ok
    refused = await slots.acquire(account, third, 2)
    assert not refused.ok
    assert [s.session_id for s in refused.holders] == [first.session_id, second.session_id]
    assert not (await slots.beat(account, uuid.UUID(third.session_id))).ok
    await asyncio.sleep(0.6)  # the first is silent for 1.2 s, the second for 0.6 s
    taken = await slots.acquire(account, third, 2)
    assert taken.ok and taken.expired == [uuid.UUID(first.session_id)]
    assert not (await slots.beat(account, uuid.UUID(first.session_id))).ok, "never revived"
    assert (await slots.beat(account, uuid.UUID(second.session_id))).ok
    for held in (second, third):
        assert (await slots.release(account, uuid.UUID(held.session_id))).ok
    assert (await slots.holders(account)).holders == []
    # Nothing is left behind once the account's last slot is gone.
    keys = [f"streaming:{kind}:{{{account}}}" for kind in ("slots", "slot-info")]
    assert await redis.exists(*keys) == 0
