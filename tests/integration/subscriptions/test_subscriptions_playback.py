"""Issue 13 from the outside: every request through the test stack's gateway to its own
services (auth, subscriptions with its local billing provider, catalog, streaming) and the
media from its own origin and local edge — nothing built in this process, no stand-in.

- A premium title is locked and refused to a new account, playable once it subscribes, and
  refused again once a failed renewal has run through its grace period into Suspended: the
  next heartbeat is refused (the session ends), no new URL is issued, and the last one lapses
  at its expiry.
- The last URLs a suspended viewer was given lapse at their expiry (with a streaming service
  of short-lived tokens built here, against the same real services).
- On the Basic plan (720p), the URLs the streaming service hands out open 360p and 720p only:
  a guessed 1080p segment is refused by the origin and by the edge.

The subscription's time moves by the test clock (``subscriptions.test_clock``: an offset the
admin endpoint sets), and the tick runs at once through the admin endpoint.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import m3u8
import pytest

from streamcore.settings import Settings
from tests.integration.auth.auth_http import wait_for
from tests.integration.published import Ladder, catalog_row, publish_ladder
from tests.integration.subscriptions.subs_http import DAY, DECLINED, advance, person, tick
from tests.ladder_manifests import LADDER
from tests.streaming_http import Device, heartbeat, start_session, subscribed_app

pytestmark = pytest.mark.stack


def _titled(http: httpx.Client, stack: Settings, ladder: Ladder, access: str) -> str:
    """A catalog title of that access level, with the ladder's asset (a row of its own)."""
    admin = {"Authorization": f"Bearer {stack.auth.service_key().get_secret_value()}"}
    title = http.post("/v1/titles", json={"title": f"A {access} film", "access": access},
                      headers=admin)  # fmt: skip
    assert title.status_code == 201, title.text
    return str(title.json()["id"])


@pytest.fixture
def catalogued(stack: Settings) -> Ladder:
    """A published asset of three renditions, its files in the bucket, its row in the catalog
    (one per test: an asset is premium when any of its titles is)."""
    ladder = publish_ladder(stack)
    asyncio.run(catalog_row(stack, ladder.asset_id, renditions=LADDER))
    return ladder


def _attach(http: httpx.Client, stack: Settings, ladder: Ladder, access: str) -> str:
    admin = {"Authorization": f"Bearer {stack.auth.service_key().get_secret_value()}"}
    title_id = _titled(http, stack, ladder, access)
    put = http.put(f"/v1/titles/{title_id}/assets/{ladder.asset_id}", json={}, headers=admin)
    assert put.status_code in (200, 201), put.text
    return title_id


def _start(http: httpx.Client, headers: dict[str, str], asset_id: uuid.UUID) -> httpx.Response:
    return http.post("/v1/sessions", json={"asset_id": str(asset_id)}, headers=headers)


def _beat(http: httpx.Client, headers: dict[str, str], session: str) -> httpx.Response:
    return http.post(f"/v1/sessions/{session}/heartbeat", json={"position_s": 4},
                     headers=headers)  # fmt: skip


def _heights(master_url: str) -> set[int]:
    response = httpx.get(master_url, timeout=10)
    assert response.status_code == 200, response.text
    return {p.stream_info.resolution[1] for p in m3u8.loads(response.text).playlists}


def _locked(http: httpx.Client, headers: dict[str, str], title_id: str) -> Any:
    return http.get(f"/v1/titles/{title_id}", headers=headers).json()["locked"]


def test_a_premium_title_refused_then_playable_then_refused_after_suspension(
    stack: Settings, http: httpx.Client, admin: dict[str, str], catalogued: Ladder
) -> None:
    title_id = _attach(http, stack, catalogued, "premium")
    viewer = person(http)
    assert _locked(http, viewer.headers, title_id) is True  # listed, never hidden
    refused = _start(http, viewer.headers, catalogued.asset_id)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "not_entitled"

    body = {"plan": "premium", "payment_method": "pm_card_visa"}
    subscribed = http.post("/v1/subscription", json=body, headers=viewer.headers)
    assert subscribed.status_code == 201, subscribed.text
    assert subscribed.json()["state"] == "Active"
    # Playable at once: a refusal is always asked afresh (streamcore/entitlements_client.py).
    started = _start(http, viewer.headers, catalogued.asset_id)
    assert started.status_code == 201, started.text
    session, playback = started.json()["session_id"], started.json()["playback"]
    urls = {source["name"]: source for source in playback["sources"]}
    assert _heights(urls["edge"]["hls"]) == _heights(urls["origin"]["hls"]) == {360, 720, 1080}
    wait_for(lambda: _locked(http, viewer.headers, title_id) is False,
             timeout_s=stack.subscriptions.entitlements_cache_s + 5, what="unlocked")  # fmt: skip

    # The card fails from now on: the renewal at the period's end fails (GracePeriod, the
    # plan kept), the retries fail, and the grace period ends (Suspended, the free plan).
    changed = http.post("/v1/subscription/payment-method", json={"payment_method": DECLINED},
                        headers=viewer.headers)  # fmt: skip
    assert changed.status_code == 200, changed.text
    advance(http, admin, 32 * DAY)
    tick(http, admin)
    assert http.get("/v1/subscription", headers=viewer.headers).json()["state"] == "GracePeriod"
    assert _beat(http, viewer.headers, session).status_code == 200  # access kept in grace
    advance(http, admin, stack.subscriptions.grace_days * DAY + DAY)
    tick(http, admin)
    assert http.get("/v1/subscription", headers=viewer.headers).json()["state"] == "Suspended"

    # Consumers may remember the last answer entitlements_cache_s: within that, refused.
    beat = wait_for(
        lambda: (r := _beat(http, viewer.headers, session)).status_code != 200 and r,
        timeout_s=stack.subscriptions.entitlements_cache_s + 10, what="the heartbeat refused",
    )  # fmt: skip
    assert beat.status_code == 403 and beat.json()["error"]["code"] == "not_entitled", beat.text
    again = _start(http, viewer.headers, catalogued.asset_id)
    assert again.status_code == 403 and again.json()["error"]["code"] == "not_entitled"
    # The catalog may remember the last answer entitlements_cache_s too: locked again by then.
    wait_for(lambda: _locked(http, viewer.headers, title_id) is True,
             timeout_s=stack.subscriptions.entitlements_cache_s + 5, what="locked")  # fmt: skip
    # The last URLs issued lapse at their expiry, within the playback token's lifetime (seen
    # lapsing in test_a_suspended_viewers_last_urls_lapse_at_their_expiry).
    assert playback["expires_at"] <= time.time() + stack.streaming.playback_token_ttl_s
    events = http.get("/v1/subscription/events", headers=viewer.headers).json()["items"]
    moves = [(e["from_state"], e["to_state"]) for e in events if e["from_state"] != e["to_state"]]
    assert moves == [(None, "Active"), ("Active", "GracePeriod"), ("GracePeriod", "Suspended")]


