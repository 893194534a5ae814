"""The collector's body forms and who may call what: a beacon's form with its access token, an
anonymous text/plain beacon, bad bodies (400, with stable codes), Redis down (503), and the
read API closed to viewers (403) and open to admins."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer

from analytics.app import create_app
from streamcore.auth.roles import Role
from streamcore.settings import Settings
from tests.integration.analytics.events import batch, event, live_session, stored, wait_for_events
from tests.integration.ratelimit.limits import with_redis
from tests.processes import free_port
from tests.streaming_http import Device

pytestmark = pytest.mark.stack


def _token(stack: Settings, device: Device) -> str:
    return device.headers(stack)["Authorization"].removeprefix("Bearer ")


async def test_a_beacon_form_with_its_token_is_the_profiles(
    analytics: TestClient, stack: Settings
) -> None:
    person = Device()
    body = batch(f"beacon-{uuid.uuid4().hex[:8]}", uuid.uuid4(), [
        event("start", datetime.now(UTC))])  # fmt: skip
    del body["viewer_id"]
    form = {"batch": json.dumps(body), "access_token": _token(stack, person)}
    response = await analytics.post("/v1/events", data=form)
    assert response.status == 202, await response.text()
    await wait_for_events(stack, [body["session_id"]], 1)
    row = (await stored(stack, "SELECT * FROM events WHERE session_id = $1", body["session_id"]))[0]
    assert (row["profile_id"], row["account_id"], row["viewer_id"]) == (
        person.profile_id, person.account_id, None)  # fmt: skip

    bad = await analytics.post("/v1/events", data={**form, "access_token": "a.b.c"})
    assert bad.status == 401
    twice = await analytics.post("/v1/events", data=form, headers=person.headers(stack))
    assert twice.status == 400 and (await twice.json())["error"]["code"] == "invalid_request"
    missing = await analytics.post("/v1/events", data={"access_token": form["access_token"]})
    assert missing.status == 400


async def test_an_anonymous_text_beacon_needs_its_viewer_id(
    analytics: TestClient, stack: Settings
) -> None:
    body = batch(f"text-{uuid.uuid4().hex[:8]}", uuid.uuid4(), [event("start", datetime.now(UTC))])
    headers = {"Content-Type": "text/plain;charset=UTF-8"}
    ok = await analytics.post("/v1/events", data=json.dumps(body), headers=headers)
    assert ok.status == 202 and await ok.json() == {"accepted": 1}
    del body["viewer_id"]
    refused = await analytics.post("/v1/events", data=json.dumps(body), headers=headers)
    assert refused.status == 400
    assert (await refused.json())["error"]["details"][0]["field"] == "viewer_id"


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[]", "application/json", 400),
        (b"\x00\xff", "text/plain", 400),
        (b"<events/>", "application/xml", 415),
        (b"batch=%7B", "application/x-www-form-urlencoded", 400),
    ],
)
async def test_bad_bodies_are_4xx_never_500(
    analytics: TestClient, data: bytes, content_type: str, status: int
) -> None:
    response = await analytics.post("/v1/events", data=data, headers={"Content-Type": content_type})
    assert response.status == status
    assert (await response.json())["error"]["code"] in {"invalid_request", "unsupported_media_type"}


async def test_redis_down_is_503_with_retry_after(stack: Settings) -> None:
    down = with_redis(stack, f"redis://127.0.0.1:{free_port()}/0")
    async with TestClient(TestServer(create_app(down))) as client:
        body = batch("down", uuid.uuid4(), [event("start", datetime.now(UTC))])
        response = await client.post("/v1/events", json=body)
        assert response.status == 503 and response.headers["Retry-After"]
        assert (await response.json())["error"]["code"] == "unavailable"


async def test_the_read_api_is_for_admins(analytics: TestClient, stack: Settings) -> None:
    session = f"live-{uuid.uuid4().hex[:8]}"
    assert (
        await analytics.post("/v1/events", json=live_session(session, uuid.uuid4()))
    ).status == 202
    await wait_for_events(stack, [session], 3)
    viewer, admin = Device().headers(stack), Device(role=Role.ADMIN).headers(stack)
    for path in ("/v1/analytics/qoe", "/v1/analytics/top", "/v1/analytics/concurrent",
                 f"/v1/analytics/sessions/{session}"):  # fmt: skip
        assert (await analytics.get(path, headers=viewer)).status == 403
        assert (await analytics.get(path)).status == 401
        assert (await analytics.get(path, headers=admin)).status == 200
    found = await (await analytics.get(f"/v1/analytics/sessions/{session}", headers=admin)).json()
    assert (found["startup_ms"], found["played_ms"], found["ended_at"]) == (1000, 10_000, None)
    live = await (await analytics.get("/v1/analytics/concurrent", headers=admin)).json()
    assert live["now"] >= 1
    unknown = await analytics.get("/v1/analytics/sessions/nope", headers=admin)
    assert unknown.status == 404
