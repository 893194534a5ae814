"""A playback session's quality of experience, computed from its raw events alone (pure: no
I/O). The processor recomputes a session's row with `session_qoe` each time it stores events
of that session, so processing the same events again writes the same row.

The definitions follow Mux Data's and Conviva's (docs/analytics.md, "QoE"); the per-minute
rollups (analytics/rollups.py) count the same things in SQL:

- the view is the session's first `start`; video startup time is first_frame.at - start.at;
- a fatal error before the first frame is a video startup failure, after it a playback
  failure; a `complete` or a fatal error ends the session;
- rebuffering is `buffering_end` after the first frame whose cause is not a seek: its
  duration_ms, counted once per event;
- played time, the time-weighted bitrate and the peak bitrate come from heartbeats
  (played_ms at bitrate_kbps); bitrate switches are `rendition_switch` events with reason abr.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from analytics.details import EventType


@dataclass(frozen=True)
class Event:
    """What the QoE reads of a stored event."""

    id: UUID
    at: datetime
    type: EventType
    detail: dict[str, Any]


@dataclass(frozen=True)
class SessionQoe:
    start_id: UUID | None = None
    started_at: datetime | None = None
    first_frame_at: datetime | None = None
    startup_ms: int | None = None
    last_event_at: datetime | None = None
    ended_at: datetime | None = None
    played_ms: int = 0
    rebuffer_ms: int = 0
    rebuffer_count: int = 0
    bitrate_kbps_ms: int = 0
    peak_bitrate_kbps: int = 0
    switches: int = 0
    fatal_error_id: UUID | None = None
    fatal_error_at: datetime | None = None
    failed_before_start: bool = False
    completed: bool = False
    events: int = 0


def _first(events: list[Event], kind: EventType) -> Event | None:
    return next((e for e in events if e.type is kind), None)


def _is_rebuffer(event: Event, first_frame_at: datetime | None) -> bool:
    """A rebuffer: buffering that ended after the first frame and that no seek caused."""
    return (
        event.type is EventType.BUFFERING_END
        and first_frame_at is not None
        and event.at > first_frame_at
        and event.detail.get("cause") != "seek"
    )


def _playback(events: list[Event], first_frame_at: datetime | None) -> dict[str, int]:
    """Sums over heartbeats, rebuffers and switches."""
    heartbeats = [e for e in events if e.type is EventType.HEARTBEAT]
    rebuffers = [e for e in events if _is_rebuffer(e, first_frame_at)]
    return {
        "played_ms": sum(int(e.detail["played_ms"]) for e in heartbeats),
        "bitrate_kbps_ms": sum(
            int(e.detail["bitrate_kbps"]) * int(e.detail["played_ms"]) for e in heartbeats
        ),
        "peak_bitrate_kbps": max((int(e.detail["bitrate_kbps"]) for e in heartbeats), default=0),
        "rebuffer_ms": sum(int(e.detail["duration_ms"]) for e in rebuffers),
        "rebuffer_count": len(rebuffers),
        "switches": sum(
            1 for e in events
            if e.type is EventType.RENDITION_SWITCH and e.detail.get("reason") == "abr"
        ),
    }  # fmt: skip


def session_qoe(found: Iterable[Event]) -> SessionQoe:
    """The session's QoE from all its events, in any order (duplicates by id count once)."""
    events = sorted({e.id: e for e in found}.values(), key=lambda e: (e.at, e.id))
    if not events:
        return SessionQoe()
    start, first_frame = _first(events, EventType.START), _first(events, EventType.FIRST_FRAME)
    first_frame_at = first_frame.at if first_frame else None
    fatal = next(
        (e for e in events if e.type is EventType.ERROR and e.detail.get("fatal") is True), None
    )
    complete = _first(events, EventType.COMPLETE)
    ends = [e.at for e in (fatal, complete) if e is not None]
    startup_ms = None
    if start is not None and first_frame_at is not None and first_frame_at >= start.at:
        startup_ms = round((first_frame_at - start.at).total_seconds() * 1000)
    return SessionQoe(
        start_id=start.id if start else None, started_at=start.at if start else None,
        first_frame_at=first_frame_at, startup_ms=startup_ms,
        last_event_at=events[-1].at, ended_at=min(ends) if ends else None,
        fatal_error_id=fatal.id if fatal else None, fatal_error_at=fatal.at if fatal else None,
        failed_before_start=fatal is not None
        and (first_frame_at is None or fatal.at < first_frame_at),
        completed=complete is not None, events=len(events),
        **_playback(events, first_frame_at),
    )  # fmt: skip
