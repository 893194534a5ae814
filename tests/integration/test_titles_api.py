"""The title endpoints against the real stack: PostgreSQL, S3, the worker, the origin and edge.

The database is shared by the whole session (and fuzzed by test_openapi.py), so each test
works on titles only it made: a genre (`tag`) or tmdb ids of its own.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp.test_utils import TestClient
from PIL import Image, ImageDraw

from catalog_api.titles.responses import BatchResult, TitleDetail, TitlePage
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from streamcore.storage import ObjectNotFound
from streamcore.storage.s3 import open_storage
from tests.integration.published import Published

pytestmark = pytest.mark.stack


@pytest.fixture
def tag() -> str:
    """A genre no other test's titles have."""
    return f"G{uuid.uuid4().hex[:12]}"


def tmdb_ids(count: int) -> list[int]:
    start = random.randint(1_000_000_000, 2_000_000_000)
    return list(range(start, start + count))


async def create(client: TestClient, auth: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await client.post("/v1/titles", json=fields, headers=auth)
    assert response.status == 201, await response.text()
    return await response.json()


async def eventually_found(client: TestClient, path: str) -> aiohttp.ClientResponse:
    for _ in range(50):
        response = await client.get(path)
        if response.status != 404:
            return response
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} never appeared")


async def error_of(response: aiohttp.ClientResponse, status: int) -> dict[str, str]:
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return (await response.json())["error"]


async def test_create_read_update_delete(
    client: TestClient, auth: dict[str, str], tag: str
) -> None:
    [tmdb] = tmdb_ids(1)
    body = {"title": "  The Quiet Harbor ", "description": "Fog.\nBoats.", "genres": [tag, tag],
            "year": 1999, "runtime_min": 101, "rating": 7.46, "tmdb_id": tmdb}  # fmt: skip
    response = await client.post("/v1/titles", json=body, headers=auth)
    assert response.status == 201, await response.text()
    created = TitleDetail.model_validate(await response.json())
    assert response.headers["Location"] == f"/v1/titles/{created.id}"
    assert (created.title, created.genres, created.rating) == ("The Quiet Harbor", [tag], 7.5)
    assert created.kind == "movie" and created.assets == [] and created.episodes is None

    # No API key: reads are public. Anonymous reads may go to a replica, a moment behind.
    public = await eventually_found(client, f"/v1/titles/{created.id}")
    assert public.headers["Cache-Control"].startswith("public")
    assert (await public.json())["description"] == "Fog.\nBoats."

    patched = await client.patch(
        f"/v1/titles/{created.id}", json={"year": 2001, "runtime_min": None}, headers=auth
    )
    assert patched.status == 200, await patched.text()
    after = await (await client.get(f"/v1/titles/{created.id}", headers=auth)).json()
    assert (after["year"], after["runtime_min"], after["title"]) == (2001, None, "The Quiet Harbor")
    assert after["updated_at"] > after["created_at"]

    deleted = await client.delete(f"/v1/titles/{created.id}", headers=auth)
    assert (await deleted.json())["deleted"] == [str(created.id)]
    error = await error_of(await client.get(f"/v1/titles/{created.id}", headers=auth), 404)
    assert error["code"] == "not_found"
    assert await error_of(await client.delete(f"/v1/titles/{created.id}", headers=auth), 404)


EPISODE_OF_NOTHING = {"title": "x", "kind": "episode", "series_id": str(uuid.uuid4()),
                      "season_number": 1, "episode_number": 1}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": " "}, "title"),
        ({"title": "x", "year": 1700}, "year"),
        ({"title": "x", "rating": 11}, "rating"),
        ({"title": "x", "kind": "episode"}, "series_id"),
        ({"title": "x", "season_number": 1}, "season_number"),
        ({"title": "x", "genres": ["a|b"]}, "genres.0"),
        ({"title": "x\u0000y"}, "title"),
        ({"title": "x", "colour": "red"}, "colour"),
        ({"title": "x", "kind": "trailer"}, "kind"),
        ({"title": "x", "tmdb_id": 0}, "tmdb_id"),
        (EPISODE_OF_NOTHING, "series_id"),
        ("not json", "body"),
    ],
)
async def test_invalid_bodies_are_400_naming_the_field(
    client: TestClient, auth: dict[str, str], body: Any, field: str
) -> None:
    data = body if isinstance(body, str) else None
    response = await client.post("/v1/titles", json=None if data else body, data=data, headers=auth)
    error = await error_of(response, 400)
    assert error["code"] == "invalid_request"
    assert error["message"].startswith(f"{field}:"), error["message"]


