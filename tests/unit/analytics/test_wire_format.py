"""The collector's wire format (analytics/models.py, details.py): ids, per-type details."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from analytics.collector import stream_events
from analytics.models import EventBatch

ASSET = str(uuid.uuid4())
NOW = 1_800_000_000_000


def batch(*events: dict[str, object], session: str = "s-1") -> EventBatch:
    return EventBatch.model_validate(
        {"session_id": session, "asset_id": ASSET, "events": list(events)}
    )


def test_an_event_without_id_gets_the_same_id_in_any_batch() -> None:
    start = {"type": "start", "at": NOW, "position_s": 0}
    pause = {"type": "pause", "at": NOW + 5000, "position_s": 5}
    alone = stream_events(batch(start), {}, NOW, 30)[0].id
    resent = stream_events(batch(pause, start), {}, NOW, 30)[1].id
    assert alone == resent
    assert stream_events(batch(start, session="s-2"), {}, NOW, 30)[0].id != alone
    given = uuid.uuid4()
    assert stream_events(batch({**start, "id": str(given)}), {}, NOW, 30)[0].id == given


@pytest.mark.parametrize(
    "event",
    [
        {"type": "heartbeat", "at": NOW, "detail": {"rendition": "720p", "bitrate_kbps": 1}},
        {"type": "buffering_end", "at": NOW, "detail": {"duration_ms": -1}},
        {"type": "rendition_switch", "at": NOW,
         "detail": {"rendition": "720p", "bitrate_kbps": 2500, "reason": "whim"}},
        {"type": "error", "at": NOW, "detail": {"code": 3}},
        {"type": "start", "at": NOW, "detail": {"x": "y" * 2100}},
        {"type": "start", "at": NOW, "detail": {"x": "a\u0000b"}},
        {"type": "start", "at": NOW, "detail": {"x": float("nan")}},
        {"type": "start", "at": NOW, "detail": {"x": [float("inf")]}},
        {"type": "dance", "at": NOW},
    ],
)  # fmt: skip
def test_bad_events_are_refused(event: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        batch(event)


def test_bad_session_ids_are_refused() -> None:
    for session in ("", "a b", "x" * 65, "s\u0000"):
        with pytest.raises(ValidationError):
            batch({"type": "start", "at": NOW}, session=session)
