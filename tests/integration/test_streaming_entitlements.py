"""Playback decided by the account's plan, in the streaming service built here by its factory,
against the stack's catalog, Redis and PostgreSQL: premium titles refused without a plan that
includes them (403 ``not_entitled``, asked afresh first), stream slots from the plan, the
playback token opening the plan's renditions only (``only``), renewals refused once access is
removed, anonymous viewers on the free plan, and service accounts unlimited.

The entitlements come from a stand-in of the subscriptions service's endpoint
(tests/entitlements_standin.py: a real HTTP server answering the documented JSON), so that a
test changes an account's plan at once or takes the endpoint down; the real service's answers
through the stack are tested in tests/integration/subscriptions/test_subscriptions_playback.py.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestClient

from streamcore import signing
from streamcore.db.database import connect
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from tests.integration.published import catalog_row
from tests.ladder_manifests import LADDER
from tests.streaming_http import Device, entitled_app, heartbeat, start_session

pytestmark = pytest.mark.stack


def _admin(stack: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.auth.service_key().get_secret_value()}"}


async def _asset(stack: Settings, *, premium: bool) -> uuid.UUID:
    """A published asset with a three-rung ladder, in a title of that access level."""
    asset_id = await catalog_row(stack, renditions=LADDER)
    access = "premium" if premium else "free"
    async with httpx.AsyncClient(
        base_url=stack.catalog_api.url, headers=_admin(stack), timeout=10
    ) as catalog:
        title = await catalog.post("/v1/titles", json={"title": f"A {access} film",
                                                       "access": access})  # fmt: skip
        assert title.status_code == 201, title.text
        put = await catalog.put(f"/v1/titles/{title.json()['id']}/assets/{asset_id}", json={})
        assert put.status_code in (200, 201), put.text
        assert (await catalog.get(f"/v1/assets/{asset_id}")).json()["access"] == access
    return asset_id


@pytest.fixture
async def premium_title(stack: Settings) -> uuid.UUID:
    return await _asset(stack, premium=True)


@pytest.fixture
async def free_title(stack: Settings) -> uuid.UUID:
    return await _asset(stack, premium=False)


def _only(stack: Settings, playback: dict[str, Any]) -> frozenset[str] | None:
    """What every source's token opens (one token for all of them, and the same `only`)."""
    grants = set()
    for source in playback["sources"]:
        token, path = source["hls"].split("/t/", 1)[1].split("/", 1)
        grants.add(signing.verify(token, f"/{path}", stack.origin.signing_keys).only)
    assert len(grants) == 1
    return grants.pop()


async def _end_reason(stack: Settings, session: str) -> str | None:
    conn = await connect(stack, schema=Schema.STREAMING)
    try:
        row = await conn.fetchrow(
            "SELECT end_reason FROM watch_sessions WHERE id = $1", uuid.UUID(session)
        )
    finally:
        await conn.close()
    assert row is not None
    return str(row["end_reason"]) if row["end_reason"] else None


async def test_a_premium_title_is_refused_then_playable_once_subscribed(
    stack: Settings, premium_title: uuid.UUID
) -> None:
    viewer = Device()
    async with entitled_app(stack, anonymous=False) as (app, plans):  # standard: no premium
        refused = await start_session(app, stack, viewer, premium_title, status=403)
        assert refused["error"]["code"] == "not_entitled"
        assert refused["error"]["plan"] == "standard"
        # Asked twice: the second time afresh, before refusing.
        assert plans.calls.count(viewer.account_id) == 2
        url = await app.get(f"/v1/playback/{premium_title}", headers=viewer.headers(stack))
        assert url.status == 403 and (await url.json())["error"]["code"] == "not_entitled"
        # Subscribed a moment later: the answer cached a moment ago does not refuse it.
        plans.grant(viewer.account_id, "premium")
        started = await start_session(app, stack, viewer, premium_title)
        assert _only(stack, started["playback"]) == {"360p", "720p", "1080p"}


async def test_the_stream_limit_is_the_plans(stack: Settings, free_title: uuid.UUID) -> None:
    basic, family = Device(), Device()
    async with entitled_app(stack, anonymous=False) as (app, plans):
        plans.grant(basic.account_id, "basic")  # one stream
        plans.grant(family.account_id, "premium")  # four
        await start_session(app, stack, basic, free_title)
        second = basic.another(device_id=uuid.uuid4())
        refused = await start_session(app, stack, second, free_title, status=409)
        assert refused["error"]["code"] == "too_many_streams" and refused["error"]["limit"] == 1
        devices = [family] + [family.another(device_id=uuid.uuid4()) for _ in range(4)]
        statuses = [
            (await app.post("/v1/sessions", json={"asset_id": str(free_title)},
                            headers=d.headers(stack))).status
            for d in devices
        ]  # fmt: skip
        assert statuses == [201] * 4 + [409]


