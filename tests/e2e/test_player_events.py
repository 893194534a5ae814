"""Playback events, beacons and CMCD from the web player in a real Chromium, against the stack.

One playback session id everywhere: the events' batches, the CMCD ``sid`` of every manifest and
segment request, the playback token's signed ``sid`` claim, and the origin's (here: the local
edge's, which serves the player first) per-session delivery record in Redis.

What the browser sent is seen through Playwright's request events (real requests to the real
stack); what arrived, through the analytics service: the collector took every batch (the
player counts no failure), and the processor made the session's QoE row from them (its
startup time, the time played, the rendition it ended on).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
import redis
from playwright.sync_api import Request

from devstack import control
from streamcore import cmcd, delivery, signing
from streamcore.settings import Settings
from tests.e2e.driver import PlayerPage
from tests.e2e.test_player_accounts import ADULT, make_account, sign_in

pytestmark = pytest.mark.stack
T = TypeVar("T")

FORM = "application/x-www-form-urlencoded"
HIDE_PAGE_JS = """() => {
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


@dataclass
class Sent:
    """What the page sent: event batches (fetch: JSON; beacons: forms) and media URLs."""

    batches: list[dict[str, Any]] = field(default_factory=list)
    beacons: list[dict[str, list[str]]] = field(default_factory=list)
    fetch_headers: list[dict[str, str]] = field(default_factory=list)
    media: list[str] = field(default_factory=list)

    def on_request(self, request: Request) -> None:
        path = urlsplit(request.url).path
        if path == "/v1/events" and request.method == "POST":
            content_type = request.headers.get("content-type", "")
            body = request.post_data or ""
            if content_type.startswith(FORM):
                form = parse_qs(body, strict_parsing=True)
                self.beacons.append(form)
                self.batches.append(json.loads(form["batch"][0]))
            else:
                assert content_type.startswith("application/json"), content_type
                self.fetch_headers.append(dict(request.headers))
                self.batches.append(json.loads(body))
        elif path.endswith((".m4s", ".m3u8", ".mpd")) and "/t/" in path:
            self.media.append(request.url)

    def events(self) -> list[dict[str, Any]]:
        return [event for batch in self.batches for event in batch["events"]]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.events() if event["type"] == kind]


@pytest.fixture
def sent(player: PlayerPage) -> Iterator[Sent]:
    record = Sent()
    player.page.on("request", record.on_request)
    yield record


def _other_level(player: PlayerPage) -> int:
    """A rendition other than the one on screen (the free plan has 360p and 480p)."""
    player.wait_for("s.currentLevel >= 0", timeout_ms=10000)
    state = player.state()
    return next(lv["index"] for lv in state["levels"] if lv["index"] != state["currentLevel"])


def _play_switch_and_hide(player: PlayerPage, sent: Sent) -> dict[str, Any]:
    """Play, switch rendition by hand, wait for a heartbeat and a normal flush, then hide the
    page; the player state at the end."""
    player.wait_playing()
    target = _other_level(player)
    player.choose_quality(target)
    player.wait_for(f"s.currentLevel === {target}", timeout_ms=12000)
    player.wait_for("(s.events.tracked.heartbeat ?? 0) >= 1", timeout_ms=15000)
    # The 5 s timer has sent what was queued with fetch by now...
    player.wait_for("s.events.queued === 0 && s.events.sent + s.events.failed > 0", timeout_ms=8000)
    # ...and hiding the page sends the rest (its heartbeat, at least) as a beacon.
    player.page.wait_for_timeout(1000)
    player.page.evaluate(HIDE_PAGE_JS)
    player.wait_for("s.events.beacons >= 1", timeout_ms=5000)
    deadline = time.monotonic() + 5
    while not sent.beacons and time.monotonic() < deadline:
        player.page.wait_for_timeout(100)
    state = player.state()
    assert sent.beacons, "no beacon request seen"
    return state


