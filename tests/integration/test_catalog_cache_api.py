"""The catalog's cache seen through the API: hits, and writes that end cached answers in every
API process (here: the stack's own running API, and one built in this test process)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from aiohttp.test_utils import TestClient

from streamcore.settings import Settings

pytestmark = pytest.mark.stack


async def test_a_write_in_one_process_ends_cached_answers_in_another(
    stack: Settings, client: TestClient, auth: dict[str, str]
) -> None:
    genre = f"C{uuid.uuid4().hex[:10]}"
    created = await client.post(
        "/v1/titles", json={"kind": "movie", "title": "Before", "genres": [genre]}, headers=auth
    )
    assert created.status == 201
    title_id = (await created.json())["id"]
    async with httpx.AsyncClient(base_url=stack.catalog_api.url, timeout=5) as other:
        paths = [f"/v1/titles/{title_id}", f"/v1/titles?genre={genre}"]
        for path in paths:
            await other.get(path)
        # Served from the other process's cache now.
        tiers = {(await other.get(path)).headers["X-Cache"] for path in paths}
        assert tiers <= {"LOCAL", "REDIS"}, tiers

        changed = await client.patch(
            f"/v1/titles/{title_id}", json={"title": "After"}, headers=auth
        )
        assert changed.status == 200
        # This process: at once. The other: within its LRU's lifetime (cache.local_ttl_s).
        assert (await (await client.get(paths[0])).json())["title"] == "After"
        deadline = asyncio.get_running_loop().time() + stack.cache.local_ttl_s + 1
        while True:
            one = (await other.get(paths[0])).json()
            page = (await other.get(paths[1])).json()
            if one["title"] == "After" and [t["title"] for t in page["items"]] == ["After"]:
                break
            assert asyncio.get_running_loop().time() < deadline, (one["title"], page)
            await asyncio.sleep(0.1)
