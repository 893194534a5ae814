"""Watching as a profile, against the stack: progress per profile, anonymous viewers' progress
and events claimed by a profile, admins' support reads (audited), and maturity levels against
the catalog's certifications.

Tokens are minted with the stack's keys (tests/streaming_http.py), since the auth service's
sign-in was built beside these tests; the service verifies them from the auth service's JWKS.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from streamcore.auth.audit import STREAM, decode
from streamcore.auth.roles import Role
from streamcore.db.database import connect
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from tests.assets_http import admin_client
from tests.integration.published import catalog_row
from tests.streaming_http import Device, signed_in_app

pytestmark = pytest.mark.stack


@pytest.fixture
async def app(stack: Settings) -> AsyncIterator[TestClient]:
    """Signed-in viewers, and anonymous ones (as in development) to claim from."""
    async with signed_in_app(stack) as client:
        yield client


@pytest.fixture
async def ready(stack: Settings) -> uuid.UUID:
    return await catalog_row(stack)


async def _audit(stack: Settings, kind: str) -> list[Any]:
    client = aioredis.from_url(stack.redis_dsn)
    try:
        entries = await client.xrevrange(STREAM, count=200)
    finally:
        await client.aclose()
    return [event for _, fields in entries if (event := decode(fields)).kind == kind]


async def _put(
    app: TestClient, headers: dict[str, str], asset: uuid.UUID, position: float, reason: str
) -> None:
    body = {"position_s": position, "session_id": "s", "reason": reason}
    response = await app.put(f"/v1/progress/{asset}", json=body, headers=headers)
    assert response.status == 204, await response.text()


async def _position(app: TestClient, headers: dict[str, str], asset: uuid.UUID) -> float | None:
    response = await app.get(f"/v1/progress/{asset}", headers=headers)
    if response.status == 404:
        return None
    assert response.status == 200, await response.text()
    return float((await response.json())["position_s"])


async def test_progress_is_per_profile(app: TestClient, stack: Settings, ready: uuid.UUID) -> None:
    parent = Device()
    child = parent.another(profile_id=uuid.uuid4(), maturity="kids")
    await _put(app, parent.headers(stack), ready, 100, "pause")
    await _put(app, child.headers(stack), ready, 7, "periodic")
    assert await _position(app, parent.headers(stack), ready) == 100
    assert await _position(app, child.headers(stack), ready) == 7
    # The same profile on another device continues where it was.
    assert await _position(app, parent.another(device_id=uuid.uuid4()).headers(stack), ready) == 100
    listed = await (await app.get("/v1/progress", headers=child.headers(stack))).json()
    assert listed["profile_id"] == str(child.profile_id)
    assert [(i["asset_id"], i["position_s"]) for i in listed["items"]] == [(str(ready), 7)]
    conn = await connect(stack, schema=Schema.STREAMING)
    try:
        row = await conn.fetchrow(
            "SELECT account_id, viewer_id FROM watch_progress WHERE profile_id = $1",
            parent.profile_id,
        )
    finally:
        await conn.close()
    assert row["account_id"] == parent.account_id and row["viewer_id"] is None


async def test_an_admins_support_read_of_a_profiles_progress_is_audited(
    app: TestClient, stack: Settings, ready: uuid.UUID
) -> None:
    watcher = Device()
    await _put(app, watcher.headers(stack), ready, 42, "pause")
    query = {"profile_id": str(watcher.profile_id)}
    nosy = await app.get("/v1/progress", params=query, headers=Device().headers(stack))
    assert nosy.status == 403
    admin = Device(role=Role.ADMIN)
    read = await app.get("/v1/progress", params=query, headers=admin.headers(stack))
    assert read.status == 200
    assert [i["position_s"] for i in (await read.json())["items"]] == [42]
    event = next(
        e for e in await _audit(stack, "support_read") if e.profile_id == watcher.profile_id
    )
    assert event.actor == f"account:{admin.account_id}"
    assert event.detail["resource"] == "watch_progress"


async def test_claiming_an_anonymous_viewer_moves_its_progress_and_events(
    app: TestClient, stack: Settings, ready: uuid.UUID
) -> None:
    anonymous = {"X-Viewer-Id": (await (await app.post("/v1/viewers")).json())["viewer_id"]}
    viewer_id = anonymous["X-Viewer-Id"]
    other_asset = await catalog_row(stack)
    await _put(app, anonymous, ready, 30, "pause")
    await _put(app, anonymous, ready, 40, "periodic")  # only in Redis yet
    await _put(app, anonymous, other_asset, 5, "pause")
    # Events the viewer sent before the analytics service collected them (POST /v1/events
    # is the analytics service's now): the claim still moves them.
    conn = await connect(stack, schema=Schema.STREAMING)
    try:
        await conn.execute(
            "INSERT INTO playback_events (viewer_id, session_id, asset_id, type, position_s, at)"
            " VALUES ($1, 'anon', $2, 'start', 0, now())",
            uuid.UUID(viewer_id), ready,
        )  # fmt: skip
    finally:
        await conn.close()

    person = Device()
    # The profile had watched the other asset further already: its own position stays.
    await _put(app, person.headers(stack), other_asset, 50, "pause")
    claim = await app.post(f"/v1/viewers/{viewer_id}/claim", headers=person.headers(stack))
    assert claim.status == 200, await claim.text()
    assert await claim.json() == {
        "viewer_id": viewer_id, "profile_id": str(person.profile_id), "progress": 2, "events": 1,
    }  # fmt: skip
    assert await _position(app, person.headers(stack), ready) == 40
    assert await _position(app, person.headers(stack), other_asset) == 50
    assert await _position(app, anonymous, ready) is None

    again = await app.post(f"/v1/viewers/{viewer_id}/claim", headers=person.headers(stack))
    assert again.status == 200 and (await again.json())["progress"] == 0
    someone = await app.post(f"/v1/viewers/{viewer_id}/claim", headers=Device().headers(stack))
    assert someone.status == 409 and (await someone.json())["error"]["code"] == "already_claimed"
    unsigned = await app.post(f"/v1/viewers/{viewer_id}/claim", headers=anonymous)
    assert unsigned.status == 401

    conn = await connect(stack, schema=Schema.STREAMING)
    try:
        events = await conn.fetch(
            "SELECT profile_id, account_id FROM playback_events WHERE viewer_id = $1",
            uuid.UUID(viewer_id),
        )
    finally:
        await conn.close()
    assert [(e["profile_id"], e["account_id"]) for e in events] == [
        (person.profile_id, person.account_id)
    ]


async def _playback_status(
    app: TestClient, stack: Settings, device: Device, asset: uuid.UUID
) -> tuple[int, str | None]:
    response = await app.post(
        "/v1/sessions", json={"asset_id": str(asset)}, headers=device.headers(stack)
    )
    body = await response.json()
    if response.status == 201:
        await app.delete(f"/v1/sessions/{body['session_id']}", headers=device.headers(stack))
    return response.status, body.get("error", {}).get("code")


async def test_an_asset_without_a_certification_counts_as_adult(
    app: TestClient, stack: Settings, ready: uuid.UUID
) -> None:
    kid = Device(maturity="kids")
    assert await _playback_status(app, stack, kid, ready) == (403, "restricted")
    teen = Device(maturity="teen")
    assert await _playback_status(app, stack, teen, ready) == (403, "restricted")
    assert await _playback_status(app, stack, Device(maturity="adult"), ready) == (201, None)
    # Playback URLs are refused for the same reason, before any slot is asked about.
    refused = await app.get(f"/v1/playback/{ready}", headers=kid.headers(stack))
    assert refused.status == 403 and (await refused.json())["error"]["code"] == "restricted"


@pytest.fixture
def catalog(stack: Settings) -> Iterator[httpx.Client]:
    with admin_client(stack) as client:
        yield client


def _titled(catalog: httpx.Client, asset: uuid.UUID, certification: str) -> None:
    """A title of `certification`, created through the catalog's API, with the asset as its
    main video."""
    created = catalog.post(
        "/v1/titles", json={"title": f"Rated {certification}", "certification": certification}
    )
    assert created.status_code == 201, created.text
    attached = catalog.put(
        f"/v1/titles/{created.json()['id']}/assets/{asset}", json={"role": "main"}
    )
    assert attached.status_code == 200, attached.text


async def test_a_kids_profile_may_not_play_an_r_rated_title_but_may_a_g_one(
    app: TestClient, stack: Settings, catalog: httpx.Client
) -> None:
    grown_up, family = await catalog_row(stack), await catalog_row(stack)
    _titled(catalog, grown_up, "R")
    _titled(catalog, family, "G")
    kid, parent = Device(maturity="kids"), Device(maturity="adult")
    assert await _playback_status(app, stack, kid, grown_up) == (403, "restricted")
    assert await _playback_status(app, stack, parent, grown_up) == (201, None)
    assert await _playback_status(app, stack, kid, family) == (201, None)