def _check_events(sent: Sent, session_id: str, asset_id: str) -> None:
    for batch in sent.batches:
        assert batch["session_id"] == session_id and batch["asset_id"] == asset_id, batch
        assert 0 < len(batch["events"]) <= 100
    events = sent.events()
    ids = [event["id"] for event in events]
    assert len(set(ids)) == len(ids) and all(uuid.UUID(i).version == 4 for i in ids), ids
    assert all(isinstance(event["at"], int) and event["at"] > 0 for event in events)
    types = [event["type"] for event in events]
    assert types[:2] == ["start", "first_frame"], types
    (start,) = sent.of_type("start")
    assert start["detail"] == {"engine": "hls", "autoplay": True}, start
    heartbeats = sent.of_type("heartbeat")
    assert heartbeats, types
    for beat in heartbeats:
        assert beat["detail"]["rendition"] in ("360p", "480p"), beat
        assert beat["detail"]["bitrate_kbps"] > 100, beat
    # Played time is what the playhead covered since the previous heartbeat (or the first
    # frame): never more than the wall clock allows, and all of it adds up.
    previous = sent.of_type("first_frame")[0]["at"]
    for beat in heartbeats:
        assert 0 <= beat["detail"]["played_ms"] <= beat["at"] - previous + 500, (beat, previous)
        previous = beat["at"]
    assert sum(beat["detail"]["played_ms"] for beat in heartbeats) > 5000, heartbeats
    manual = [e for e in sent.of_type("rendition_switch") if e["detail"]["reason"] == "manual"]
    assert manual, sent.of_type("rendition_switch")
    switch = manual[-1]["detail"]
    assert switch["rendition"] in ("360p", "480p") and switch["bitrate_kbps"] > 100, switch
    assert switch["from_rendition"] != switch["rendition"], switch


def _cmcd_sid(url: str) -> object:
    values = parse_qs(urlsplit(url).query).get("CMCD")
    return cmcd.parse(values[0]).get("sid") if values else None


def _check_cmcd(
    sent: Sent, stack: Settings, session_id: str, asset_id: str, *, format_: str = "h"
) -> None:
    segments = [url for url in sent.media if urlsplit(url).path.endswith(".m4s")]
    assert len(segments) >= 3, sent.media
    for url in sent.media:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        assert "CMCD" in query, url
        data = cmcd.parse(query["CMCD"][0])
        assert data["sid"] == session_id and data["cid"] == asset_id, (url, data)
        if parts.path.endswith(".m4s"):
            assert data["ot"] in ("v", "a", "av", "i") and data["sf"] == format_, data
        token = parts.path.split("/t/", 1)[1].split("/", 1)[0]
        grant = signing.grant_of(token, stack.origin.signing_keys)
        assert grant is not None and grant.session_id == session_id, (url, grant)


def _delivery_record(stack: Settings, session_id: str) -> dict[str, str]:
    """The session's record in Redis, once the edge's flush (every few seconds) wrote it."""
    client = redis.Redis.from_url(stack.redis_dsn, decode_responses=True)
    try:
        deadline = time.monotonic() + delivery.FLUSH_EVERY_S * 3
        record: dict[str, str] = {}
        while time.monotonic() < deadline:
            record = client.hgetall(delivery.session_key(session_id))  # type: ignore[assignment]
            if int(record.get("requests", 0)) >= 3:
                break
            time.sleep(0.5)
        assert 0 < client.ttl(delivery.session_key(session_id)) <= delivery.RECORD_TTL_S
        return record
    finally:
        client.close()


def _analysed(stack: Settings, session_id: str, played_ms: int) -> dict[str, Any]:
    """The analytics service's row of the session, once it counts `played_ms` played."""
    key = stack.auth.service_key().get_secret_value()
    url = f"{stack.gateway.entry_url}/v1/analytics/sessions/{session_id}"
    deadline, found = time.monotonic() + 20, {}
    while time.monotonic() < deadline:
        answer = httpx.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=10)
        found = answer.json() if answer.status_code == 200 else {}
        if found and found["played_ms"] >= played_ms:
            return found
        time.sleep(0.5)
    raise AssertionError(f"the analytics service has not processed the session: {found}")


def test_an_anonymous_viewer_sends_events_a_beacon_and_cmcd_under_one_session(
    player: PlayerPage, sent: Sent, stack: Settings
) -> None:
    player.open()
    state = _play_switch_and_hide(player, sent)
    session_id = state["sessionId"]
    # Anonymous viewers hold a slot too (the test config allows them): its id is the session.
    assert session_id == state["session"]["id"], state["session"]
    assert state["viewerId"]
    _check_events(sent, session_id, player.asset_id)
    assert all(batch["viewer_id"] == state["viewerId"] for batch in sent.batches)
    # The beacon: a form with the batch alone (nobody is signed in), no Authorization possible.
    assert all(set(form) == {"batch"} for form in sent.beacons), sent.beacons
    beaconed = [e for form in sent.beacons for e in json.loads(form["batch"][0])["events"]]
    assert any(e["type"] == "heartbeat" for e in beaconed), beaconed
    assert all("authorization" not in headers for headers in sent.fetch_headers)
    _check_cmcd(sent, stack, session_id, player.asset_id)
    record = _delivery_record(stack, session_id)
    assert int(record["requests"]) >= 3 and int(record["bytes"]) > 100_000, record
    assert int(record.get("by:edge:edge", 0)) > 0 and int(record.get("ot:v", 0)) > 0, record
    assert int(record["br"]) > 100 and record["cid"] == player.asset_id, record
    assert "sid_mismatch" not in record and int(record["first_at"]) > 0, record
    assert state["events"]["failed"] == 0, state["events"]
    # Every heartbeat's played time, the beacon's included, counted exactly once.
    played = sum(beat["detail"]["played_ms"] for beat in sent.of_type("heartbeat"))
    row = _analysed(stack, session_id, played)
    assert row["played_ms"] == played, (row, played)
    assert row["asset_id"] == player.asset_id and row["startup_ms"] is not None, row


