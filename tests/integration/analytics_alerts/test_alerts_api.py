"""The alerts' and platform metrics' HTTP API, on the analytics service built here by its
factory against the stack: admins read and evaluate, viewers are refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from analytics.alerts.rules import minute_of
from analytics.app import create_app
from streamcore.auth.roles import Role
from streamcore.settings import AlertRule, Settings
from tests.integration.analytics_alerts.alerts import Receiver, put_minute, with_rules
from tests.streaming_http import Device

pytestmark = pytest.mark.stack

BUSY = AlertRule(name="busy_now", metric="concurrent_viewers", threshold=10, summary="Busy")
ADMIN = Device(role=Role.ADMIN)
VIEWER = Device()


@pytest.fixture
async def api(stack: Settings, pool: asyncpg.Pool, receiver: Receiver) -> AsyncIterator[TestClient]:
    app = create_app(with_rules(stack, BUSY, webhook=receiver.url))
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_admins_evaluate_and_list_alerts(
    api: TestClient, stack: Settings, pool: asyncpg.Pool, receiver: Receiver
) -> None:
    last = minute_of(datetime.now(UTC)) - timedelta(minutes=1)
    await put_minute(pool, last, concurrent=25)
    answer = await api.post("/v1/analytics/alerts/evaluate", headers=ADMIN.headers(stack))
    assert answer.status == 200, await answer.text()
    body = await answer.json()
    assert [(t["rule"], t["status"]) for t in body["transitions"]] == [("busy_now", "firing")]
    assert body["delivered"] == 1 and [m["rule"] for m in receiver.received] == ["busy_now"]

    listed = await api.get(
        "/v1/analytics/alerts", params={"state": "firing"}, headers=ADMIN.headers(stack)
    )
    assert listed.status == 200
    (item,) = (await listed.json())["items"]
    assert set(item) == {"id", "rule", "state", "severity", "summary", "metric", "value",
                         "threshold", "service", "fired_at", "resolved_at"}  # fmt: skip
    assert (item["rule"], item["state"], item["value"], item["threshold"]) == (
        "busy_now", "firing", 25.0, 10.0,
    )  # fmt: skip
    resolved = await api.get(
        "/v1/analytics/alerts?state=resolved&since=1h", headers=ADMIN.headers(stack)
    )
    assert (await resolved.json())["items"] == []


async def test_viewers_are_refused_and_bad_ranges_are_400(api: TestClient, stack: Settings) -> None:
    for method, path in (
        ("GET", "/v1/analytics/alerts"),
        ("POST", "/v1/analytics/alerts/evaluate"),
        ("GET", "/v1/analytics/platform"),
    ):
        answer = await api.request(method, path, headers=VIEWER.headers(stack))
        assert answer.status == 403, (path, await answer.text())
    bad = await api.get("/v1/analytics/alerts?since=yesterday", headers=ADMIN.headers(stack))
    assert bad.status == 400
    assert (await bad.json())["error"]["code"] == "invalid_request"
    state = await api.get("/v1/analytics/alerts?state=open", headers=ADMIN.headers(stack))
    assert state.status == 400


async def test_the_metrics_export_the_last_closed_minute(
    api: TestClient, pool: asyncpg.Pool
) -> None:
    last = minute_of(datetime.now(UTC)) - timedelta(minutes=1)
    await put_minute(pool, last, concurrent=42, played_ms=9000, rebuffer_ms=1000, views=4,
                     startup_failures=1)  # fmt: skip
    text = await (await api.get("/metrics")).text()
    assert "analytics_concurrent_viewers 42.0" in text
    assert "analytics_rebuffer_percentage 10.0" in text
    assert "analytics_start_failure_percentage 25.0" in text
