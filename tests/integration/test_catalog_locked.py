"""Premium titles locked for callers whose plan does not include them (issue 13), against the
real stack's database and cache: marked ``locked``, never hidden, in every title view (lists,
search, a title, a series' episodes) and on an asset.

Entitlements come from `tests/entitlements_standin.py`: a real aiohttp server answering the
subscriptions service's ``GET /v1/entitlements/{account_id}`` as the contract says, so that a
test can give an account any plan at once, or take the endpoint down, without moving the
shared test clock; the catalog's client calls it over HTTP as it calls the real one
(``subscriptions.entitlements_url``). The real service's answers reach the stack's catalog in
tests/integration/subscriptions/test_subscriptions_playback.py. Viewers' access tokens are
minted with the stack's keys, as in test_catalog_auth.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from catalog_api.app import create_app
from catalog_api.openapi.schemas import AssetOut
from catalog_api.titles.responses import TitleDetail, TitlePage
from streamcore.auth.roles import Role
from streamcore.settings import Settings
from tests.entitlements_standin import EntitlementsStandIn, entitlements_standin
from tests.integration.published import catalog_row
from tests.integration.test_catalog_auth import _local_keys, bearer, create, fetch, json_of, settled

pytestmark = pytest.mark.stack
Headers = dict[str, str]
CACHE_S = 2.0  # subscriptions.entitlements_cache_s here: short, so a plan change shows fast


@pytest.fixture
async def standin(stack: Settings) -> AsyncIterator[EntitlementsStandIn]:
    async with entitlements_standin(stack) as server:
        yield server


@pytest.fixture
async def client(stack: Settings, standin: EntitlementsStandIn) -> AsyncIterator[TestClient]:
    """The catalog from its factory, asking the stand-in for entitlements."""
    section = stack.subscriptions.model_copy(
        update={"entitlements_url": standin.url, "entitlements_cache_s": CACHE_S}
    )
    app = create_app(stack.model_copy(update={"subscriptions": section}))
    app.on_startup.append(_local_keys)
    async with TestClient(TestServer(app)) as c:
        yield c


@pytest.fixture
async def shelf(client: TestClient, stack: Settings, auth: Headers) -> dict[str, Any]:
    """Free and premium titles under a genre and a word of their own; a free series with a
    free and a premium episode; a premium series whose episode is premium by inheritance; an
    asset of the premium film."""
    tag, word = f"L{uuid.uuid4().hex[:10]}", uuid.uuid4().hex[:8]
    free = await create(client, auth, title=f"{word} free", genres=[tag])
    premium = await create(client, auth, title=f"{word} premium", genres=[tag], access="premium")
    series = await create(client, auth, title=f"{word} series", kind="series", genres=[tag])
    episodes = [
        await create(client, auth, title=f"E{n}", kind="episode", series_id=series["id"],
                     season_number=1, episode_number=n, access=access)
        for n, access in ((1, "free"), (2, "premium"))
    ]  # fmt: skip
    show = await create(client, auth, title=f"{word} show", kind="series", genres=[tag],
                        access="premium")  # fmt: skip
    await create(client, auth, title="S1", kind="episode", series_id=show["id"],
                 season_number=1, episode_number=1)  # fmt: skip
    asset_id = await catalog_row(stack)
    await json_of(await client.put(f"/v1/titles/{premium['id']}/assets/{asset_id}", json={},
                                   headers=auth))  # fmt: skip
    return {"tag": tag, "word": word, "free": free, "premium": premium, "series": series,
            "episodes": episodes, "show": show, "asset": str(asset_id)}  # fmt: skip


async def _views(client: TestClient, shelf: dict[str, Any], headers: Headers) -> dict[str, bool]:
    """`locked` of every title view, by name (the lists settled: readers may be on the replica)."""
    listed = await settled(
        lambda: fetch(client, "/v1/titles", headers, {"genre": shelf["tag"]}),
        lambda a: a.status == 200 and len(a.body["items"]) == 4,
    )
    found = await settled(
        lambda: fetch(client, "/v1/titles", headers, {"q": shelf["word"]}),
        lambda a: a.status == 200 and len(a.body["items"]) == 4,
    )
    series = await settled(
        lambda: fetch(client, f"/v1/titles/{shelf['series']['id']}", headers),
        lambda a: a.status == 200 and len(a.body["episodes"]) == 2,
    )
    show = await settled(
        lambda: fetch(client, f"/v1/titles/{shelf['show']['id']}", headers),
        lambda a: a.status == 200 and len(a.body["episodes"]) == 1,
    )
    title = await fetch(client, f"/v1/titles/{shelf['premium']['id']}", headers)
    asset = await fetch(client, f"/v1/assets/{shelf['asset']}", headers)
    for page in (listed, found):
        TitlePage.model_validate(page.body)
        assert page.headers["Vary"] == "Authorization"
    for answer in (series, show, title):
        TitleDetail.model_validate(answer.body)
    AssetOut.model_validate(asset.body)
    by_title = {t["title"].removeprefix(f"{shelf['word']} "): t["locked"]
                for t in listed.body["items"]}  # fmt: skip
    assert {t["id"]: t["locked"] for t in found.body["items"]} == {
        t["id"]: t["locked"] for t in listed.body["items"]
    }
    return {
        **{f"list {name}": locked for name, locked in by_title.items()},
        **{f"episode {e['title']}": e["locked"] for e in series.body["episodes"]},
        "series": series.body["locked"],
        "show": show.body["locked"],
        "show episode": show.body["episodes"][0]["locked"],
        "title": title.body["locked"],
        "asset": asset.body["locked"],
    }


def _locked_when(premium_locked: bool) -> dict[str, bool]:
    """What every view says when premium titles are (not) locked: free titles never are."""
    p = premium_locked
    return {"list free": False, "list premium": p, "list series": False, "list show": p,
            "episode E1": False, "episode E2": p, "series": False, "show": p,
            "show episode": p, "title": p, "asset": p}  # fmt: skip


async def test_a_free_account_sees_premium_titles_locked_not_hidden(
    client: TestClient, stack: Settings, standin: EntitlementsStandIn, shelf: dict[str, Any]
) -> None:
    account = uuid.uuid4()
    standin.grant(account, "free")
    viewer = bearer(stack, Role.VIEWER, account=account)
    assert await _views(client, shelf, viewer) == _locked_when(True)
    assert set(standin.calls) == {account}
    # One lookup per request at most (then the client's cache), never one per title.
    await asyncio.sleep(CACHE_S)
    before = len(standin.calls)
    page = await fetch(client, "/v1/titles", viewer, {"genre": shelf["tag"]})
    assert len(page.body["items"]) == 4 and len(standin.calls) == before + 1


async def test_a_premium_account_sees_nothing_locked(
    client: TestClient, stack: Settings, standin: EntitlementsStandIn, shelf: dict[str, Any]
) -> None:
    account = uuid.uuid4()
    standin.grant(account, "premium")
    viewer = bearer(stack, Role.VIEWER, account=account)
    assert await _views(client, shelf, viewer) == _locked_when(False)
    # A plan without premium titles (but paid, and Active) still locks them.
    standard = uuid.uuid4()
    standin.grant(standard, "standard")
    viewer = bearer(stack, Role.VIEWER, account=standard)
    assert await _views(client, shelf, viewer) == _locked_when(True)


async def test_anonymous_callers_have_the_free_plan_and_admins_nothing_locked(
    client: TestClient, standin: EntitlementsStandIn, shelf: dict[str, Any], auth: Headers
) -> None:
    assert await _views(client, shelf, {}) == _locked_when(True)
    assert await _views(client, shelf, auth) == _locked_when(False)  # the admin service key
    assert standin.calls == []  # neither is asked about


async def test_an_entitlement_change_shows_within_the_cache_time(
    client: TestClient, stack: Settings, standin: EntitlementsStandIn, shelf: dict[str, Any]
) -> None:
    account = uuid.uuid4()
    viewer = bearer(stack, Role.VIEWER, account=account)
    path = f"/v1/titles/{shelf['premium']['id']}"

    async def locked() -> bool:
        answer = await fetch(client, path, viewer)
        assert answer.status == 200, answer.body
        return bool(answer.body["locked"])

    assert await locked()
    asked = time.monotonic()
    standin.grant(account, "premium")  # subscribed
    if time.monotonic() - asked < CACHE_S / 2:
        assert await locked()  # the remembered answer, for at most CACHE_S
    while await locked():
        assert time.monotonic() - asked < CACHE_S + 1.0, "the new plan never showed"
        await asyncio.sleep(0.1)
    standin.grant(account, "free", state="Suspended")  # and lost again
    asked = time.monotonic()
    while not await locked():
        assert time.monotonic() - asked < CACHE_S + 1.0, "the lost access never showed"
        await asyncio.sleep(0.1)
    assert len(standin.calls) <= 4  # one lookup per cache period, not one per request


async def test_an_unavailable_subscriptions_service_locks_premium_titles(
    client: TestClient,
    stack: Settings,
    standin: EntitlementsStandIn,
    shelf: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Fail closed: premium titles locked, free ones not, the listing a 200 (not a 5xx),
    logged, and kept by the caller's cache only until the client may ask again."""
    standin.status = 503
    account = uuid.uuid4()
    standin.grant(account, "premium")  # what the service would say, could it answer
    viewer = bearer(stack, Role.VIEWER, account=account)
    with caplog.at_level(logging.WARNING, logger="catalog_api.locks"):
        assert await _views(client, shelf, viewer) == _locked_when(True)
    assert any("premium titles locked" in r.getMessage() for r in caplog.records)
    page = await fetch(client, "/v1/titles", viewer, {"genre": shelf["tag"]})
    reset_s = stack.subscriptions.entitlements_breaker_reset_s  # kept until it may ask again
    assert page.status == 200 and page.headers["Cache-Control"] == f"private, max-age={reset_s:.0f}"
    standin.status = 200  # back: the account's plan applies again (once the breaker allows)
    await settled(
        lambda: fetch(client, f"/v1/titles/{shelf['premium']['id']}", viewer),
        lambda a: a.status == 200 and a.body["locked"] is False,
    )