async def test_writes_need_a_valid_bearer(
    client: TestClient, auth: dict[str, str], tag: str
) -> None:
    """No token is a 401 `unauthorized`, a key that is no service account's `invalid_token`
    (what a viewer's or a creator's token gets is in test_catalog_auth.py: 403)."""
    title = await create(client, auth, title="Keyed", genres=[tag])
    calls = [
        ("POST", "/v1/titles", {"title": "x"}),
        ("POST", "/v1/titles/batch", {"titles": [{"title": "x", "tmdb_id": 1}]}),
        ("PATCH", f"/v1/titles/{title['id']}", {"year": 2000}),
        ("DELETE", f"/v1/titles/{title['id']}", None),
        ("PUT", f"/v1/titles/{title['id']}/poster", None),
        ("PUT", f"/v1/titles/{title['id']}/assets/{uuid.uuid4()}", {"role": "main"}),
        ("DELETE", f"/v1/titles/{title['id']}/assets/{uuid.uuid4()}", None),
    ]
    for method, path, body in calls:
        anonymous, bad_key = {}, {"Authorization": "Bearer not-a-key"}
        for headers, code in ((anonymous, "unauthorized"), (bad_key, "invalid_token")):
            response = await client.request(method, path, json=body, headers=headers)
            assert (await error_of(response, 401))["code"] == code, (method, path)
    assert (await client.get(f"/v1/titles/{title['id']}", headers=auth)).status == 200


async def test_tmdb_ids_are_unique_per_kind(
    client: TestClient, auth: dict[str, str], tag: str
) -> None:
    first, other = tmdb_ids(2)
    movie = await create(client, auth, title="One", tmdb_id=first, genres=[tag])
    await create(client, auth, title="Same id, a series", kind="series", tmdb_id=first)
    response = await client.post("/v1/titles", json={"title": "Two", "tmdb_id": first},
                                 headers=auth)  # fmt: skip
    assert (await error_of(response, 409))["code"] == "duplicate_tmdb_id"
    second = await create(client, auth, title="Two", tmdb_id=other)
    response = await client.patch(f"/v1/titles/{second['id']}", json={"tmdb_id": first},
                                  headers=auth)  # fmt: skip
    assert (await error_of(response, 409))["code"] == "duplicate_tmdb_id"
    found = await (await client.get("/v1/titles", params={"tmdb_id": first}, headers=auth)).json()
    assert {t["id"] for t in found["items"]} >= {movie["id"]}
    assert all(t["tmdb_id"] == first for t in found["items"])
    missing = f"/v1/titles/{uuid.uuid4()}"
    assert await error_of(await client.patch(missing, json={}, headers=auth), 404)
    assert (await error_of(await client.get("/v1/titles/not-an-id"), 404))["code"] == "not_found"


async def test_a_series_lists_its_episodes_in_order(
    client: TestClient, auth: dict[str, str], tag: str
) -> None:
    series = await create(client, auth, title="Lighthouse", kind="series", genres=[tag])
    for season, number in [(2, 1), (1, 2), (1, 1)]:
        await create(
            client, auth, title=f"S{season}E{number}", kind="episode", genres=[tag],
            series_id=series["id"], season_number=season, episode_number=number,
        )  # fmt: skip
    duplicate = {"title": "again", "kind": "episode", "series_id": series["id"],
                 "season_number": 1, "episode_number": 1}  # fmt: skip
    response = await client.post("/v1/titles", json=duplicate, headers=auth)
    assert (await error_of(response, 409))["code"] == "duplicate_episode"

    document = TitleDetail.model_validate(
        await (await client.get(f"/v1/titles/{series['id']}", headers=auth)).json()
    )
    assert [e.title for e in document.episodes or []] == ["S1E1", "S1E2", "S2E1"]
    episode = await (await client.get(f"/v1/titles/{document.episodes[0].id}", headers=auth)).json()  # type: ignore[index]
    assert episode["series"] == {"id": series["id"], "title": "Lighthouse", "certification": None}
    assert episode["series_id"] == series["id"]
    response = await client.patch(f"/v1/titles/{series['id']}", json={"season_number": 1},
                                  headers=auth)  # fmt: skip
    assert (await error_of(response, 400))["message"].startswith("season_number:")

    top = await (await client.get("/v1/titles", params={"genre": tag}, headers=auth)).json()
    assert [t["kind"] for t in top["items"]] == ["series"]  # episodes are not listed by default
    only_episodes = {"genre": tag, "kind": "episode"}
    episodes = await (await client.get("/v1/titles", params=only_episodes, headers=auth)).json()
    assert len(episodes["items"]) == 3

    deleted = await (await client.delete(f"/v1/titles/{series['id']}", headers=auth)).json()
    assert len(deleted["deleted"]) == 4
    gone = await (await client.get("/v1/titles", params=only_episodes, headers=auth)).json()
    assert gone["items"] == []


