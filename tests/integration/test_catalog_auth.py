"""Accounts in the catalog, against the real stack: certifications, maturity filtering (and a
cache that cannot leak across levels), the route table, and creators' own assets.

Access tokens are minted here with the kernel (`streamcore.auth.tokens.mint`, the auth
service's own function, with the stack's signing key): the auth service is not on this branch
yet, so the catalog built in this process verifies them with the same keys (`LocalKeys`)
instead of fetching its JWKS through the gateway. Everything else is the real app.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from catalog_api.app import create_app
from catalog_api.openapi.schemas import AssetOut
from catalog_api.titles.responses import TitleDetail, TitlePage
from streamcore.auth.middleware import local_keys
from streamcore.auth.roles import Role
from streamcore.auth.tokens import mint
from streamcore.settings import Settings
from tests.integration.published import catalog_row

pytestmark = pytest.mark.stack
T = TypeVar("T")
Headers = dict[str, str]


async def _local_keys(app: web.Application) -> None:
    local_keys(app)


@pytest.fixture
async def client(stack: Settings) -> AsyncIterator[TestClient]:
    """The catalog from its factory; after its cleanup contexts (the JWKS client), the keys
    it verifies tokens with are the stack's own (see the module's docstring)."""
    app = create_app(stack)
    app.on_startup.append(_local_keys)
    async with TestClient(TestServer(app)) as c:
        yield c


def bearer(
    stack: Settings, role: Role, maturity: str | None = None, account: uuid.UUID | None = None
) -> Headers:
    token, _ = mint(
        stack.auth, account_id=account or uuid.uuid4(), session_id=uuid.uuid4(), role=role,
        profile_id=uuid.uuid4() if maturity else None, maturity=maturity,
    )  # fmt: skip
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Any
    body: Any


async def fetch(
    client: TestClient, path: str, headers: Headers, params: dict[str, str] | None = None
) -> Answer:
    async with client.get(path, params=params, headers=headers) as response:
        return Answer(response.status, response.headers, await response.json())


async def settled(read: Callable[[], Awaitable[T]], done: Callable[[T], bool]) -> T:
    """`read()` once `done` holds of it: readers other than the writer may be routed to the
    replica, a moment behind the admin's writes (and a page read there is cached until the
    writes' second invalidation, postgres.replica_max_lag_s later). A leak never settles."""
    value = await read()
    for _ in range(200):
        if done(value):
            return value
        await asyncio.sleep(0.1)
        value = await read()
    raise AssertionError(f"never settled: {value}")


def _cached(answer: Answer) -> bool:
    return answer.status == 200 and answer.headers["X-Cache"] in ("LOCAL", "REDIS")


async def json_of(response: aiohttp.ClientResponse, status: int = 200) -> Any:
    assert response.status == status, await response.text()
    return await response.json()


async def create(client: TestClient, auth: Headers, **fields: Any) -> dict[str, Any]:
    return dict(await json_of(await client.post("/v1/titles", json=fields, headers=auth), 201))


async def test_certification_round_trip_and_validation(client: TestClient, auth: Headers) -> None:
    title = await create(client, auth, title="Certified", certification=" pg-13", rating=6.5)
    assert (title["certification"], title["rating"]) == ("PG-13", 6.5)  # two things apart
    path = f"/v1/titles/{title['id']}"
    patched = await json_of(await client.patch(path, json={"certification": "R"}, headers=auth))
    assert TitleDetail.model_validate(patched).certification == "R"
    cleared = await json_of(await client.patch(path, json={"certification": None}, headers=auth))
    assert cleared["certification"] is None and cleared["rating"] == 6.5
    for method, where, body in (
        ("POST", "/v1/titles", {"title": "x", "certification": "XYZ"}),
        ("PATCH", path, {"certification": "XYZ"}),
        ("POST", "/v1/titles", {"title": "x", "certification": "PG 13"}),  # not even a shape
    ):
        error = await json_of(await client.request(method, where, json=body, headers=auth), 400)
        assert error["error"]["code"] == "invalid_request"
        assert error["error"]["details"][0]["field"] == "certification", error