def test_a_720p_plan_gets_720p_urls_and_a_guessed_1080p_segment_is_refused(
    stack: Settings, http: httpx.Client, catalogued: Ladder
) -> None:
    _attach(http, stack, catalogued, "free")
    viewer = person(http)
    body = {"plan": "basic", "payment_method": "pm_card_visa"}
    assert http.post("/v1/subscription", json=body, headers=viewer.headers).status_code == 201
    started = _start(http, viewer.headers, catalogued.asset_id)
    assert started.status_code == 201, started.text
    sources = {s["name"]: s for s in started.json()["playback"]["sources"]}
    assert set(sources) >= {"edge", "origin"}
    for name in ("edge", "origin"):
        master_url = sources[name]["hls"]
        assert _heights(master_url) == {360, 720}
        allowed = master_url.replace("master.m3u8", "video/720p/seg_00001.m4s")
        assert httpx.get(allowed, timeout=10).content == catalogued.segments["720p"]
        guessed = master_url.replace("master.m3u8", "video/1080p/seg_00001.m4s")
        refused = httpx.get(guessed, timeout=10)
        assert refused.status_code == 403, (name, refused.text)
        assert refused.json()["error"]["code"] == "rendition_not_allowed"


async def test_a_suspended_viewers_last_urls_lapse_at_their_expiry(
    stack: Settings, http: httpx.Client, admin: dict[str, str], catalogued: Ladder
) -> None:
    """The streaming service built here by its factory with playback tokens of 2 s (the
    stack's live 300 s, too long to wait for), asking the stack's own subscriptions service
    through the gateway, its URLs served by the stack's origin and edge: once the subscription
    is Suspended the heartbeat no longer renews them, and the last ones lapse at their expiry
    (plus the origin's allowed clock skew)."""
    _attach(http, stack, catalogued, "premium")
    viewer = person(http)
    device = Device(account_id=uuid.UUID(viewer.account_id))
    async with (
        httpx.AsyncClient(base_url=stack.gateway.entry_url, timeout=30) as api,
        subscribed_app(stack, playback_token_ttl_s=2) as app,
    ):
        body = {"plan": "premium", "payment_method": "pm_card_visa"}
        assert (await api.post("/v1/subscription", json=body, headers=viewer.headers)).is_success
        started = await start_session(app, stack, device, catalogued.asset_id)
        playback, session_id = started["playback"], started["session_id"]
        for url in _segments(playback).values():
            assert (await api.get(url)).content == catalogued.segments["1080p"]
        declined = {"payment_method": DECLINED}
        changed = await api.post("/v1/subscription/payment-method", json=declined,
                                 headers=viewer.headers)  # fmt: skip
        assert changed.status_code == 200, changed.text
        for days in (32, stack.subscriptions.grace_days + 1):
            moved = await api.post("/v1/admin/subscriptions/clock",
                                   json={"advance_s": days * DAY}, headers=admin)  # fmt: skip
            assert moved.status_code == 200, moved.text
            assert (await api.post("/v1/admin/subscriptions/tick", headers=admin)).is_success
        deadline = time.monotonic() + stack.subscriptions.entitlements_cache_s + 10
        while (beat := await heartbeat(app, stack, device, session_id))[0] == 200:
            assert time.monotonic() < deadline, "the heartbeat is still renewing the URLs"
            playback = beat[1]["playback"]
            await asyncio.sleep(1)
        assert beat[0] == 403 and beat[1]["error"]["code"] == "not_entitled", beat
        await asyncio.sleep(max(0.0, playback["expires_at"] + stack.origin.clock_skew_s + 1
                                - time.time()))  # fmt: skip
        for name, url in _segments(playback).items():
            refused = await api.get(url)
            assert refused.status_code == 403, (name, refused.status_code)


def _segments(playback: dict[str, Any]) -> dict[str, str]:
    """The 1080p segment's URL on every source of a playback answer."""
    return {
        s["name"]: s["hls"].replace("master.m3u8", "video/1080p/seg_00001.m4s")
        for s in playback["sources"]
    }