_WORDS = ["delta", "Alpha", "charlie", "Bravo", "echo", "Foxtrot", "golf", "Hotel", "india",
          "Juliett", "kilo", "Lima", "mike", "November", "oscar", "Papa", "quebec", "Romeo",
          "sierra", "Tango", "uniform", "Victor", "whiskey", "Xray", "yankee"]  # fmt: skip
_SORT_KEYS = {
    "title": lambda t: (t["title"].lower(), uuid.UUID(t["id"])),
    "year": lambda t: (t["year"] or 0, uuid.UUID(t["id"])),
    "rating": lambda t: (-1 if t["rating"] is None else t["rating"], uuid.UUID(t["id"])),
    "created": lambda t: (datetime.fromisoformat(t["created_at"]), uuid.UUID(t["id"])),
}


async def walk(
    client: TestClient, auth: dict[str, str], params: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        response = await client.get(
            "/v1/titles",
            params=[*params, *([("cursor", cursor)] if cursor else [])],
            headers=auth,
        )
        assert response.status == 200, await response.text()
        page = await response.json()
        TitlePage.model_validate(page)
        items += page["items"]
        if (cursor := page["next_cursor"]) is None:
            return items
    raise AssertionError("the pages never end")


async def test_every_sort_pages_without_gaps_or_duplicates(
    client: TestClient, auth: dict[str, str], tag: str
) -> None:
    made = []
    for i, word in enumerate(_WORDS):
        made.append(await create(
            client, auth, title=word, genres=[tag, "Drama" if i % 2 else "Comedy"],
            year=None if i % 7 == 0 else 1990 + i % 4,
            rating=None if i % 5 == 0 else [6.5, 7.0, 8.5][i % 3],
        ))  # fmt: skip
    for sort, key in _SORT_KEYS.items():
        for descending in (False, True):
            name = f"-{sort}" if descending else sort
            items = await walk(client, auth, [("genre", tag), ("sort", name), ("limit", "4")])
            ids = [t["id"] for t in items]
            assert len(ids) == len(set(ids)) == len(made), name
            expected = sorted(made, key=key, reverse=descending)
            assert ids == [t["id"] for t in expected], name

    default = await (await client.get("/v1/titles", params={"genre": tag}, headers=auth)).json()
    assert len(default["items"]) == 20 and default["limit"] == 20 and default["next_cursor"]
    by_year = await walk(client, auth, [("genre", tag), ("year", "1991")])
    assert by_year and all(t["year"] == 1991 for t in by_year)
    dramas = await walk(client, auth, [("genre", tag), ("genre", "Drama")])
    assert len(dramas) == 12 and all("Drama" in t["genres"] for t in dramas)
    found = await walk(client, auth, [("genre", tag), ("q", "  OVEM ")])
    assert [t["title"] for t in found] == ["November"]
    assert await walk(client, auth, [("genre", tag), ("q", "%")]) == []  # wildcards are literal


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("sort=popularity", "sort"),
        ("year=199x", "year"),
        ("year=1990&year=1991", "year"),
        ("kind=trailer", "kind"),
        ("q=", "q"),
        ("colour=red", "colour"),
    ],
)
async def test_bad_list_parameters_are_400_naming_them(
    client: TestClient, query: str, field: str
) -> None:
    error = await error_of(await client.get(f"/v1/titles?{query}"), 400)
    assert error["code"] == "invalid_request"
    assert error["message"].startswith(f"{field}:"), error["message"]


