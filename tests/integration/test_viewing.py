"""Viewer ids, watch progress (Redis, then PostgreSQL) and playback events: the streaming service
built in this process against the real stack (its catalog included)."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from streamcore.assets import repository
from streamcore.db.database import connect, pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings

pytestmark = pytest.mark.stack


@pytest.fixture
async def asset_id(stack: Settings) -> uuid.UUID:
    async with pool_context(stack, schema=Schema.CATALOG) as pool:
        row = await repository.create(
            pool, asset_id=uuid.uuid4(), title="watched", source_key="k",
            source_filename="w.mp4", source_size=1, content_type="video/mp4",
        )  # fmt: skip
    return row.id


async def _viewer(client: TestClient) -> dict[str, str]:
    response = await client.post("/v1/viewers")
    assert response.status == 201
    return {"X-Viewer-Id": (await response.json())["viewer_id"]}


async def _stored_position(stack: Settings, viewer: str, asset: uuid.UUID) -> float | None:
    conn = await connect(stack, schema=Schema.STREAMING)
    try:
        return await conn.fetchval(
            "SELECT position_s FROM watch_progress WHERE viewer_id = $1 AND asset_id = $2",
            uuid.UUID(viewer), asset,
        )  # fmt: skip
    finally:
        await conn.close()


async def test_progress_is_read_back_and_persisted_when_the_session_pauses(
    streaming: TestClient, stack: Settings, asset_id: uuid.UUID
) -> None:
    viewer = await _viewer(streaming)
    path = f"/v1/progress/{asset_id}"
    assert (await streaming.get(path, headers=viewer)).status == 404
    body = {"position_s": 12.5, "duration_s": 30.0, "session_id": "s1", "reason": "periodic"}
    assert (await streaming.put(path, json=body, headers=viewer)).status == 204
    got = await (await streaming.get(path, headers=viewer)).json()
    assert got["position_s"] == 12.5 and got["duration_s"] == 30.0

    await streaming.put(path, json={**body, "position_s": 20.0, "reason": "pause"}, headers=viewer)
    assert await _stored_position(stack, viewer["X-Viewer-Id"], asset_id) == 20.0


async def test_the_same_viewer_on_two_devices_gets_the_latest_position(
    streaming: TestClient, asset_id: uuid.UUID
) -> None:
    viewer = await _viewer(streaming)
    path = f"/v1/progress/{asset_id}"
    await streaming.put(path, json={"position_s": 5, "session_id": "phone"}, headers=viewer)
    await streaming.put(path, json={"position_s": 42, "session_id": "tv"}, headers=viewer)
    got = await (await streaming.get(path, headers=viewer)).json()
    assert got["position_s"] == 42


async def test_progress_survives_losing_redis_because_postgres_has_it(
    streaming: TestClient, stack: Settings, asset_id: uuid.UUID
) -> None:
    viewer = await _viewer(streaming)
    path = f"/v1/progress/{asset_id}"
    await streaming.put(
        path, json={"position_s": 33, "session_id": "s", "reason": "hidden"}, headers=viewer
    )
    redis = aioredis.from_url(stack.redis_dsn)
    await redis.delete(f"progress:{viewer['X-Viewer-Id']}:{asset_id}")
    await redis.aclose()
    got = await (await streaming.get(path, headers=viewer)).json()
    assert got["position_s"] == 33


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, {"position_s": 1, "session_id": "s"}, 400),
        ({"X-Viewer-Id": "not-an-id"}, {"position_s": 1, "session_id": "s"}, 400),
        (None, {"position_s": -1, "session_id": "s"}, 400),
        (None, {"position_s": 1, "session_id": "s", "reason": "bored"}, 400),
        (None, {"position_s": 1, "session_id": "s", "extra": True}, 400),
    ],
)
async def test_bad_progress_reports_are_a_json_400(
    streaming: TestClient,
    asset_id: uuid.UUID,
    headers: dict[str, str] | None,
    body: dict,
    status: int,
) -> None:
    headers = headers if headers is not None else await _viewer(streaming)
    response = await streaming.put(f"/v1/progress/{asset_id}", json=body, headers=headers)
    assert response.status == status
    assert (await response.json())["error"]["code"] == "invalid_request"


async def test_progress_for_an_unknown_asset_is_a_404(streaming: TestClient) -> None:
    viewer = await _viewer(streaming)
    response = await streaming.put(
        f"/v1/progress/{uuid.uuid4()}", json={"position_s": 1, "session_id": "s"},
        headers=viewer,
    )  # fmt: skip
    assert response.status == 404


async def test_the_player_page_is_served_and_nothing_else_from_its_folder(
    client: TestClient,
) -> None:
    for path in ("/player/package.json", "/player/..%2Fsetup.cfg", "/player/vendor/other.js"):
        assert (await client.get(path)).status == 404
    redirect = await client.get("/player?asset=x", allow_redirects=False)
    assert redirect.status == 301 and redirect.headers["Location"] == "/player/?asset=x"