def test_a_signed_in_viewer_reports_under_its_stream_slot_with_the_token_in_the_beacon(
    player: PlayerPage, sent: Sent, stack: Settings
) -> None:
    account = make_account(stack)
    sign_in(player, account.email, ADULT)
    state = _play_switch_and_hide(player, sent)
    session_id = state["session"]["id"]
    assert state["sessionId"] == session_id
    access_token = player.page.evaluate(
        "JSON.parse(sessionStorage.getItem('streamcore.auth')).access_token"
    )
    # The page played anonymously before signing in (another session, before a navigation):
    # what counts here is what was sent under the slot's session.
    sent.batches = [b for b in sent.batches if b["session_id"] == session_id]
    assert sent.batches and all("viewer_id" not in b for b in sent.batches), sent.batches
    _check_events(sent, session_id, player.asset_id)
    assert sent.fetch_headers[-1]["authorization"] == f"Bearer {access_token}"
    beacons = [f for f in sent.beacons if json.loads(f["batch"][0])["session_id"] == session_id]
    assert beacons, sent.beacons
    for form in beacons:
        assert form["access_token"] == [access_token] and set(form) == {"batch", "access_token"}
    sent.media = [url for url in sent.media if _cmcd_sid(url) == session_id]
    _check_cmcd(sent, stack, session_id, player.asset_id)
    record = _delivery_record(stack, session_id)
    assert int(record["requests"]) >= 3, record


def test_dash_sends_cmcd_under_the_same_session(
    player: PlayerPage, sent: Sent, stack: Settings
) -> None:
    player.open(engine="dash")
    player.wait_playing()
    player.wait_for("s.currentTime > 3", timeout_ms=10000)
    state = player.state()
    session_id = state["sessionId"]
    assert session_id == state["session"]["id"]
    _check_cmcd(sent, stack, session_id, player.asset_id, format_="d")
    player.page.evaluate(HIDE_PAGE_JS)
    player.wait_for("s.events.beacons >= 1 || s.events.sent + s.events.failed > 0", timeout_ms=8000)
    deadline = time.monotonic() + 5
    while not sent.of_type("first_frame") and time.monotonic() < deadline:
        player.page.wait_for_timeout(100)
    (start,) = sent.of_type("start")
    assert start["detail"] == {"engine": "dash", "autoplay": True}, start
    assert sent.of_type("first_frame") and all(b["session_id"] == session_id for b in sent.batches)


def _stored_events(stack: Settings, session_id: str) -> list[str]:
    """The ids of the session's events in the analytics tables (what the processor stored)."""

    async def read() -> list[str]:
        conn = await asyncpg.connect(stack.postgres_dsn)
        try:
            rows = await conn.fetch(
                "SELECT id FROM analytics.events WHERE session_id = $1", session_id
            )
        finally:
            await conn.close()
        return [str(row["id"]) for row in rows]

    return _in_thread(asyncio.run, read())


def _in_thread(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in a thread of its own: Playwright's sync API keeps an event loop
    running in this one, and asyncio code (the stack's control too) needs one of its own."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(function, *args).result()


def test_events_played_while_the_processor_is_down_arrive_once(
    player: PlayerPage, sent: Sent, stack: Settings
) -> None:
    """The processor stopped, a real playback's events wait in the stream (the collector
    answers as ever); started again, it stores each of them exactly once."""
    _in_thread(control.stop_service, stack, "analytics-processor")
    try:
        player.open()
        state = _play_switch_and_hide(player, sent)
        session_id = state["sessionId"]
        assert state["events"]["failed"] == 0, state["events"]
        assert _stored_events(stack, session_id) == []
    finally:
        _in_thread(control.restart_service, stack, "analytics-processor")
    ids = sorted({event["id"] for event in sent.events()})
    played = sum(beat["detail"]["played_ms"] for beat in sent.of_type("heartbeat"))
    row = _analysed(stack, session_id, played)
    assert sorted(_stored_events(stack, session_id)) == ids
    assert row["played_ms"] == played and row["startup_ms"] is not None, row