async def test_bad_tampered_or_foreign_cursors_are_400(
    client: TestClient, auth: dict[str, str], tag: str
) -> None:
    for word in _WORDS[:3]:
        await create(client, auth, title=word, genres=[tag])
    first = await client.get("/v1/titles", params={"genre": tag, "limit": "1"}, headers=auth)
    page = await first.json()
    cursor = page["next_cursor"]
    payload, mac = cursor.split(".")
    tampered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + mac
    for params in (
        {"genre": tag, "cursor": "garbage"},
        {"genre": tag, "cursor": tampered},
        {"genre": tag, "cursor": cursor[:-1]},
        {"genre": tag, "cursor": cursor, "sort": "-year"},  # another sort
        {"cursor": cursor},  # other filters
    ):
        error = await error_of(await client.get("/v1/titles", params=params), 400)
        assert error["code"] == "invalid_cursor", params
    rest = {"genre": tag, "cursor": cursor, "limit": "5"}
    ok = await client.get("/v1/titles", params=rest, headers=auth)
    assert len((await ok.json())["items"]) == 2


def image_bytes(kind: str, size: tuple[int, int], colour: str) -> bytes:
    mode = "RGBA" if kind == "PNG" else "RGB"
    image = Image.new(mode, size, colour)
    ImageDraw.Draw(image).ellipse((10, 10, size[0] - 10, size[1] - 10), fill="white")
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: dict[str, str]
    body: bytes


async def fetch(url: str) -> Fetched:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return Fetched(response.status, dict(response.headers), await response.read())


async def test_posters_are_served_by_the_edge_and_replacing_one_purges_the_old(
    client: TestClient, auth: dict[str, str], stack: Settings, tag: str
) -> None:
    title = await create(client, auth, title="Posterized", genres=[tag])
    path = f"/v1/titles/{title['id']}/poster"
    jpeg = image_bytes("JPEG", (1200, 1800), "navy")
    response = await client.put(path, data=jpeg, headers={**auth, "Content-Type": "image/jpeg"})
    assert response.status == 200, await response.text()
    first = TitleDetail.model_validate(await response.json()).images
    assert first.poster and first.thumbnail and first.poster.startswith(stack.cdns[0].url)
    # The same URLs all hour: cacheable responses, one CDN entry.
    again = await (await client.get(f"/v1/titles/{title['id']}", headers=auth)).json()
    assert again["images"] == first.model_dump()

    for url, box in ((first.poster, (1000, 1500)), (first.thumbnail, (300, 450))):
        served = await fetch(url)
        assert served.status == 200 and served.headers["Content-Type"] == "image/jpeg"
        with Image.open(io.BytesIO(served.body)) as image:
            assert image.format == "JPEG" and image.size == (box[0], box[0] * 3 // 2)
        assert (await fetch(url)).headers["X-Cache"] == "HIT"

    png = image_bytes("PNG", (600, 900), "darkgreen")
    response = await client.put(path, data=png, headers={**auth, "Content-Type": "image/png"})
    second = TitleDetail.model_validate(await response.json()).images
    assert second.poster != first.poster and second.poster and second.poster.endswith(".jpg")
    assert (await fetch(second.poster)).status == 200
    same = await client.put(path, data=png, headers={**auth, "Content-Type": "image/png"})
    assert TitleDetail.model_validate(await same.json()).images == second  # nothing changes

    # The old folder is deleted, and purged from the edge by the worker's retried task: the
    # old URL stops being served from the edge's cache, and the origin has nothing left.
    old_key = first.poster.split("/t/", 1)[1].split("/", 1)[1]
    async with open_storage(stack) as storage:
        with pytest.raises(ObjectNotFound):
            await storage.head(stack.s3.media_bucket, old_key)
    for _ in range(60):
        if (await fetch(first.poster)).status == 404:
            break
        await asyncio.sleep(0.5)
    else:
        raise AssertionError("the edge still serves the replaced poster")

    # Deleting the title deletes its images and purges them too.
    assert (await client.delete(f"/v1/titles/{title['id']}", headers=auth)).status == 200
    async with open_storage(stack) as storage:
        prefix = f"titles/{title['id']}/"
        assert [i async for i in storage.list(stack.s3.media_bucket, prefix)] == []
    for _ in range(60):
        if (await fetch(second.poster)).status == 404:
            break
        await asyncio.sleep(0.5)
    else:
        raise AssertionError("the edge still serves the deleted title's poster")


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (b"not an image at all", "image/jpeg", 400, "bad_image"),
        (b"", "image/png", 400, "bad_image"),
        (b"GIF89a....", "image/gif", 415, "unsupported_media_type"),
        (b"\x00" * (11 * 1024 * 1024), "image/jpeg", 413, "payload_too_large"),
    ],
)
async def test_bad_posters_are_refused(
    client: TestClient, auth: dict[str, str], tag: str,
    data: bytes, content_type: str, status: int, code: str,
) -> None:  # fmt: skip
    title = await create(client, auth, title="No poster", genres=[tag])
    response = await client.put(f"/v1/titles/{title['id']}/poster", data=io.BytesIO(data),
                                headers={**auth, "Content-Type": content_type})  # fmt: skip
    assert (await error_of(response, status))["code"] == code


