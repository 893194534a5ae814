"""The catalog's OpenAPI document: valid, complete, served with its docs page, and true to the API.

The fuzz run (tests/openapi_fuzz.py) sends generated requests, valid and invalid, to the
stack's own API process with the admin key.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import httpx
import pytest
import schemathesis
from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate
from schemathesis.generation import GenerationMode

from catalog_api.openapi import document
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from tests.openapi_fuzz import fuzz
from tests.openapi_routes import served_routes

pytestmark = pytest.mark.stack

# Uploads are left out of the fuzz run: each accepted one stores a file and queues a
# transcode of random bytes (they are tested in test_assets_api.py).
NOT_FUZZED = {("POST", "/v1/assets")}
# Not given the ready asset: deleting or reprocessing it would start work in the worker.
OWN_ASSET_IDS = {("DELETE", "/v1/assets/{asset_id}"), ("POST", "/v1/assets/{asset_id}/reprocess")}
UNDOCUMENTED = re.compile(r"^/(player|docs|openapi\.json)")


async def test_the_served_document_is_valid_openapi(client: TestClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status == 200 and response.content_type == "application/json"
    spec = await response.json()
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


async def test_every_route_is_documented_and_nothing_else(client: TestClient) -> None:
    documented = {
        (method.upper(), path)
        for path, operations in document()["paths"].items()
        for method in operations
    }
    assert served_routes(client.app, UNDOCUMENTED) == documented


async def test_titles_operations_have_full_schemas(client: TestClient) -> None:
    spec = document()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, status)
            if path.startswith("/v1/titles"):
                assert operation["responses"], (method, path)
                ok = [s for s in operation["responses"] if s.startswith("2")]
                assert all("content" in operation["responses"][s] for s in ok), (method, path)
                # Reads take a token optionally (a profile's maturity filters); writes need
                # one with manage_catalog.
                admin = method != "get"
                expected = [{"bearer": []}] if admin else [{}, {"bearer": []}]
                assert operation["security"] == expected, (method, path)
                assert "401" in operation["responses"]
                assert ("403" in operation["responses"]) == admin


async def test_the_docs_page_loads_nothing_from_elsewhere(client: TestClient) -> None:
    page = await client.get("/docs")
    assert page.status == 200 and page.content_type == "text/html"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    html = await page.text()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/docs/") for a in assets), assets
    for asset in assets:
        served = await client.get(asset)
        assert served.status == 200, asset
        assert "SwaggerUIBundle" in await served.text() or asset.endswith(".css")
    missing = await client.get("/docs/package.json")
    assert missing.status == 404 and (await missing.json())["error"]["code"] == "not_found"


def _fixtures(stack: Settings, headers: dict[str, str]) -> list[str]:
    """A movie, a series and one of its episodes: ids the fuzzer's valid requests may use."""
    api = stack.catalog_api.url

    def create(body: dict[str, Any]) -> str:
        response = httpx.post(f"{api}/v1/titles", json=body, headers=headers, timeout=10)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    movie = create({"title": "Fuzzed movie"})
    series = create({"title": "Fuzzed series", "kind": "series"})
    episode = create({"title": "Fuzzed episode", "kind": "episode", "series_id": series,
                      "season_number": 1, "episode_number": 1})  # fmt: skip
    return [movie, series, episode]


async def _ready_asset(stack: Settings) -> str:
    asset_id = uuid.uuid4()
    async with pool_context(stack, schema=Schema.CATALOG) as pool:
        await pool.execute(
            """
            INSERT INTO assets (id, title, status, source_key, source_filename, version)
            VALUES ($1, 'fuzzed', 'ready', 'uploads/x/source.mp4', 'x.mp4', 1)
            """,
            asset_id,
        )
    return str(asset_id)


def test_fuzzing_the_api_finds_no_server_error(stack: Settings) -> None:
    schema = schemathesis.openapi.from_dict(document())
    headers = {"Authorization": f"Bearer {stack.auth.service_key().get_secret_value()}"}
    call = {"base_url": stack.catalog_api.url, "headers": headers}
    asset = asyncio.run(_ready_asset(stack))
    operations = [result.ok() for result in schema.get_all_operations()]
    # Deletions last, so that the other operations still find the titles they are given.
    operations.sort(key=lambda op: op.method.upper() == "DELETE")
    statuses: dict[int, int] = {}
    for operation in operations:
        key = (operation.method.upper(), operation.path)
        if key in NOT_FUZZED:
            continue
        known_ids = {
            "title_id": _fixtures(stack, headers),
            "asset_id": [str(uuid.uuid4()) if key in OWN_ASSET_IDS else asset],
        }
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode, known_ids, call, statuses)
    # Both valid requests (2xx) and invalid ones (4xx) were sent, in numbers.
    assert sum(statuses.values()) >= 300, statuses
    assert sum(n for s, n in statuses.items() if s < 300) >= 60, statuses
