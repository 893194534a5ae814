"""Invalid input gets one 400 body from every endpoint, whatever the parameter's place.

{"error": {"code": "invalid_request", "message": "<field>: ...",
           "details": [{"field": "<field>", "message": "..."}, ...]}}
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from catalog_api.openapi.schemas import ErrorBody

pytestmark = pytest.mark.stack

SOMEONE = str(uuid.uuid4())
ASSET = str(uuid.uuid4())
VIEWER = {"X-Viewer-Id": SOMEONE}
EVENTS = {"viewer_id": SOMEONE, "session_id": "s", "asset_id": ASSET,
          "events": [{"type": "start", "at": 0}]}  # fmt: skip

# (method, path, query, JSON body, headers (None: the admin key's), the field at fault)
CASES: list[tuple[str, str, dict[str, Any], Any, dict[str, str] | None, str]] = [
    ("GET", "/v1/assets", {"limit": "0"}, None, {}, "limit"),
    ("GET", "/v1/assets", {"limit": "many"}, None, {}, "limit"),
    ("GET", "/v1/assets", {"status": "uploading"}, None, {}, "status"),
    ("GET", "/v1/assets", {"colour": "red"}, None, {}, "colour"),
    ("GET", f"/v1/assets/{ASSET}/playback", {"ttl": "5"}, None, {}, "ttl"),
    ("GET", "/v1/titles", {"limit": "0"}, None, {}, "limit"),
    ("GET", "/v1/titles", {"year": ["1999", "2000"]}, None, {}, "year"),
    ("POST", "/v1/titles", {}, {"title": "x", "year": 1700}, None, "year"),
    ("PUT", f"/v1/assets/{ASSET}/progress", {}, {"position_s": -1, "session_id": "s"}, VIEWER,
     "position_s"),
    ("GET", f"/v1/assets/{ASSET}/progress", {}, None, {}, "X-Viewer-Id"),
    ("POST", "/v1/events", {}, {**EVENTS, "viewer_id": "me"}, {}, "viewer_id"),
    ("POST", "/v1/events", {}, {**EVENTS, "events": [{"type": "dance", "at": 0}]}, {},
     "events.0.type"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "query", "body", "headers", "field"), CASES)
async def test_every_endpoint_answers_invalid_input_with_the_same_body(
    client: TestClient,
    auth: dict[str, str],
    method: str,
    path: str,
    query: dict[str, Any],
    body: Any,
    headers: dict[str, str] | None,
    field: str,
) -> None:
    params = [
        (k, v)
        for k, values in query.items()
        for v in ([values] if isinstance(values, str) else values)
    ]
    response = await client.request(
        method, path, params=params, json=body, headers=auth if headers is None else headers
    )
    assert response.status == 400
    payload = await response.json()
    ErrorBody.model_validate(payload)  # what the OpenAPI document says a 400 is
    error = payload["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == "invalid_request"
    assert error["message"].startswith(f"{field}: "), error["message"]
    assert error["details"][0]["field"] == field and error["details"][0]["message"]
    assert all(set(detail) == {"field", "message"} for detail in error["details"])
