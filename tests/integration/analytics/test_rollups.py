"""Rollup exactness: 20 sessions with chosen startup times, rebuffers, bitrates, switches, a
startup failure, an exit before video start and a playback failure; the minute's rows and the
read API's totals equal the numbers worked out by hand below, and a second run of the same
range writes identical rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from analytics.rollups import floor_minute
from streamcore.settings import Settings
from tests.integration.analytics.events import batch, event, heartbeat, stored, wait_for_events
from tests.integration.history.titles import Catalog

pytestmark = pytest.mark.stack

RENDITIONS = {2000: "480p", 3000: "720p", 4000: "1080p"}


def _played(i: int, start: datetime, startup_ms: int) -> list[dict[str, Any]]:
    """Sessions 0-15: startup 500 + 100 i ms, two heartbeats of 10 s at 2000/3000/4000 kbps."""
    kbps = 2000 + 1000 * (i % 3)
    ff = start + timedelta(milliseconds=startup_ms)
    events = [event("start", start), event("first_frame", ff),
              heartbeat(ff + timedelta(seconds=10), 10_000, kbps, RENDITIONS[kbps]),
              heartbeat(ff + timedelta(seconds=20), 10_000, kbps, RENDITIONS[kbps])]  # fmt: skip
    if i < 4:  # sessions 0-3 rebuffer once, 1 s
        events.append(event("buffering_end", ff + timedelta(seconds=15), duration_ms=1000))
    if i == 4:  # a seek's buffering is not a rebuffer
        events.append(event("buffering_end", ff + timedelta(seconds=15), duration_ms=3000,
                            cause="seek"))  # fmt: skip
    if i == 5:  # nor is buffering before the first frame
        events.append(event("buffering_end", start + timedelta(milliseconds=100),
                            duration_ms=100))  # fmt: skip
    if i in (0, 1, 2):  # two ABR switches and a manual one
        events.append(event("rendition_switch", ff + timedelta(seconds=12), rendition="1080p",
                            bitrate_kbps=4000, reason="abr" if i < 2 else "manual"))  # fmt: skip
    if i < 8:  # sessions 0-7 complete
        events.append(event("complete", ff + timedelta(seconds=25)))
    return events


def _scenario(base: datetime) -> list[list[dict[str, Any]]]:
    sessions = [_played(i, base + timedelta(seconds=i), 500 + 100 * i) for i in range(16)]
    s16, s17, s18, s19 = (base + timedelta(seconds=i) for i in (16, 17, 18, 19))
    sessions += [
        [event("start", s16), event("error", s16 + timedelta(seconds=2), fatal=True,
                                    code="manifestLoadError", message="404")],
        [event("start", s17)],  # an exit before video start (idle for hours)
        [event("start", s18), event("first_frame", s18 + timedelta(seconds=1)),
         heartbeat(s18 + timedelta(seconds=6), 5_000, 2000, "480p"),
         event("error", s18 + timedelta(seconds=7), fatal=True, code="mediaError")],
        [event("start", s19), event("first_frame", s19 + timedelta(seconds=1)),
         heartbeat(s19 + timedelta(seconds=11), 10_000, 3000, "720p"),
         event("error", s19 + timedelta(seconds=12), fatal=False, code="fragLoadTimeOut")],
    ]  # fmt: skip
    return sessions


# Worked out by hand from the scenario:
#   views 20; startups 18 (16 + sessions 18, 19), startup sum 16 x 500 + 100 x (0+...+15)
#   + 1000 + 1000 = 22000 ms -> 22000 / 18; played 16 x 20000 + 5000 + 10000 = 335000 ms;
#   bitrate x ms: (6 x 2000 + 5 x 3000 + 5 x 4000) x 20000 + 5000 x 2000 + 10000 x 3000
#   = 980e6 -> 980e6 / 335000; rebuffer 4 x 1000 ms -> 4000 / 339000, 4 per 335000 ms.
EXPECTED = {
    "views": 20, "concurrent": 18, "video_startup_time_ms": round(22000 / 18, 3),
    "exits_before_video_start": 1, "video_startup_failure_percentage": 5.0,
    "rebuffer_percentage": round(400000 / 339000, 3),
    "rebuffer_frequency_per_min": round(4 * 60000 / 335000, 3),
    "average_bitrate_kbps": round(980e6 / 335000, 3), "peak_bitrate_kbps": 4000,
    "bitrate_switches": 2, "playback_failure_percentage": 5.0, "played_ms": 335_000,
    "completions": 8,
}  # fmt: skip


async def test_rollups_are_exact_and_repeatable(
    analytics: TestClient, stack: Settings, auth: dict[str, str]
) -> None:
    base = floor_minute(datetime.now(UTC)) - timedelta(hours=2)
    title_a, title_b = uuid.uuid4(), uuid.uuid4()
    names = []
    for i, events in enumerate(_scenario(base)):
        names.append(f"exact-{i}-{uuid.uuid4().hex[:8]}")
        body = batch(names[-1], title_a if i < 12 else title_b, events)
        assert (await analytics.post("/v1/events", json=body)).status == 202
    await wait_for_events(stack, names, sum(len(e) for e in _scenario(base)))

    span = {"since": base.isoformat(), "until": (base + timedelta(minutes=3)).isoformat()}
    first = await analytics.post("/v1/analytics/rollups", json=span, headers=auth)
    assert first.status == 200, await first.text()
    assert (await first.json())["minutes"] == 3
    rows = await _rows(stack, base)
    qoe = await (await analytics.get("/v1/analytics/qoe", params=span, headers=auth)).json()
    assert qoe["totals"] == EXPECTED
    assert [m["bucket"] for m in qoe["minutes"]] == [base.isoformat()]

    by_title = await (await analytics.get("/v1/analytics/top", params=span, headers=auth)).json()
    assert by_title["items"] == [
        {"key": str(title_a), "views": 12, "played_ms": 240_000},
        {"key": str(title_b), "views": 8, "played_ms": 4 * 20_000 + 5_000 + 10_000},
    ]
    hd = await analytics.get(
        "/v1/analytics/qoe", params={**span, "dimension": "rendition", "key": "720p"}, headers=auth
    )
    totals = (await hd.json())["totals"]
    # 720p: sessions 1, 4, 7, 10, 13 (2 x 10 s each) and 19 (10 s), all at 3000 kbps.
    assert (totals["played_ms"], totals["average_bitrate_kbps"]) == (110_000, 3000.0)
    popular = await analytics.get(
        "/v1/analytics/popularity", params={**span, "limit": 1}, headers=auth
    )
    assert (await popular.json())["minutes"] == [
        {"bucket": base.isoformat(), "items": [{"key": str(title_a), "views": 12,
                                                 "played_ms": 240_000}]}
    ]  # fmt: skip

    again = await analytics.post("/v1/analytics/rollups", json=span, headers=auth)
    assert again.status == 200
    assert await _rows(stack, base) == rows


async def _rows(stack: Settings, base: datetime) -> list[tuple[Any, ...]]:
    found = await stored(
        stack, "SELECT * FROM qoe_minutes WHERE bucket >= $1 AND bucket < $2 "
        "ORDER BY bucket, dimension, key", base, base + timedelta(minutes=3),
    )  # fmt: skip
    return [tuple(r) for r in found]


async def test_the_title_dimension_is_keyed_by_the_catalogs_title(
    analytics: TestClient, stack: Settings, auth: dict[str, str]
) -> None:
    film = await Catalog(stack).title("Analytics film")
    assert film.asset_id is not None
    base = floor_minute(datetime.now(UTC)) - timedelta(hours=3)
    session = f"titled-{uuid.uuid4().hex[:8]}"
    events = [event("start", base), event("first_frame", base + timedelta(seconds=1)),
              heartbeat(base + timedelta(seconds=11), 10_000, 2000, "480p")]  # fmt: skip
    assert (
        await analytics.post("/v1/events", json=batch(session, film.asset_id, events))
    ).status == 202
    await wait_for_events(stack, [session], 3)
    rows = await stored(
        stack, "SELECT DISTINCT title_id FROM events WHERE session_id = $1", session
    )
    assert [r["title_id"] for r in rows] == [film.id]
    span = {"since": base.isoformat(), "until": (base + timedelta(minutes=1)).isoformat()}
    assert (await analytics.post("/v1/analytics/rollups", json=span, headers=auth)).status == 200
    top = await (await analytics.get("/v1/analytics/top", params=span, headers=auth)).json()
    assert top["items"] == [{"key": str(film.id), "views": 1, "played_ms": 10_000}]
