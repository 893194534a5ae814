"""A session's QoE from its raw events (analytics/qoe.py): the definitions, exactly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from analytics.details import EventType
from analytics.qoe import Event, SessionQoe, session_qoe

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def ev(kind: str, ms: int, **detail: Any) -> Event:
    return Event(uuid.uuid4(), T0 + timedelta(milliseconds=ms), EventType(kind), detail)


def hb(ms: int, played_ms: int, kbps: int, rendition: str = "720p") -> Event:
    return ev("heartbeat", ms, played_ms=played_ms, bitrate_kbps=kbps, rendition=rendition)


def test_a_played_session_sums_its_heartbeats_rebuffers_and_switches() -> None:
    q = session_qoe([
        ev("start", 0, engine="hls", autoplay=True),
        ev("buffering_end", 400, duration_ms=400),  # before the first frame: not a rebuffer
        ev("first_frame", 1500),
        hb(11_500, 10_000, 3000),
        ev("rendition_switch", 12_000, rendition="1080p", bitrate_kbps=6000, reason="abr"),
        ev("rendition_switch", 13_000, rendition="480p", bitrate_kbps=1500, reason="manual"),
        ev("buffering_end", 15_000, duration_ms=800),
        ev("buffering_end", 16_000, duration_ms=2000, cause="seek"),  # the viewer's seek
        hb(21_500, 8_000, 6000, "1080p"),
        ev("complete", 22_000),
    ])  # fmt: skip
    assert q.startup_ms == 1500 and q.first_frame_at == T0 + timedelta(milliseconds=1500)
    assert q.played_ms == 18_000
    assert q.bitrate_kbps_ms == 10_000 * 3000 + 8_000 * 6000
    assert q.peak_bitrate_kbps == 6000
    assert (q.rebuffer_ms, q.rebuffer_count, q.switches) == (800, 1, 1)
    assert q.completed and q.ended_at == T0 + timedelta(milliseconds=22_000)
    assert not q.failed_before_start and q.fatal_error_id is None


def test_a_fatal_error_before_the_first_frame_is_a_startup_failure() -> None:
    error = ev("error", 900, fatal=True, code="networkError", message="manifest 404")
    q = session_qoe([ev("start", 0), ev("error", 300, fatal=False, code=1), error])
    assert q.failed_before_start and q.fatal_error_id == error.id
    assert q.startup_ms is None and q.ended_at == error.at


def test_a_fatal_error_after_the_first_frame_is_a_playback_failure() -> None:
    q = session_qoe([ev("start", 0), ev("first_frame", 700), ev("error", 5000, fatal=True)])
    assert not q.failed_before_start and q.fatal_error_at is not None and q.startup_ms == 700


def test_duplicates_and_order_change_nothing() -> None:
    events = [ev("start", 0), ev("first_frame", 250), hb(10_250, 10_000, 2500)]
    once = session_qoe(events)
    assert session_qoe([*reversed(events), *events]) == once
    assert once.events == 3


def test_no_events_no_session() -> None:
    assert session_qoe([]) == SessionQoe()