async def test_the_urls_open_the_plans_renditions_only(
    stack: Settings, free_title: uuid.UUID
) -> None:
    viewer = Device()
    async with entitled_app(stack, anonymous=False) as (app, plans):
        plans.grant(viewer.account_id, "basic")  # 720p at most
        started = await start_session(app, stack, viewer, free_title)
        playback = started["playback"]
        assert playback["renditions"] == ["360p", "720p"]
        assert _only(stack, playback) == {"360p", "720p"}
        again = await app.get(f"/v1/playback/{free_title}", headers=viewer.headers(stack))
        assert _only(stack, await again.json()) == {"360p", "720p"}


async def test_renewal_is_refused_once_access_is_removed(
    stack: Settings, premium_title: uuid.UUID, free_title: uuid.UUID
) -> None:
    """Suspended (the free plan) on a premium title: the next heartbeat is refused and the
    session ends as not_entitled; its last URLs lapse within their lifetime. A downgrade on a
    free title narrows the renditions of the next renewal. (No entitlement cache here, so the
    change is seen at the next heartbeat rather than within `entitlements_cache_s`.)"""
    viewer = Device()
    async with entitled_app(
        stack, anonymous=False, entitlements_cache_s=0, playback_token_ttl_s=30
    ) as (app, plans):
        plans.grant(viewer.account_id, "premium")
        started = await start_session(app, stack, viewer, premium_title)
        session = started["session_id"]
        assert (await heartbeat(app, stack, viewer, session))[0] == 200
        plans.grant(viewer.account_id, "free", state="Suspended")
        status, body = await heartbeat(app, stack, viewer, session)
        assert status == 403 and body["error"]["code"] == "not_entitled"
        assert await _end_reason(stack, session) == "not_entitled"
        assert started["playback"]["expires_at"] <= time.time() + 30
        # The slot is free again, and the session stays ended.
        status, body = await heartbeat(app, stack, viewer, session)
        assert status == 409 and body["error"]["code"] == "session_ended"
        listed = await app.get("/v1/sessions", headers=viewer.headers(stack))
        assert (await listed.json())["items"] == []

        plans.grant(viewer.account_id, "premium")
        watching = await start_session(app, stack, viewer, free_title)
        assert _only(stack, watching["playback"]) == {"360p", "720p", "1080p"}
        plans.grant(viewer.account_id, "basic")  # a downgrade, at its period's end
        status, body = await heartbeat(app, stack, viewer, watching["session_id"])
        assert status == 200 and _only(stack, body["playback"]) == {"360p", "720p"}


async def test_an_outage_of_the_subscriptions_service_is_a_503_not_an_ended_session(
    stack: Settings, free_title: uuid.UUID
) -> None:
    viewer = Device()
    async with entitled_app(stack, anonymous=False, entitlements_cache_s=0) as (app, plans):
        never_seen = Device()
        plans.status = 503
        refused = await app.post("/v1/sessions", json={"asset_id": str(free_title)},
                                 headers=never_seen.headers(stack))  # fmt: skip
        assert refused.status == 503 and "Retry-After" in refused.headers
        plans.status = 200
        started = await start_session(app, stack, viewer, free_title)
        plans.status = 503
        # The last answer stands in for a while (streamcore/entitlements_client.py).
        status, _ = await heartbeat(app, stack, viewer, started["session_id"])
        assert status == 200
        assert await _end_reason(stack, started["session_id"]) is None


async def test_anonymous_viewers_have_the_free_plan(
    stack: Settings, premium_title: uuid.UUID, free_title: uuid.UUID
) -> None:
    viewer = {"X-Viewer-Id": str(uuid.uuid4())}
    async with entitled_app(stack, anonymous=True) as (app, plans):
        started = await app.post("/v1/sessions", json={"asset_id": str(free_title)},
                                 headers=viewer)  # fmt: skip
        assert started.status == 201, await started.text()
        playback = (await started.json())["playback"]
        assert playback["renditions"] == ["360p"] and _only(stack, playback) == {"360p"}
        urls = await (await app.get(f"/v1/playback/{free_title}", headers=viewer)).json()
        assert _only(stack, urls) == {"360p"}
        for refused in (
            await app.get(f"/v1/playback/{premium_title}", headers=viewer),
            await app.post("/v1/sessions", json={"asset_id": str(premium_title)}, headers=viewer),
        ):
            assert refused.status == 403
            assert (await refused.json())["error"]["code"] == "not_entitled"
        assert plans.calls == []  # nobody to ask about


async def test_service_accounts_are_not_limited(
    stack: Settings, premium_title: uuid.UUID, streaming: TestClient
) -> None:
    response = await streaming.get(f"/v1/playback/{premium_title}", headers=_admin(stack))
    assert response.status == 200, await response.text()
    body = await response.json()
    assert "renditions" not in body and _only(stack, body) is None
