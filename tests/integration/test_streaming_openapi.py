"""The streaming service's OpenAPI document: served, complete, and true to the service.

The fuzz run (tests/openapi_fuzz.py) sends generated requests, valid and invalid, to the
streaming service served from this process against the stack (its catalog included).
"""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest
import schemathesis
from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate
from schemathesis.generation import GenerationMode

from streamcore.settings import Settings
from streaming.openapi import PATH, document
from tests.integration.published import catalog_row
from tests.openapi_fuzz import fuzz
from tests.openapi_routes import served_routes

pytestmark = pytest.mark.stack

UNDOCUMENTED = re.compile(r"^/openapi/")


async def test_the_served_document_is_valid_openapi(streaming: TestClient) -> None:
    response = await streaming.get(PATH)
    assert response.status == 200 and response.content_type == "application/json"
    spec = await response.json()
    validate(spec)
    assert spec == document()


async def test_every_route_is_documented_and_nothing_else(streaming: TestClient) -> None:
    documented = {
        (method.upper(), path)
        for path, operations in document()["paths"].items()
        for method in operations
    }
    assert served_routes(streaming.app, UNDOCUMENTED) == documented


async def test_players_on_other_origins_may_call_it(streaming: TestClient) -> None:
    origin = {"Origin": "https://player.example"}
    preflight = await streaming.options(
        "/v1/sessions", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "X-Viewer-Id" in preflight.headers["Access-Control-Allow-Headers"]
    created = await streaming.post("/v1/viewers", headers=origin)
    assert created.headers["Access-Control-Allow-Origin"] in ("*", origin["Origin"])


def _session(streaming_url: str, viewer: str, asset: str) -> str:
    response = httpx.post(
        f"{streaming_url}/v1/sessions", json={"asset_id": asset},
        headers={"X-Viewer-Id": viewer}, timeout=10,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return str(response.json()["session_id"])


def test_fuzzing_the_streaming_service_finds_no_server_error(
    stack: Settings, streaming_url: str
) -> None:
    schema = schemathesis.openapi.from_dict(document())
    asset = str(asyncio.run(catalog_row(stack)))
    viewer = str(uuid.uuid4())
    # Every request as that viewer (its sessions are found), unless the case sets its own; to
    # the instance itself, whose /healthz, /readyz and /metrics the gateway does not route.
    call = {"base_url": stack.streaming.url, "headers": {"X-Viewer-Id": viewer}}
    statuses: dict[int, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        known_ids = {"asset_id": [asset], "session_id": [_session(streaming_url, viewer, asset)]}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode, known_ids, call, statuses)
    assert sum(statuses.values()) >= 150, statuses
    assert sum(n for s, n in statuses.items() if s < 300) >= 40, statuses