async def test_a_mislabelled_poster_or_a_missing_title(
    client: TestClient, auth: dict[str, str], tag: str
) -> None:
    png = image_bytes("PNG", (60, 90), "red")
    title = await create(client, auth, title="Labels", genres=[tag])
    response = await client.put(f"/v1/titles/{title['id']}/poster", data=png,
                                headers={**auth, "Content-Type": "image/jpeg"})  # fmt: skip
    error = await error_of(response, 400)
    assert error["code"] == "bad_image" and "PNG" in error["message"]
    response = await client.put(f"/v1/titles/{uuid.uuid4()}/poster", data=png,
                                headers={**auth, "Content-Type": "image/png"})  # fmt: skip
    assert (await error_of(response, 404))["code"] == "not_found"


async def _insert_asset(stack: Settings, asset_id: uuid.UUID, status: str, version: int) -> None:
    images = {"posters": ["poster/poster_320.jpg"], "storyboard": None} if version else {}
    async with pool_context(stack, schema=Schema.CATALOG) as pool:
        await pool.execute(
            """
            INSERT INTO assets (id, title, status, source_key, source_filename, version, images,
                                source_probe)
            VALUES ($1, 'clip', $2, 'uploads/x/source.mp4', 'clip.mp4', $3, $4, $5)
            """,
            asset_id, status, version, images, {"duration_s": 4.0},
        )  # fmt: skip


async def test_attached_assets_are_listed_with_their_state_and_lend_their_poster(
    client: TestClient,
    streaming: TestClient,
    auth: dict[str, str],
    stack: Settings,
    published: Published,
    tag: str,
) -> None:
    await _insert_asset(stack, published.asset_id, "ready", 1)
    trailer = uuid.uuid4()
    await _insert_asset(stack, trailer, "processing", 0)
    title = await create(client, auth, title="Feature", genres=[tag])
    base = f"/v1/titles/{title['id']}/assets"

    response = await client.put(f"{base}/{trailer}", json={"role": "trailer"}, headers=auth)
    assert response.status == 200, await response.text()
    response = await client.put(f"{base}/{published.asset_id}", json={}, headers=auth)
    document = TitleDetail.model_validate(await response.json())
    assert [(str(a.id), a.role, a.status) for a in document.assets] == [
        (str(published.asset_id), "main", "ready"), (str(trailer), "trailer", "processing")
    ]  # fmt: skip
    main, second = document.assets
    assert main.duration_s == 4.0 and main.links.playback == f"/v1/playback/{main.id}"
    assert second.links.playback is None and second.images.poster is None
    # No poster of its own: the title shows its main asset's, through the edge.
    assert document.images.poster == main.images.poster and document.images.poster
    poster = await fetch(document.images.poster)
    assert poster.status == 200 and poster.body == b"\xff\xd8\xff" + b"j" * 500
    playback = await streaming.get(main.links.playback)  # behind the gateway, the same origin
    assert playback.status == 200

    response = await client.put(f"{base}/{trailer}", json={"role": "main"}, headers=auth)
    assert (await error_of(response, 409))["code"] == "main_asset_exists"
    response = await client.put(f"{base}/{uuid.uuid4()}", json={}, headers=auth)
    assert (await error_of(response, 404))["code"] == "not_found"
    response = await client.put(f"{base}/{trailer}", json={"role": "cameo"}, headers=auth)
    assert (await error_of(response, 400))["message"].startswith("role:")

    listed = await (await client.get("/v1/titles", params={"genre": tag}, headers=auth)).json()
    assert listed["items"][0]["images"]["poster"] == main.images.poster
    detached = await client.delete(f"{base}/{published.asset_id}", headers=auth)
    assert [a["role"] for a in (await detached.json())["assets"]] == ["trailer"]
    assert await error_of(await client.delete(f"{base}/{published.asset_id}", headers=auth), 404)


