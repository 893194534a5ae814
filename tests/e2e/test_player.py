"""The web player in a real Chromium against the real stack: it plays, adapts, falls back, resumes.

The page is served by the catalog API (/player/) and plays from the local edge and the origin,
other origins, so CORS is exercised on every request. Times are the player's own clock
(`Date.now()` in the page) unless said otherwise.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from streamcore.settings import Settings
from tests.e2e.conftest import PlayerAsset, origin_of
from tests.e2e.driver import PlayerPage
from tests.e2e.test_player_accounts import ADULT, make_account, sign_in

pytestmark = pytest.mark.stack

# The player plays as an anonymous viewer (the test config allows them), on the free plan: its
# token opens, and its master lists, the renditions up to 480p (configs/plans.yaml). The
# adaptation test signs in a Standard subscriber instead, whose ladder goes up to 720p: three
# rungs, 360p (about 0.45 Mbit/s), 480p (0.75) and 720p, the top one beyond the cap.
TOP = 480  # the free plan's
TOP_STANDARD = 720
CAP_BPS = 400_000


def test_plays_first_frame_and_advances(player: PlayerPage) -> None:
    player.open()
    player.wait_playing()
    assert player.page.evaluate("document.getElementById('video').readyState") >= 2
    # Past the clip's one-second fade-in from black: a painted, non-uniform test pattern.
    player.wait_for("s.currentTime > 1.5", timeout_ms=5000)
    frame = player.frame_stats()
    assert frame["mean"] > 20 and frame["stddev"] > 20, f"black or blank frame: {frame}"
    before = player.value("s.currentTime")
    player.page.wait_for_timeout(1500)
    assert player.value("s.currentTime") > before + 1, "the playhead does not advance"
    state = player.state()
    assert state["engine"] == "hls" and state["activeSource"] == "edge"
    assert [level["height"] for level in state["levels"]] == [360, TOP]
    expect(player.page.get_by_test_id("active-source")).to_have_text("edge")


def test_poster_and_scrub_previews(player: PlayerPage, player_asset: PlayerAsset) -> None:
    player.open()
    player.wait_for("s.poster !== null && s.storyboard.cues > 0", timeout_ms=10000)
    poster = player.page.get_by_test_id("video").get_attribute("poster")
    assert poster and "/poster/" in poster
    assert player.page.evaluate(
        "async (url) => (await fetch(url)).headers.get('content-type')", poster
    ).startswith("image/jpeg")
    player.wait_for("s.duration > 0", timeout_ms=10000)
    bar = player.page.get_by_test_id("seek").bounding_box()
    assert bar is not None
    player.page.mouse.move(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 2)
    preview = player.page.get_by_test_id("preview")
    expect(preview).to_be_visible()
    sprite = player.page.get_by_test_id("preview-image").get_attribute("data-sprite")
    assert sprite and "/storyboard/sprite_" in sprite
    shown_at = float(preview.get_attribute("data-time") or "nan")
    assert abs(shown_at - player_asset.duration_s / 2) < 3, shown_at


def test_auto_quality_follows_the_bandwidth(player: PlayerPage, stack: Settings) -> None:
    player.cap_download(None)
    sign_in(player, make_account(stack, plan="standard").email, ADULT)
    top = player.level_index(TOP_STANDARD)
    player.wait_for(
        f"s.currentLevel === {top} && s.loadingLevel === {top} && s.bufferAhead >= s.bufferTarget",
        timeout_ms=15000,
    )
    # The player only learns about the network when it downloads: cap it just before its next
    # segment request (the buffer about to fall under its target), not at a random point of
    # the 4-second cycle, so that "within 5 s" measures the player and not the schedule.
    player.wait_for(
        "s.bufferAhead > s.bufferTarget && s.bufferAhead <= s.bufferTarget + 0.3",
        timeout_ms=10000,
    )
    player.cap_download(CAP_BPS)
    capped_at = player.now_ms()
    player.wait_for(f"s.loadingLevel < {top}", timeout_ms=8000)
    down = next(
        s for s in player.state()["switches"] if s["at"] >= capped_at and s["kind"] == "rendition"
    )
    assert down["reason"] == "abr" and down["from"] == top and down["to"] < top, down
    assert down["at"] - capped_at <= 5000, f"switched down {down['at'] - capped_at} ms after cap"

    # It stays down while the cap holds...
    for _ in range(4):
        player.page.wait_for_timeout(500)
        assert player.value("s.loadingLevel") < top
    # ...and climbs back once it lifts.
    player.cap_download(None)
    lifted_at = player.now_ms()
    player.wait_for(f"s.loadingLevel === {top}", timeout_ms=20000)
    up = [s for s in player.state()["switches"] if s["at"] >= lifted_at]
    assert up and all(s["reason"] == "abr" for s in up), up
    state = player.state()
    assert state["autoLevel"] is True and state["activeSource"] == "edge", state["errors"]


def test_a_manual_choice_sticks(player: PlayerPage) -> None:
    player.open()
    player.wait_playing()
    lowest = player.level_index(360)
    player.choose_quality(lowest)
    player.wait_for(f"s.currentLevel === {lowest}", timeout_ms=10000)
    # Bandwidth is plentiful, so Auto would climb: seek past the buffer to make the player
    # fetch several segments at once, and check that every one is still 360p.
    segments = player.record_requests("/video/")
    player.seek_with_bar(16)
    player.wait_for("s.currentTime > 17 && s.bufferAhead >= 8", timeout_ms=10000)
    fetched = [url for url in segments if urlsplit(url).path.endswith(".m4s")]  # CMCD: a query
    assert len(fetched) >= 2 and all("/video/360p/" in url for url in fetched), fetched
    state = player.state()
    assert state["autoLevel"] is False
    assert state["currentLevel"] == lowest and state["loadingLevel"] == lowest
    assert player.page.get_by_test_id("quality").input_value() == str(lowest)
    manual = [s for s in state["switches"] if s["reason"] == "manual"]
    assert manual and manual[-1]["to"] == lowest, state["switches"]
    assert not [s for s in state["switches"] if s["at"] > manual[-1]["at"] and s["reason"] == "abr"]


def test_forcing_the_top_rendition_does_not_stall_and_the_end_is_reached(
    player: PlayerPage, player_asset: PlayerAsset
) -> None:
    player.open()
    player.wait_playing()
    lowest, top = player.level_index(360), player.level_index(TOP)
    player.choose_quality(lowest)
    player.wait_for(f"s.currentLevel === {lowest}", timeout_ms=10000)

    stalls_before = len(player.state()["stalls"])
    started, position = time.monotonic(), player.value("s.currentTime")
    player.choose_quality(top)
    player.wait_for(f"s.currentLevel === {top}", timeout_ms=12000)
    elapsed = time.monotonic() - started
    advanced = player.value("s.currentTime") - position
    now, stalls = player.now_ms(), player.state()["stalls"][stalls_before:]
    long_stalls = [s for s in stalls if (s["duration_ms"] or now - s["at"]) > 1000]
    assert not long_stalls, stalls
    assert advanced >= elapsed - 1, f"played {advanced:.1f} s in {elapsed:.1f} s"

    player.seek_with_bar(player_asset.duration_s - 2)
    player.wait_for("s.phase === 'ended'", timeout_ms=10000)
    assert player.page.evaluate("document.getElementById('video').ended") is True
    # The end flushes the playback events and saves the position: the analytics collector
    # took every event, the streaming service the position.
    player.wait_for("s.events.queued === 0 && s.progress.last?.reason === 'ended'", timeout_ms=5000)
    player.wait_for("s.events.sent > 0 && s.progress.sent > 0", timeout_ms=5000)
    state = player.state()
    assert state["events"]["tracked"].get("complete") == 1, state["events"]
    assert state["events"]["failed"] == 0, state["events"]
    assert state["progress"]["failed"] == 0, state


@pytest.mark.parametrize("failure", [403, 404, 503, "hang"])
def test_a_failing_primary_falls_back_to_the_origin(player: PlayerPage, failure: int | str) -> None:
    masters = player.record_requests("master.m3u8")
    player.open()
    player.wait_playing()
    player.wait_for("s.currentTime > 0.5", timeout_ms=5000)
    primary = origin_of(player.value("s.poster"))
    assert player.value("s.activeSource") == "edge"
    hits = player.break_host(primary, failure)
    # hls.js gives up on a hung request after 4 s without a first byte.
    player.wait_for("s.activeSource === 'origin'", timeout_ms=15000)
    assert hits, "the player never asked the broken primary"
    fallback = next(s for s in player.state()["switches"] if s["kind"] == "source")
    assert fallback["from"] == "edge" and fallback["to"] == "origin"
    assert fallback["reason"] == "fallback"
    if failure == "hang":
        assert "TimeOut" in fallback["details"], fallback
    else:
        assert fallback["status"] == failure, fallback
    # Playback goes on from where it was, not from the start.
    resumed_from = fallback["position_s"]
    assert resumed_from > 0.5
    player.wait_for(
        f"s.phase === 'playing' && s.currentTime > {resumed_from} + 1.5", timeout_ms=10000
    )
    expect(player.page.get_by_test_id("active-source")).to_have_text("origin")
    expect(player.page.get_by_test_id("switches")).to_contain_text("edge → origin · fallback")
    # Content steering moved hls.js to the origin's pathway of the master it had: no master
    # playlist was loaded again, and the buffer was kept.
    assert [origin_of(m) for m in masters] == [primary], masters
    assert player.value("s.pathway") == "origin"


def test_an_expired_token_gets_fresh_urls_without_leaving_the_source(player: PlayerPage) -> None:
    # Where playback URLs come from: the stream slot's start and heartbeats, or GET
    # /v1/playback/{id} (not the steering manifests, /v1/playback/{id}/steering/...).
    grants = player.record_requests("/v1/")
    player.open()
    player.wait_playing()
    # At least a second after the playback URLs were signed, so that fresh ones differ.
    player.wait_for("s.currentTime > 1.2", timeout_ms=5000)
    before = len(grants)
    refused = player.expire_token(origin_of(player.value("s.poster")))
    player.wait_for("s.switches.some((x) => x.reason === 'token')", timeout_ms=15000)
    fresh = [url for url in grants[before:] if _grants_urls(url)]
    assert refused and fresh, (refused, grants)
    position = player.value("s.currentTime")
    player.wait_for(f"s.currentTime > {position} + 1.5", timeout_ms=10000)
    state = player.state()
    assert state["activeSource"] == "edge"
    assert not [s for s in state["switches"] if s["reason"] == "fallback"], state["switches"]


def _grants_urls(url: str) -> bool:
    path = url.split("/v1/", 1)[1]
    playback = path.startswith("playback/") and "/steering/" not in path
    return playback or path.endswith("/heartbeat")


def test_resume_where_the_viewer_left(player: PlayerPage) -> None:
    player.open()
    player.wait_playing()
    player.seek_with_bar(20)
    player.wait_for("s.currentTime > 21", timeout_ms=10000)
    with player.page.expect_response(
        lambda r: r.request.method == "PUT" and "/progress" in r.url and r.status == 204
    ):
        player.toggle_play()  # pause: reports the position
    left_at = player.value("s.currentTime")

    player.page.reload()
    resume = player.page.locator("#resume")
    expect(resume).to_be_visible(timeout=10000)
    expect(player.page.locator("#start-over")).to_be_visible()
    offered = player.value("s.resume.position_s")
    assert abs(offered - left_at) <= 10, (offered, left_at)
    minutes, seconds = divmod(int(offered), 60)
    expect(resume).to_have_text(f"Resume from {minutes}:{seconds:02d}")

    resume.click()
    player.wait_playing()
    position = player.value("s.currentTime")
    assert left_at - 1 <= position <= left_at + 3, (position, left_at)


def test_dash_plays_the_same_asset(player: PlayerPage) -> None:
    player.open(engine="dash")
    player.wait_playing()
    before = player.value("s.currentTime")
    player.page.wait_for_timeout(1500)
    state = player.state()
    assert state["engine"] == "dash" and state["activeSource"] == "edge"
    assert state["currentTime"] > before + 1
    assert state["levels"] and state["currentLevel"] >= 0, state["levels"]
    assert state["errors"] == [], state["errors"]
    expect(player.page.get_by_test_id("stat-engine")).to_contain_text("dash.js")
