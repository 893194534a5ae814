"""Titles' access levels (issue 13), against the real stack's database and cache: `access`
in the API and its OpenAPI models, in imports (kept when a row has none) and in the CLI, and
an asset's access (premium when any of its titles is, which the streaming service reads)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestClient

from catalog_api.openapi.schemas import AssetOut
from catalog_api.titles.responses import TitleDetail, TitlePage
from streamcore.settings import Settings
from tests.integration.published import catalog_row
from tests.integration.test_catalog_auth import client, create, json_of

pytestmark = pytest.mark.stack
Headers = dict[str, str]
__all__ = ["client"]  # the catalog app fixture, from its factory


async def test_access_round_trip_and_validation(client: TestClient, auth: Headers) -> None:
    title = await create(client, auth, title="Free by default")
    assert title["access"] == "free"
    path = f"/v1/titles/{title['id']}"
    patched = await json_of(await client.patch(path, json={"access": "premium"}, headers=auth))
    assert TitleDetail.model_validate(patched).access == "premium"
    # The cached document follows the write.
    assert (await json_of(await client.get(path, headers=auth)))["access"] == "premium"
    for method, where, body in (
        ("POST", "/v1/titles", {"title": "x", "access": "gold"}),
        ("PATCH", path, {"access": None}),  # not nullable: free or premium
        ("PATCH", path, {"access": "Premium!"}),
    ):
        error = await json_of(await client.request(method, where, json=body, headers=auth), 400)
        assert error["error"]["code"] == "invalid_request"
        assert error["error"]["details"][0]["field"] == "access", error


async def test_an_episode_of_a_premium_series_is_premium(client: TestClient, auth: Headers) -> None:
    tag = f"A{uuid.uuid4().hex[:10]}"
    series = await create(client, auth, title="Premium series", kind="series", genres=[tag],
                          access="premium")  # fmt: skip
    episode = await create(client, auth, title="E1", kind="episode", series_id=series["id"],
                           season_number=1, episode_number=1, genres=[tag])  # fmt: skip
    assert episode["access"] == "premium"
    page = await json_of(await client.get("/v1/titles", params={"genre": tag}, headers=auth))
    assert {t["access"] for t in TitlePage.model_validate(page).model_dump()["items"]} == {
        "premium"
    }


async def test_an_import_sets_access_and_keeps_it_when_a_row_has_none(
    client: TestClient, auth: Headers
) -> None:
    tmdb_id = uuid.uuid4().int % 2**30 + 1

    async def post(row: dict[str, Any]) -> dict[str, Any]:
        body = {"titles": [{"title": "Imported", "tmdb_id": tmdb_id, **row}]}
        return dict(await json_of(await client.post("/v1/titles/batch", json=body, headers=auth)))

    title_id = (await post({"access": "premium"}))["results"][0]["id"]
    assert (await post({}))["unchanged"] == 1  # no access column: kept
    document = await json_of(await client.get(f"/v1/titles/{title_id}", headers=auth))
    assert document["access"] == "premium"
    assert (await post({"access": "free"}))["updated"] == 1
    document = await json_of(await client.get(f"/v1/titles/{title_id}", headers=auth))
    assert document["access"] == "free"


async def test_an_asset_is_premium_when_any_of_its_titles_is(
    client: TestClient, stack: Settings, auth: Headers
) -> None:
    asset_id = await catalog_row(stack)
    path = f"/v1/assets/{asset_id}"

    async def access() -> str:
        body = await json_of(await client.get(path, headers=auth))
        return str(AssetOut.model_validate(body).access)

    assert await access() == "free"  # in no title
    free = await create(client, auth, title="Free film")
    await json_of(await client.put(f"/v1/titles/{free['id']}/assets/{asset_id}", json={},
                                   headers=auth))  # fmt: skip
    assert await access() == "free"
    series = await create(client, auth, title="Premium show", kind="series", access="premium")
    episode = await create(client, auth, title="E1", kind="episode", series_id=series["id"],
                           season_number=1, episode_number=1)  # fmt: skip
    await json_of(await client.put(f"/v1/titles/{episode['id']}/assets/{asset_id}",
                                   json={"role": "extra"}, headers=auth))  # fmt: skip
    assert await access() == "premium"


def test_the_cli_imports_and_sets_access(stack: Settings, tmp_path: Path) -> None:
    """`streamcore titles import` with an access column and `streamcore titles set-access`,
    through the gateway to the stack's own catalog."""
    first = uuid.uuid4().int % 2**30 + 1
    catalog = tmp_path / "access.csv"
    catalog.write_text(
        f"tmdb_id,title,access\n{first},Imported premium,premium\n{first + 1},Imported free,\n"
        f"{first + 2},Imported bad,gold\n",
        encoding="utf-8",
    )
    cli = [sys.executable, "-m", "cli", "titles"]
    result = subprocess.run([*cli, "import", str(catalog), "--skip-invalid", "--json"],
                            capture_output=True,
                            text=True, check=False, timeout=120)  # fmt: skip
    summary = json.loads(result.stdout)
    assert result.returncode == 1 and (summary["created"], summary["failed"]) == (2, 1), summary
    assert summary["errors"][0]["row"] == 3 and "access" in summary["errors"][0]["message"]
    key = {"Authorization": f"Bearer {stack.auth.service_key().get_secret_value()}"}

    def title_of(tmdb_id: int) -> dict[str, Any]:
        page = httpx.get(f"{stack.api_url}/v1/titles", params={"tmdb_id": tmdb_id},
                         headers=key, timeout=10).json()  # fmt: skip
        return dict(page["items"][0])

    assert [title_of(t)["access"] for t in (first, first + 1)] == ["premium", "free"]
    free_id = title_of(first + 1)["id"]
    result = subprocess.run([*cli, "set-access", free_id, "premium", "--json"],
                            capture_output=True, text=True, check=False, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["access"] == "premium"
    result = subprocess.run([*cli, "set-access", free_id, "gold"], capture_output=True,
                            text=True, check=False, timeout=60)  # fmt: skip
    assert result.returncode == 2 and "free or premium" in result.stderr