async def test_an_import_sets_certifications_and_keeps_them_when_a_row_has_none(
    client: TestClient, auth: Headers
) -> None:
    first, second = (uuid.uuid4().int % 2**30 + 1 for _ in range(2))
    rows = [{"title": "Imported", "tmdb_id": first, "certification": "tv-14"},
            {"title": "Refused", "tmdb_id": second, "certification": "Z-99"}]  # fmt: skip

    async def post(titles: list[dict[str, Any]]) -> dict[str, Any]:
        response = await client.post("/v1/titles/batch", json={"titles": titles}, headers=auth)
        return dict(await json_of(response))

    outcome = await post(rows)
    assert (outcome["created"], outcome["failed"]) == (1, 1)
    assert outcome["results"][1]["error"].startswith("certification: unknown certification")
    title_id = outcome["results"][0]["id"]
    document = await json_of(await client.get(f"/v1/titles/{title_id}", headers=auth))
    assert document["certification"] == "TV-14"
    # MovieLens-like data has no certification: re-importing it keeps the one set.
    again = await post([{"title": "Imported", "tmdb_id": first}])
    assert again["unchanged"] == 1
    document = await json_of(await client.get(f"/v1/titles/{title_id}", headers=auth))
    assert document["certification"] == "TV-14"


def test_the_cli_imports_certifications(stack: Settings, tmp_path: Path) -> None:
    """`streamcore titles import` of a CSV with a certification column, through the gateway to
    the stack's own catalog (with the service account key the CLI finds in the settings)."""
    first = uuid.uuid4().int % 2**30 + 1
    catalog = tmp_path / "certified.csv"
    catalog.write_text(
        "kind,tmdb_id,title,certification\n"
        f"movie,{first},Imported G,g\nmovie,{first + 1},Imported none,\n"
        f"movie,{first + 2},Imported bad,Q-1\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "cli", "titles", "import", str(catalog), "--json"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    summary = json.loads(result.stdout)
    assert result.returncode == 1 and (summary["created"], summary["failed"]) == (2, 1), summary
    assert summary["errors"][0]["row"] == 3
    assert summary["errors"][0]["message"].startswith("certification: unknown certification")
    key = {"Authorization": f"Bearer {stack.auth.service_key().get_secret_value()}"}
    found = {}
    for tmdb_id in (first, first + 1):
        page = httpx.get(f"{stack.api_url}/v1/titles", params={"tmdb_id": tmdb_id},
                         headers=key, timeout=10).json()  # fmt: skip
        found[tmdb_id] = page["items"][0]["certification"]
    assert found == {first: "G", first + 1: None}


@pytest.fixture
async def shelf(client: TestClient, auth: Headers) -> dict[str, Any]:
    """Titles of every kind of certification, under a genre of their own."""
    tag = f"M{uuid.uuid4().hex[:10]}"
    word = uuid.uuid4().hex[:8]
    made = {
        name: await create(client, auth, title=f"{word} {name}", genres=[tag], certification=c)
        for name, c in (("g", "G"), ("pg13", "PG-13"), ("r", "R"), ("none", None))
    }
    series = await create(client, auth, title=f"{word} series", kind="series", genres=[tag],
                          certification="TV-Y")  # fmt: skip
    episodes = [
        await create(client, auth, title=f"E{n}", kind="episode", series_id=series["id"],
                     season_number=1, episode_number=n, genres=[tag], certification=c)
        for n, c in ((1, None), (2, "TV-MA"), (3, "TV-Y7"))
    ]  # fmt: skip
    return {"tag": tag, "word": word, **made, "series": series, "episodes": episodes}


def _ids(page: dict[str, Any]) -> set[str]:
    return {t["id"] for t in page["items"]}


async def test_a_kids_profile_sees_only_titles_at_or_below_its_level(
    client: TestClient, stack: Settings, shelf: dict[str, Any]
) -> None:
    kids = bearer(stack, Role.VIEWER, "kids")
    teen = bearer(stack, Role.VIEWER, "teen")
    adult = bearer(stack, Role.VIEWER, "adult")
    everything = {shelf[n]["id"] for n in ("g", "pg13", "r", "none", "series")}

    async def listed(headers: Headers, **params: str) -> set[str]:
        page = await fetch(client, "/v1/titles", headers, {"genre": shelf["tag"], **params})
        assert page.status == 200, page.body
        TitlePage.model_validate(page.body)
        return _ids(page.body)

    async def sees(headers: Headers, expected: set[str]) -> None:
        await settled(lambda: listed(headers), lambda ids: ids == expected)

    await sees(adult, everything)
    await sees({}, everything)  # anonymous: no profile, no filter
    await sees(kids, {shelf["g"]["id"], shelf["series"]["id"]})
    await sees(teen, {shelf[n]["id"] for n in ("g", "pg13", "series")})
    # Search is a list: the same filter.
    found = await listed(kids, q=shelf["word"])
    assert found == {shelf["g"]["id"], shelf["series"]["id"]}
    # Episodes: their own certification, else their series' (TV-Y).
    first, second, third = (e["id"] for e in shelf["episodes"])
    assert await listed(kids, kind="episode") == {first, third}
    assert await listed(adult, kind="episode") == {first, second, third}

    # A title's page: a hidden title is absent; a series shows only the episodes allowed.
    for name, status in (("g", 200), ("r", 404), ("none", 404), ("pg13", 404)):
        response = await client.get(f"/v1/titles/{shelf[name]['id']}", headers=kids)
        assert response.status == status, name
        if status == 404:
            assert (await response.json())["error"]["code"] == "not_found"
    assert (await client.get(f"/v1/titles/{shelf['r']['id']}", headers=adult)).status == 200
    series = await json_of(await client.get(f"/v1/titles/{shelf['series']['id']}", headers=kids))
    assert [e["id"] for e in series["episodes"]] == [first, third]
    assert (await client.get(f"/v1/titles/{second}", headers=kids)).status == 404
    episode = await json_of(await client.get(f"/v1/titles/{first}", headers=kids))
    assert episode["series"]["certification"] == "TV-Y"
    # Admins are never filtered, whatever their profile.
    admin_kids = bearer(stack, Role.ADMIN, "kids")
    assert (await client.get(f"/v1/titles/{shelf['r']['id']}", headers=admin_kids)).status == 200


async def test_the_cache_does_not_leak_an_adult_title_to_a_kids_profile(
    client: TestClient, stack: Settings, shelf: dict[str, Any]
) -> None:
    kids, adult = bearer(stack, Role.VIEWER, "kids"), bearer(stack, Role.VIEWER, "adult")
    r_path = f"/v1/titles/{shelf['r']['id']}"
    query = {"genre": shelf["tag"], "limit": "10"}
    # Warmed by the adult, until served from a cache tier.
    await settled(lambda: fetch(client, r_path, adult), _cached)
    warm = await settled(lambda: fetch(client, "/v1/titles", adult, query), _cached)
    assert shelf["r"]["id"] in _ids(warm.body)
    assert warm.headers["Cache-Control"].startswith("private")
    assert "Authorization" in warm.headers.getall("Vary")

    # The document the adult's read just left in the cache, filtered for the kids profile:
    # absent, and again however often it is asked.
    await settled(lambda: fetch(client, r_path, adult), _cached)
    for _ in range(3):
        hidden = await fetch(client, r_path, kids)
        assert hidden.status == 404 and hidden.body["error"]["code"] == "not_found"
    # A page of its own (its level is in the key), cached too, never the adult's.
    page = await settled(lambda: fetch(client, "/v1/titles", kids, query), _cached)
    assert _ids(page.body) == {shelf["g"]["id"], shelf["series"]["id"]}
    assert _ids((await fetch(client, "/v1/titles", adult, query)).body) == _ids(warm.body)
    # Anonymous answers may be kept by shared caches, but only for anonymous requests.
    anonymous = await fetch(client, "/v1/titles", {}, query)
    assert anonymous.headers["Cache-Control"].startswith("public")
    assert "Authorization" in anonymous.headers.getall("Vary")


async def test_roles_decide_who_writes_titles(client: TestClient, stack: Settings) -> None:
    body = {"title": "By role"}
    anonymous = await client.post("/v1/titles", json=body)
    assert (await json_of(anonymous, 401))["error"]["code"] == "unauthorized"
    assert "Bearer" in anonymous.headers["WWW-Authenticate"]
    for role in (Role.VIEWER, Role.CREATOR):
        refused = await client.post("/v1/titles", json=body, headers=bearer(stack, role))
        assert (await json_of(refused, 403))["error"]["code"] == "forbidden", role
    tampered = bearer(stack, Role.ADMIN)["Authorization"][:-4] + "AAAA"
    response = await client.post("/v1/titles", json=body, headers={"Authorization": tampered})
    assert (await json_of(response, 401))["error"]["code"] == "invalid_token"
    await create(client, bearer(stack, Role.ADMIN), **body)  # a person with the admin role


async def _upload(client: TestClient, headers: Headers, name: str) -> aiohttp.ClientResponse:
    raw = {**headers, "Content-Type": "application/octet-stream", "X-Filename": name}
    return await client.post("/v1/assets", data=b"a creator's bytes", headers=raw)


async def test_creators_manage_only_their_own_assets(
    client: TestClient, stack: Settings, auth: Headers
) -> None:
    alice_id, bob_id = uuid.uuid4(), uuid.uuid4()
    alice = bearer(stack, Role.CREATOR, account=alice_id)
    bob = bearer(stack, Role.CREATOR, account=bob_id)
    assert (await _upload(client, bearer(stack, Role.VIEWER), "v.mp4")).status == 403
    mine = AssetOut.model_validate(await json_of(await _upload(client, alice, "a.mp4"), 202))
    assert mine.owner_account_id == alice_id and mine.source is not None
    theirs = await json_of(await _upload(client, bob, "b.mp4"), 202)

    own_list = await json_of(await client.get("/v1/assets", headers=alice))
    assert [a["id"] for a in own_list["items"]] == [str(mine.id)]
    admin_list = await json_of(await client.get("/v1/assets", params={"limit": 200}, headers=auth))
    assert {str(mine.id), theirs["id"]} <= {a["id"] for a in admin_list["items"]}

    # Another's asset: its public face only, and no way to touch it.
    public = await json_of(await client.get(f"/v1/assets/{theirs['id']}", headers=alice))
    assert "source" not in public and "owner_account_id" not in public
    assert public["certification"] is None  # in no title yet: counts as adult
    for method, path in (("DELETE", f"/v1/assets/{theirs['id']}"),
                         ("POST", f"/v1/assets/{theirs['id']}/reprocess")):  # fmt: skip
        refused = await client.request(method, path, headers=alice)
        assert (await json_of(refused, 404))["error"]["code"] == "not_found", method
    # Its own: the managed fields, and the state machine's answer rather than a 404.
    own = await json_of(await client.get(f"/v1/assets/{mine.id}", headers=alice))
    assert own["owner_account_id"] == str(alice_id) and own["source"]["filename"] == "a.mp4"
    reprocess = await client.post(f"/v1/assets/{mine.id}/reprocess", headers=alice)
    assert reprocess.status in (202, 409), await reprocess.text()
    assert (await client.delete(f"/v1/assets/{mine.id}", headers=alice)).status == 202
    # Admins (here the service account key the streaming service uses) manage all.
    seen = await json_of(await client.get(f"/v1/assets/{theirs['id']}", headers=auth))
    assert seen["owner_account_id"] == str(bob_id) and "source" in seen
    assert (await client.delete(f"/v1/assets/{theirs['id']}", headers=auth)).status == 202


async def test_an_assets_certification_is_the_strictest_of_its_titles(
    client: TestClient, stack: Settings, auth: Headers
) -> None:
    asset_id = await catalog_row(stack)
    kids = bearer(stack, Role.VIEWER, "kids")
    path = f"/v1/assets/{asset_id}"

    async def certification() -> Any:
        return (await json_of(await client.get(path, headers=auth)))["certification"]

    assert await certification() is None
    assert (await client.get(path, headers=kids)).status == 404  # in no title: adult
    cartoon = await create(client, auth, title="Cartoon", certification="G")
    attach = f"/v1/titles/{cartoon['id']}/assets/{asset_id}"
    await json_of(await client.put(attach, json={"role": "extra"}, headers=auth))
    assert await certification() == "G"
    assert AssetOut.model_validate(await json_of(await client.get(path, headers=kids)))
    drama = await create(client, auth, title="Drama", certification="PG-13")
    await json_of(await client.put(f"/v1/titles/{drama['id']}/assets/{asset_id}", json={},
                                   headers=auth))  # fmt: skip
    assert await certification() == "PG-13"
    assert (await client.get(path, headers=kids)).status == 404
    plain = await create(client, auth, title="Uncertified")
    await json_of(await client.put(f"/v1/titles/{plain['id']}/assets/{asset_id}", json={},
                                   headers=auth))  # fmt: skip
    assert await certification() is None


async def test_players_on_other_origins_may_send_their_token(client: TestClient) -> None:
    asked = {"Origin": "https://player.example", "Access-Control-Request-Method": "GET",
             "Access-Control-Request-Headers": "authorization"}  # fmt: skip
    preflight = await client.options("/v1/titles", headers=asked)
    assert preflight.status == 204
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
