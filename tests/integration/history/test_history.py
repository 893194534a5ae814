"""Watch history and Continue Watching against the stack's real PostgreSQL and Redis: the
streaming service built here by its factory (tests/streaming_http.py), its catalog the
stack's, titles made through the catalog's API."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from streamcore.settings import Settings
from streamcore.web.service import SETTINGS_KEY
from streaming.history import flusher
from tests.integration.history.titles import Catalog, Title
from tests.streaming_http import Device, heartbeat, signed_in_app, start_session

pytestmark = pytest.mark.stack


@pytest.fixture
def catalog(stack: Settings) -> Catalog:
    return Catalog(stack)


async def report(
    app: TestClient, stack: Settings, device: Device, title: Title, position_s: float, *,
    at: float | None = None, duration_s: float = 600, reason: str = "periodic",
) -> None:  # fmt: skip
    body: dict[str, Any] = {"position_s": position_s, "duration_s": duration_s,
                            "session_id": f"s-{device.device_id}", "reason": reason}  # fmt: skip
    if at is not None:
        body["at"] = int(at * 1000)
    response = await app.put(f"/v1/progress/{title.asset_id}", json=body,
                             headers=device.headers(stack))  # fmt: skip
    assert response.status == 204, await response.text()


async def flushed(app: TestClient, stack: Settings, pool: asyncpg.Pool) -> None:
    """Every report waiting in Redis, written (the flusher's round, run now)."""
    client = aioredis.from_url(stack.redis_dsn)
    try:
        while await flusher.flush_once(pool, client, app.server.app[SETTINGS_KEY], "test"):
            pass
    finally:
        await client.aclose()


async def get(app: TestClient, stack: Settings, device: Device, path: str) -> dict[str, Any]:
    response = await app.get(path, headers=device.headers(stack))
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def continue_ids(app: TestClient, stack: Settings, device: Device) -> list[str]:
    row = await get(app, stack, device, f"/v1/profiles/{device.profile_id}/continue-watching")
    return [item["title"]["id"] for item in row["items"]]


async def test_two_devices_racing_end_with_the_newest_position(
    app: TestClient, stack: Settings, pool: asyncpg.Pool, catalog: Catalog
) -> None:
    film = await catalog.title("Race")
    phone = Device()
    tv = phone.another(device_id=uuid.uuid4())
    base = time.time() - 100
    # Twenty reports from two devices, sent in a shuffled order, some at once: the latest
    # client timestamp (the phone's position 400 at base+19) must win everywhere.
    reports = [(phone if n % 2 else tv, 20.0 * n + 20, base + n) for n in range(20)]
    random.Random(7).shuffle(reports)
    for chunk in (reports[:10], reports[10:]):
        await asyncio.gather(*(report(app, stack, d, film, p, at=a) for d, p, a in chunk))
        await flushed(app, stack, pool)
    history = await get(app, stack, phone, f"/v1/profiles/{phone.profile_id}/history")
    (row,) = [item for item in history["items"] if item["title_id"] == str(film.id)]
    assert row["position_s"] == 400.0
    assert row["completion"] == pytest.approx(400 / 600)
    resume = await get(app, stack, tv, f"/v1/progress/{film.asset_id}")
    assert resume["position_s"] == 400.0
    # A late retry of an older report changes nothing.
    await report(app, stack, tv, film, 40.0, at=base + 1)
    await flushed(app, stack, pool)
    history = await get(app, stack, phone, f"/v1/profiles/{phone.profile_id}/history")
    assert [i["position_s"] for i in history["items"] if i["title_id"] == str(film.id)] == [400.0]


async def test_the_flusher_writes_batches_from_redis(
    app: TestClient, stack: Settings, pool: asyncpg.Pool, catalog: Catalog
) -> None:
    film, viewer = await catalog.title("Batch"), Device()
    await report(app, stack, viewer, film, 30, at=time.time() - 5)  # the first: written now
    await report(app, stack, viewer, film, 90, at=time.time())  # waits in Redis
    stored = await pool.fetchval(
        "SELECT position_s FROM watch_history WHERE profile_id = $1 AND title_id = $2",
        viewer.profile_id, film.id,
    )  # fmt: skip
    assert stored == 30
    await flushed(app, stack, pool)
    stored = await pool.fetchval(
        "SELECT position_s FROM watch_history WHERE profile_id = $1 AND title_id = $2",
        viewer.profile_id, film.id,
    )  # fmt: skip
    assert stored == 90


async def test_redis_down_loses_no_report(
    stack: Settings, pool: asyncpg.Pool, catalog: Catalog
) -> None:
    film, viewer = await catalog.title("No Redis"), Device()
    # Nothing listens on this port: every Redis call fails at once.
    down = stack.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    async with signed_in_app(down) as app:
        for n in range(5):
            await report(app, down, viewer, film, 60.0 * (n + 1), at=time.time() - 5 + n)
    rows = await pool.fetch(
        "SELECT position_s, completion FROM watch_history WHERE profile_id = $1",
        viewer.profile_id,
    )
    assert [(r["position_s"], r["completion"]) for r in rows] == [(300.0, 0.5)]
    progress = await pool.fetchval(
        "SELECT position_s FROM watch_progress WHERE profile_id = $1", viewer.profile_id
    )
    assert progress == 300.0


async def test_continue_watching_thresholds_and_removal(
    app: TestClient, stack: Settings, pool: asyncpg.Pool, catalog: Catalog
) -> None:
    barely, halfway, finished = [await catalog.title(n) for n in ("Barely", "Half", "Done")]
    viewer, now = Device(), time.time()
    await report(app, stack, viewer, barely, 20, at=now - 30)  # 3 %: not started, really
    await report(app, stack, viewer, halfway, 300, at=now - 20)  # 50 %
    await report(app, stack, viewer, finished, 580, at=now - 10)  # 97 %: finished
    await flushed(app, stack, pool)
    assert await continue_ids(app, stack, viewer) == [str(halfway.id)]
    row = await get(app, stack, viewer, f"/v1/profiles/{viewer.profile_id}/continue-watching")
    (item,) = row["items"]
    assert item["position_s"] == 300 and item["asset_id"] == str(halfway.asset_id)
    assert item["title"]["title"] == halfway.name and item["title"]["locked"] is False
    # The finished film is in the history, completed once.
    history = await get(app, stack, viewer, f"/v1/profiles/{viewer.profile_id}/history")
    done = [i for i in history["items"] if i["title_id"] == str(finished.id)]
    assert done[0]["times_completed"] == 1
    # Removed: gone, until watched again.
    removed = await app.delete(item["remove"], headers=viewer.headers(stack))
    assert removed.status == 204
    assert await continue_ids(app, stack, viewer) == []
    await report(app, stack, viewer, halfway, 320, at=time.time() + 1)
    await flushed(app, stack, pool)
    assert await continue_ids(app, stack, viewer) == [str(halfway.id)]
    # Watching the finished film again brings it back, and counts a second completion.
    await report(app, stack, viewer, finished, 120, at=time.time() + 2)
    await report(app, stack, viewer, finished, 590, at=time.time() + 3)
    await flushed(app, stack, pool)
    history = await get(app, stack, viewer, f"/v1/profiles/{viewer.profile_id}/history")
    assert [
        i["times_completed"] for i in history["items"] if i["title_id"] == str(finished.id)
    ] == [2]
    unknown = await app.delete(
        f"/v1/profiles/{viewer.profile_id}/continue-watching/{uuid.uuid4()}",
        headers=viewer.headers(stack),
    )
    assert unknown.status == 404 and (await unknown.json())["error"]["code"] == "not_found"


async def test_a_finished_episode_gives_its_place_to_the_next(
    app: TestClient, stack: Settings, pool: asyncpg.Pool, catalog: Catalog
) -> None:
    show, (first, second) = await catalog.series("Show", 2)
    viewer, now = Device(), time.time()
    await report(app, stack, viewer, first, 200, at=now - 10)
    await flushed(app, stack, pool)
    assert await continue_ids(app, stack, viewer) == [str(first.id)]
    await report(app, stack, viewer, first, 598, at=now - 5, reason="ended")
    await flushed(app, stack, pool)
    row = await get(app, stack, viewer, f"/v1/profiles/{viewer.profile_id}/continue-watching")
    (item,) = row["items"]
    assert item["title"]["id"] == str(second.id) and item["next_episode"] is True
    assert item["position_s"] == 0 and item["asset_id"] == str(second.asset_id)
    assert item["remove"].endswith(f"/continue-watching/{show.id}")
    # The last episode finished: the series leaves the row.
    await report(app, stack, viewer, second, 599, at=now)
    await flushed(app, stack, pool)
    assert await continue_ids(app, stack, viewer) == []


async def test_continue_watching_keeps_to_the_profiles_maturity_and_plan(
    app: TestClient, stack: Settings, pool: asyncpg.Pool, catalog: Catalog
) -> None:
    adult = await catalog.title("Grim", certification="R")
    premium = await catalog.title("Gold", access="premium", certification="G")
    kid = Device(maturity="kids")
    now = time.time()
    # A kid's profile with an adult title in its history (recertified since, say).
    await report(app, stack, kid, adult, 300, at=now - 2)
    await report(app, stack, kid, premium, 300, at=now - 1)
    await flushed(app, stack, pool)
    row = await get(app, stack, kid, f"/v1/profiles/{kid.profile_id}/continue-watching")
    shown = {item["title"]["id"]: item["title"]["locked"] for item in row["items"]}
    assert shown == {str(premium.id): True}  # the standard plan has no premium titles


async def test_history_is_the_profiles_own(
    app: TestClient, stack: Settings, catalog: Catalog
) -> None:
    film, owner, other = await catalog.title("Mine"), Device(), Device()
    await report(app, stack, owner, film, 100)
    path = f"/v1/profiles/{owner.profile_id}/history"
    refused = await app.get(path, headers=other.headers(stack))
    assert refused.status == 403 and (await refused.json())["error"]["code"] == "not_your_profile"
    anonymous = await app.get(path)
    assert anonymous.status == 401


async def test_history_pages_latest_first(
    app: TestClient, stack: Settings, pool: asyncpg.Pool, catalog: Catalog
) -> None:
    films = [await catalog.title(f"Page {n}") for n in range(5)]
    viewer, now = Device(), time.time()
    for n, film in enumerate(films):
        await report(app, stack, viewer, film, 60, at=now - 100 + n)
    seen: list[str] = []
    cursor = None
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        page = await get(app, stack, viewer, f"/v1/profiles/{viewer.profile_id}/history{query}")
        seen += [item["title_id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == [str(film.id) for film in reversed(films)]
    bad = await app.get(
        f"/v1/profiles/{viewer.profile_id}/history?cursor=nonsense", headers=viewer.headers(stack)
    )
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "invalid_cursor"


async def test_import_is_idempotent_and_rejects_unknown_titles(
    app: TestClient, stack: Settings, catalog: Catalog
) -> None:
    film, viewer = await catalog.title("Imported", runtime_min=100), Device()
    key = stack.auth.service_key().get_secret_value()
    admin = {"Authorization": f"Bearer {key}"}
    items = [
        {"profile_id": str(viewer.profile_id), "title_id": str(film.id),
         "watched_at": "2024-03-01T20:00:00+00:00", "completion": 0.5},
        {"profile_id": str(viewer.profile_id), "title_id": str(uuid.uuid4()),
         "watched_at": "2024-03-01T21:00:00+00:00", "position_s": 10},
    ]  # fmt: skip
    first = await app.post("/v1/admin/history", json={"items": items}, headers=admin)
    assert first.status == 200, await first.text()
    body = await first.json()
    assert (body["written"], body["unchanged"]) == (1, 0)
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [(1, "unknown_title")]
    again = await (await app.post("/v1/admin/history", json={"items": items}, headers=admin)).json()
    assert (again["written"], again["unchanged"]) == (0, 1)
    history = await get(app, stack, viewer, f"/v1/profiles/{viewer.profile_id}/history")
    (row,) = history["items"]
    assert row["completion"] == 0.5 and row["position_s"] == 3000.0
    assert row["last_watched_at"].startswith("2024-03-01T20:00:00")
    # Not an admin: refused. A body without a measure: a 400 naming the field.
    viewer_call = await app.post(
        "/v1/admin/history", json={"items": items}, headers=viewer.headers(stack)
    )
    assert viewer_call.status == 403
    neither = [{**items[0]}]
    neither[0].pop("completion")
    bad = await app.post("/v1/admin/history", json={"items": neither}, headers=admin)
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "invalid_request"


async def test_the_end_of_a_session_keeps_its_last_position(
    app: TestClient, stack: Settings, pool: asyncpg.Pool, catalog: Catalog
) -> None:
    film, viewer = await catalog.title("Ended"), Device()
    assert film.asset_id is not None
    started = await start_session(app, stack, viewer, film.asset_id)
    status, _ = await heartbeat(app, stack, viewer, started["session_id"], position_s=450)
    assert status == 200
    ended = await app.delete(f"/v1/sessions/{started['session_id']}", headers=viewer.headers(stack))
    assert ended.status == 204
    row = await pool.fetchrow(
        "SELECT position_s, completion FROM watch_history WHERE profile_id = $1",
        viewer.profile_id,
    )
    # The title's runtime (10 minutes) stands for the duration the player never sent.
    assert (row["position_s"], row["completion"]) == (450.0, 0.75)
