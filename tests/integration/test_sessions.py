"""The Session Manager: watch sessions started, kept alive, listed, ended and timed out, in the
streaming service built in this process against the real stack (its catalog included)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from streamcore.db.database import connect
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from streaming.app import create_app
from tests.integration.published import catalog_row
from tests.streaming_http import streaming_settings

pytestmark = pytest.mark.stack


@pytest.fixture
async def ready(stack: Settings) -> uuid.UUID:
    return await catalog_row(stack)


def _viewer() -> dict[str, str]:
    return {"X-Viewer-Id": str(uuid.uuid4())}


async def _start(streaming: TestClient, viewer: dict[str, str], asset: uuid.UUID) -> dict:
    response = await streaming.post("/v1/sessions", json={"asset_id": str(asset)}, headers=viewer)
    assert response.status == 201, await response.text()
    body = await response.json()
    assert response.headers["Location"] == f"/v1/sessions/{body['session_id']}"
    return body


async def test_a_session_starts_with_its_playback_lives_on_heartbeats_and_ends(
    streaming: TestClient, stack: Settings, ready: uuid.UUID
) -> None:
    viewer = _viewer()
    started = await _start(streaming, viewer, ready)
    assert set(started) == {"session_id", "asset_id", "started_at", "heartbeat_s", "playback"}
    assert started["heartbeat_s"] == stack.streaming.heartbeat_s
    # The same body as GET /v1/playback/{asset_id}, signed for this asset's version.
    playback = await (await streaming.get(f"/v1/playback/{ready}")).json()
    assert started["playback"]["asset_id"] == str(ready) and started["playback"]["version"] == 1
    assert [s["name"] for s in started["playback"]["sources"]] == [
        s["name"] for s in playback["sources"]
    ]
    session = started["session_id"]

    listed = await (await streaming.get("/v1/sessions", headers=viewer)).json()
    assert [s["session_id"] for s in listed["items"]] == [session]
    assert listed["items"][0]["position_s"] is None

    beat = await streaming.post(
        f"/v1/sessions/{session}/heartbeat", json={"position_s": 12.5}, headers=viewer
    )
    assert beat.status == 200
    alive = await beat.json()
    assert alive["position_s"] == 12.5 and alive["expires_at"] > alive["heartbeat_at"]

    assert (await streaming.delete(f"/v1/sessions/{session}", headers=viewer)).status == 204
    assert (await (await streaming.get("/v1/sessions", headers=viewer)).json())["items"] == []
    late = await streaming.post(
        f"/v1/sessions/{session}/heartbeat", json={"position_s": 13}, headers=viewer
    )
    assert late.status == 409 and (await late.json())["error"]["code"] == "session_ended"
    # Ending it again is done as well (a retried DELETE).
    assert (await streaming.delete(f"/v1/sessions/{session}", headers=viewer)).status == 204

    conn = await connect(stack, schema=Schema.STREAMING)
    try:
        row = await conn.fetchrow("SELECT * FROM watch_sessions WHERE id = $1", uuid.UUID(session))
    finally:
        await conn.close()
    assert row is not None and row["ended_at"] is not None and row["position_s"] == 12.5


async def test_a_viewer_sees_only_its_own_sessions(streaming: TestClient, ready: uuid.UUID) -> None:
    mine, theirs = _viewer(), _viewer()
    first = (await _start(streaming, mine, ready))["session_id"]
    second = (await _start(streaming, mine, ready))["session_id"]
    await _start(streaming, theirs, ready)
    listed = await (await streaming.get("/v1/sessions", headers=mine)).json()
    assert [s["session_id"] for s in listed["items"]] == [second, first]  # newest first
    # Another viewer's session is not found, as an unknown one is not.
    for session in (first, str(uuid.uuid4())):
        beat = await streaming.post(
            f"/v1/sessions/{session}/heartbeat", json={"position_s": 1}, headers=theirs
        )
        assert beat.status == 404
        assert (await streaming.delete(f"/v1/sessions/{session}", headers=theirs)).status == 404


@pytest.fixture
async def quick(stack: Settings) -> AsyncIterator[TestClient]:
    """The streaming service with sessions that time out after two seconds without a beat."""
    app = create_app(streaming_settings(stack, session_timeout_s=2.0))
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_a_session_without_heartbeats_counts_as_ended(
    quick: TestClient, stack: Settings, ready: uuid.UUID
) -> None:
    viewer = _viewer()
    silent = (await _start(quick, viewer, ready))["session_id"]
    beating = (await _start(quick, viewer, ready))["session_id"]
    for _ in range(5):
        await asyncio.sleep(0.5)
        beat = await quick.post(
            f"/v1/sessions/{beating}/heartbeat", json={"position_s": 1}, headers=viewer
        )
        assert beat.status == 200
    listed = await (await quick.get("/v1/sessions", headers=viewer)).json()
    assert [s["session_id"] for s in listed["items"]] == [beating]
    revived = await quick.post(
        f"/v1/sessions/{silent}/heartbeat", json={"position_s": 1}, headers=viewer
    )
    assert revived.status == 409, "a heartbeat must not revive a session that timed out"
    # Ended now, it is recorded as ended when it went silent.
    assert (await quick.delete(f"/v1/sessions/{silent}", headers=viewer)).status == 204
    conn = await connect(stack, schema=Schema.STREAMING)
    try:
        row = await conn.fetchrow(
            "SELECT ended_at - heartbeat_at AS silent_for FROM watch_sessions WHERE id = $1",
            uuid.UUID(silent),
        )
    finally:
        await conn.close()
    assert row is not None and row["silent_for"].total_seconds() == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ({"asset_id": "later"}, "viewer", 404, "not_found"),  # filled in below
        ({"asset_id": "unpublished"}, "viewer", 409, "not_ready"),
        ({"asset_id": "ready"}, {}, 400, "invalid_request"),
        ({"asset_id": "ready", "extra": 1}, "viewer", 400, "invalid_request"),
        ({}, "viewer", 400, "invalid_request"),
    ],
)
async def test_a_session_starts_only_for_a_viewer_and_a_playable_asset(
    streaming: TestClient,
    stack: Settings,
    ready: uuid.UUID,
    body: dict,
    headers: dict | str,
    status: int,
    code: str,
) -> None:
    ids = {"later": uuid.uuid4(), "ready": ready}
    if body.get("asset_id") == "unpublished":
        ids["unpublished"] = await catalog_row(stack, published=False)
    if "asset_id" in body:
        body = {**body, "asset_id": str(ids[body["asset_id"]])}
    sent = _viewer() if headers == "viewer" else headers
    assert isinstance(sent, dict)
    response = await streaming.post("/v1/sessions", json=body, headers=sent)
    assert response.status == status
    assert (await response.json())["error"]["code"] == code
