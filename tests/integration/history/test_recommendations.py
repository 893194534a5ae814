"""Recommendation rows and the batch job against the stack's real PostgreSQL and Redis: a small
catalog made through the catalog's API, viewings imported for many profiles, the batch job
run as the scheduler runs it, rows read as the profile (and through the gateway)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from aiohttp.test_utils import TestClient

from streamcore.settings import Settings
from streaming.worker import run_rebuild
from tests.integration.history.titles import Catalog, Title, admin_headers
from tests.streaming_http import Device

pytestmark = pytest.mark.stack


class World:
    """Drama fans watch three dramas together; comedy fans two comedies; a kids' film, an
    adult drama and a premium drama complete the catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.titles: dict[str, Title] = {}

    async def build(self) -> World:
        made = {
            "drama1": {"genres": ["Drama"], "year": 1990, "certification": "PG"},
            "drama2": {"genres": ["Drama"], "year": 1991, "certification": "PG"},
            "drama3": {"genres": ["Drama", "Crime"], "year": 1992, "certification": "PG-13"},
            "comedy1": {"genres": ["Comedy"], "year": 2010, "certification": "PG"},
            "comedy2": {"genres": ["Comedy"], "year": 2011, "certification": "PG"},
            "cartoon": {"genres": ["Animation", "Comedy"], "year": 2012, "certification": "G"},
            "cartoon2": {"genres": ["Animation"], "year": 2013, "certification": "G"},
            "grim": {"genres": ["Drama", "Crime"], "year": 1993, "certification": "R"},
            "gold": {"genres": ["Drama"], "year": 1994, "certification": "PG",
                     "access": "premium"},
        }  # fmt: skip
        for name, fields in made.items():
            self.titles[name] = await self.catalog.title(name.title(), **fields)
        return self

    def __getitem__(self, name: str) -> Title:
        return self.titles[name]


async def imported(stack: Settings, viewings: list[tuple[Device, Title, str]]) -> None:
    items = [
        {"profile_id": str(d.profile_id), "title_id": str(t.id), "watched_at": at,
         "completion": 1.0}
        for d, t, at in viewings
    ]  # fmt: skip
    async with httpx.AsyncClient(
        base_url=stack.streaming.url, headers=admin_headers(stack), timeout=20
    ) as streaming:
        response = await streaming.post("/v1/admin/history", json={"items": items})
        assert response.status_code == 200, response.text
        assert response.json()["rejected"] == []