async def test_batch_upserts_by_kind_and_tmdb_id(
    client: TestClient, auth: dict[str, str], tag: str
) -> None:
    movie, series, episode, orphan = tmdb_ids(4)
    rows: list[dict[str, Any]] = [
        {"title": "Episode 1", "kind": "episode", "tmdb_id": episode, "genres": [tag],
         "series_tmdb_id": series, "season_number": 1, "episode_number": 1},
        {"title": "Batch movie", "tmdb_id": movie, "genres": [tag], "rating": 5},
        {"title": "Batch series", "kind": "series", "tmdb_id": series, "genres": [tag]},
        {"title": "Lost episode", "kind": "episode", "tmdb_id": orphan, "genres": [tag],
         "series_tmdb_id": orphan, "season_number": 1, "episode_number": 1},
    ]  # fmt: skip

    async def post(titles: list[dict[str, Any]]) -> BatchResult:
        response = await client.post("/v1/titles/batch", json={"titles": titles}, headers=auth)
        assert response.status == 200, await response.text()
        return BatchResult.model_validate(await response.json())

    first = await post(rows)
    assert (first.created, first.updated, first.unchanged, first.failed) == (3, 0, 0, 1)
    assert first.results[3].error and first.results[3].error.startswith("series_tmdb_id:")
    again = await post(rows)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert [r.id for r in again.results] == [r.id for r in first.results]
    rows[1] = {**rows[1], "rating": 6}
    changed = await post(rows[:3])
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 2)

    series_doc = await (await client.get(f"/v1/titles/{first.results[2].id}", headers=auth)).json()
    assert [e["id"] for e in series_doc["episodes"]] == [str(first.results[0].id)]
    response = await client.post("/v1/titles/batch", json={"titles": rows[1:2] * 2}, headers=auth)
    assert (await error_of(response, 400))["message"].startswith("titles:")
    response = await client.post("/v1/titles/batch", json={"titles": [{"title": "x"}]},
                                 headers=auth)  # fmt: skip
    assert (await error_of(response, 400))["message"].startswith("titles.0.tmdb_id:")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    # The session fixture exported the test stack's settings: the CLI reads the same.
    return subprocess.run(
        [sys.executable, "-m", "cli", "titles", *args],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def test_importing_a_generated_catalog_twice_creates_no_duplicates(
    stack: Settings, tmp_path: Path
) -> None:
    first_id = tmdb_ids(1)[0]
    catalog = tmp_path / "catalog.csv"
    made = _cli("generate", "--count", "40", "--seed", "7", "--first-tmdb-id", str(first_id),
                "-o", str(catalog))  # fmt: skip
    assert made.returncode == 0, made.stderr

    first = _cli("import", str(catalog), "--batch-size", "15")
    assert first.returncode == 0, first.stderr
    assert "40 created" in first.stdout, first.stdout
    second = _cli("import", str(catalog), "--json")
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    assert (summary["rows"], summary["created"], summary["unchanged"], summary["failed"]) == (
        40, 0, 40, 0
    )  # fmt: skip

    with catalog.open() as handle:
        rows = list(csv.DictReader(handle))
    api = stack.catalog_api.url
    key = {"Authorization": f"Bearer {stack.auth.service_key().get_secret_value()}"}
    for row in rows[:5]:
        params = {"tmdb_id": row["tmdb_id"], "kind": row["kind"]}
        # With the key: the importer's own reads see its writes (no replica lag).
        found = httpx.get(f"{api}/v1/titles", params=params, headers=key, timeout=10).json()
        found = found["items"]
        assert [t["title"] for t in found] == [row["title"]]
    listed = _cli("list", "--q", rows[0]["title"], "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout)["items"]


def test_importing_a_bad_file_names_rows_and_fields_and_imports_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    first, second = tmdb_ids(2)
    bad.write_text(
        "kind,tmdb_id,title,year,genres\n"
        f"movie,{first},Fine,2001,Drama|Comedy\n"
        f"movie,{second},,nineteen,Drama\n"
        "episode,5,Orphan,2001,Drama\n"
    )
    result = _cli("import", str(bad), "--json")
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert (summary["created"], summary["failed"]) == (0, 2)
    [row2, row3] = summary["errors"]
    assert row2["row"] == 2 and "title:" in row2["message"] and "year:" in row2["message"]
    assert row3["row"] == 3 and "series_tmdb_id: " in row3["message"]
    missing = _cli("import", str(tmp_path / "nope.json"))
    assert missing.returncode != 0
