"""Invalid input gets one 400 body from every endpoint of every service (the catalog, the
streaming and the analytics services, each built in this process), whatever the parameter's
place.

{"error": {"code": "invalid_request", "message": "<field>: ...",
           "details": [{"field": "<field>", "message": "..."}, ...]}}
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from streamcore.web.openapi import ErrorBody

pytestmark = pytest.mark.stack

SOMEONE = str(uuid.uuid4())
ASSET = str(uuid.uuid4())
VIEWER = {"X-Viewer-Id": SOMEONE}
EVENTS = {"viewer_id": SOMEONE, "session_id": "s", "asset_id": ASSET,
          "events": [{"type": "start", "at": 0}]}  # fmt: skip

# (method, path, query, JSON body, headers (None: the admin key's), the field at fault)
Case = tuple[str, str, dict[str, Any], Any, dict[str, str] | None, str]
CATALOG: list[Case] = [
    ("GET", "/v1/assets", {"limit": "0"}, None, None, "limit"),
    ("GET", "/v1/assets", {"limit": "many"}, None, None, "limit"),
    ("GET", "/v1/assets", {"status": "uploading"}, None, None, "status"),
    ("GET", "/v1/assets", {"colour": "red"}, None, None, "colour"),
    ("GET", "/v1/titles", {"limit": "0"}, None, {}, "limit"),
    ("GET", "/v1/titles", {"year": ["1999", "2000"]}, None, {}, "year"),
    ("POST", "/v1/titles", {}, {"title": "x", "year": 1700}, None, "year"),
]  # fmt: skip
STREAMING: list[Case] = [
    ("GET", f"/v1/playback/{ASSET}", {"ttl": "5"}, None, {}, "ttl"),
    ("PUT", f"/v1/progress/{ASSET}", {}, {"position_s": -1, "session_id": "s"}, VIEWER,
     "position_s"),
    ("GET", f"/v1/progress/{ASSET}", {}, None, {}, "X-Viewer-Id"),
    ("POST", "/v1/sessions", {}, {"asset_id": "x"}, VIEWER, "asset_id"),
    ("GET", "/v1/sessions", {}, None, {}, "X-Viewer-Id"),
    ("POST", f"/v1/sessions/{SOMEONE}/heartbeat", {}, {"position_s": "here"}, VIEWER,
     "position_s"),
]  # fmt: skip
ANALYTICS: list[Case] = [
    ("POST", "/v1/events", {}, {**EVENTS, "viewer_id": "me"}, {}, "viewer_id"),
    ("POST", "/v1/events", {}, {**EVENTS, "events": [{"type": "dance", "at": 0}]}, {},
     "events.0.type"),
    ("POST", "/v1/events", {}, EVENTS, {}, "events.0.at"),
    ("GET", "/v1/analytics/qoe", {"since": "yesterday"}, None, None, "since"),
    ("GET", "/v1/analytics/qoe", {"dimension": "title"}, None, None, "key"),
    ("GET", "/v1/analytics/top", {"limit": "0"}, None, None, "limit"),
]  # fmt: skip
FIELDS = ("method", "path", "query", "body", "headers", "field")


@pytest.mark.parametrize(FIELDS, CATALOG)
async def test_every_catalog_endpoint_answers_invalid_input_with_the_same_body(
    client: TestClient, auth: dict[str, str], method: str, path: str, query: dict[str, Any],
    body: Any, headers: dict[str, str] | None, field: str,
) -> None:  # fmt: skip
    await _check(client, method, path, query, body, auth if headers is None else headers, field)


@pytest.mark.parametrize(FIELDS, STREAMING)
async def test_every_streaming_endpoint_answers_invalid_input_with_the_same_body(
    streaming: TestClient, method: str, path: str, query: dict[str, Any],
    body: Any, headers: dict[str, str] | None, field: str,
) -> None:  # fmt: skip
    await _check(streaming, method, path, query, body, headers or {}, field)


@pytest.mark.parametrize(FIELDS, ANALYTICS)
async def test_every_analytics_endpoint_answers_invalid_input_with_the_same_body(
    analytics: TestClient, auth: dict[str, str], method: str, path: str, query: dict[str, Any],
    body: Any, headers: dict[str, str] | None, field: str,
) -> None:  # fmt: skip
    await _check(analytics, method, path, query, body, auth if headers is None else headers, field)


async def _check(
    client: TestClient, method: str, path: str, query: dict[str, Any], body: Any,
    headers: dict[str, str], field: str,
) -> None:  # fmt: skip
    params = [
        (k, v)
        for k, values in query.items()
        for v in ([values] if isinstance(values, str) else values)
    ]
    response = await client.request(method, path, params=params, json=body, headers=headers)
    assert response.status == 400
    payload = await response.json()
    ErrorBody.model_validate(payload)  # what the OpenAPI documents say a 400 is
    error = payload["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == "invalid_request"
    assert error["message"].startswith(f"{field}: "), error["message"]
    assert error["details"][0]["field"] == field and error["details"][0]["message"]
    assert all(set(detail) == {"field", "message"} for detail in error["details"])