async def row(
    app: TestClient, stack: Settings, device: Device, name: str
) -> tuple[list[dict[str, Any]], str]:
    response = await app.get(
        f"/v1/profiles/{device.profile_id}/recommendations?row={name}",
        headers=device.headers(stack),
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["row"] == name
    return body["items"], response.headers["X-Cache"]


@pytest.fixture
async def world(stack: Settings) -> World:
    built = await World(Catalog(stack)).build()
    fans = [Device() for _ in range(6)]
    jokers = [Device() for _ in range(4)]
    kids = [Device(maturity="kids") for _ in range(3)]
    viewings = [(f, built[t], "2026-12-01T20:00:00+00:00")
                for f in fans for t in ("drama1", "drama2", "drama3")]  # fmt: skip
    viewings += [(j, built[t], "2026-12-02T20:00:00+00:00")
                 for j in jokers for t in ("comedy1", "comedy2")]  # fmt: skip
    viewings += [(k, built[t], "2026-12-03T20:00:00+00:00")
                 for k in kids for t in ("cartoon", "cartoon2")]  # fmt: skip
    await imported(stack, viewings)
    return built


async def test_rows_follow_what_the_profile_watched(
    app: TestClient, stack: Settings, world: World
) -> None:
    build = await run_rebuild(stack)
    assert build.neighbours > 0 and build.titles >= 9
    viewer = Device()
    await imported(stack, [(viewer, world["drama1"], "2026-12-04T20:00:00+00:00")])
    items, cache = await row(app, stack, viewer, "top_picks")
    assert cache == "MISS"
    ids = [item["title"]["id"] for item in items]
    assert str(world["drama1"].id) not in ids  # already watched
    # The other dramas lead (watched together with it by every drama fan).
    assert {ids[0], ids[1]} == {str(world["drama2"].id), str(world["drama3"].id)}
    first = items[0]
    assert first["explanation"].startswith(f"because you watched {world['drama1'].name}")
    assert first["because"] == {"id": str(world["drama1"].id), "title": world["drama1"].name}
    assert set(first["components"]) == {"content", "collaborative", "trending"}
    assert all(0 <= value <= 1 for value in first["components"].values())
    assert first["title"]["genres"] and first["title"]["locked"] is False
    # The premium drama is shown locked to a standard-plan account.
    gold = [item for item in items if item["title"]["id"] == str(world["gold"].id)]
    assert gold and gold[0]["title"]["locked"] is True
    # Cached until the profile finishes something.
    again, cache = await row(app, stack, viewer, "top_picks")
    assert cache == "HIT" and again == items
    because, _ = await row(app, stack, viewer, "because_you_watched")
    assert because and all(
        item["explanation"].startswith(f"because you watched {world['drama1'].name}")
        for item in because
    )


async def test_rows_keep_to_the_profiles_maturity(
    app: TestClient, stack: Settings, world: World
) -> None:
    await run_rebuild(stack)
    kid = Device(maturity="kids")
    await imported(stack, [(kid, world["cartoon"], "2026-12-04T20:00:00+00:00")])
    for name in ("top_picks", "because_you_watched", "trending"):
        items, _ = await row(app, stack, kid, name)
        assert items, name
        assert {item["title"]["certification"] for item in items} <= {"G", "TV-Y", "TV-Y7",
                                                                      "TV-G"}, name  # fmt: skip
        assert str(world["cartoon"].id) not in {item["title"]["id"] for item in items}
    top, _ = await row(app, stack, kid, "top_picks")
    assert top[0]["title"]["id"] == str(world["cartoon2"].id)


async def test_a_new_profile_gets_trending(app: TestClient, stack: Settings, world: World) -> None:
    await run_rebuild(stack)
    newcomer = Device()
    items, _ = await row(app, stack, newcomer, "top_picks")
    assert items and all(item["components"]["trending"] > 0 for item in items)
    assert all(item["explanation"].startswith("popular ") for item in items)
    trending, _ = await row(app, stack, newcomer, "trending")
    assert trending and trending[0]["explanation"].startswith("popular in ")
    # No history: no "because you watched" row.
    because, _ = await row(app, stack, newcomer, "because_you_watched")
    assert because == []


async def test_the_batch_job_is_idempotent_and_deterministic(
    stack: Settings, pool: asyncpg.Pool, world: World
) -> None:
    first = await run_rebuild(stack)
    rows_first = await pool.fetch(
        "SELECT kind, title_id, rank, neighbour_id, similarity FROM title_neighbours "
        "ORDER BY kind, title_id, rank"
    )
    second = await run_rebuild(stack)
    rows_second = await pool.fetch(
        "SELECT kind, title_id, rank, neighbour_id, similarity FROM title_neighbours "
        "ORDER BY kind, title_id, rank"
    )
    assert second.build_id > first.build_id
    assert second.digest == first.digest and second.neighbours == first.neighbours
    assert [tuple(r) for r in rows_first] == [tuple(r) for r in rows_second]
    builds = await pool.fetch(
        "SELECT digest FROM recommendation_builds WHERE id = ANY($1::bigint[])",
        [first.build_id, second.build_id],
    )
    assert {b["digest"] for b in builds} == {first.digest}


async def test_rows_through_the_gateway_and_their_metrics(stack: Settings, world: World) -> None:
    await run_rebuild(stack)
    viewer = Device()
    await imported(stack, [(viewer, world["comedy1"], "2026-12-04T20:00:00+00:00")])
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=20) as gateway:
        path = f"/v1/profiles/{viewer.profile_id}/recommendations"
        answer = await gateway.get(path, headers=viewer.headers(stack))
        assert answer.status_code == 200, answer.text
        ids = [item["title"]["id"] for item in answer.json()["items"]]
        assert ids[0] == str(world["comedy2"].id)
        stranger = await gateway.get(path, headers=Device().headers(stack))
        assert stranger.status_code == 403
        assert stranger.json()["error"]["code"] == "not_your_profile"
        bad = await gateway.get(path + "?row=everything", headers=viewer.headers(stack))
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_request"
        history = await gateway.get(
            f"/v1/profiles/{viewer.profile_id}/history", headers=viewer.headers(stack)
        )
        assert history.status_code == 200
        assert [i["title_id"] for i in history.json()["items"]] == [str(world["comedy1"].id)]
    async with httpx.AsyncClient(base_url=stack.streaming.url, timeout=20) as streaming:
        metrics = (await streaming.get("/metrics")).text
    assert 'recommendation_seconds_count{cache="miss",row="top_picks"}' in metrics


async def test_an_admin_reads_a_profiles_rows_as_that_profile_would_see_them(
    app: TestClient, stack: Settings, world: World
) -> None:
    async with httpx.AsyncClient(
        base_url=stack.api_url, headers=admin_headers(stack), timeout=20
    ) as gateway:
        resolved = await gateway.post(
            "/v1/admin/profiles/resolve",
            json={"items": [{"account_email": f"recs-{world.catalog.tag}@example.com",
                             "profile_name": "Main"}], "create_missing": True},
        )  # fmt: skip
        assert resolved.status_code == 200, resolved.text
        (found,) = resolved.json()["items"]
    viewer = Device(account_id=uuid.UUID(found["account_id"]),
                    profile_id=uuid.UUID(found["profile_id"]))  # fmt: skip
    await imported(stack, [(viewer, world["drama1"], "2026-12-04T20:00:00+00:00")])
    await run_rebuild(stack)
    response = await app.get(
        f"/v1/profiles/{viewer.profile_id}/recommendations", headers=admin_headers(stack)
    )
    assert response.status == 200, await response.text()
    ids = [item["title"]["id"] for item in (await response.json())["items"]]
    assert str(world["drama1"].id) not in ids and str(world["drama2"].id) in ids[:2]
    missing = await app.get(
        f"/v1/profiles/{uuid.uuid4()}/recommendations", headers=admin_headers(stack)
    )
    assert missing.status == 404
