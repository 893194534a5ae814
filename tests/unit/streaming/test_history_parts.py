"""Watch history's pure parts: reports' completion, one batch's ordering, clock skew, the
next episode, and the settings' thresholds."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from streamcore.settings import HistorySettings
from streaming.history.report import Report, newest
from streaming.history.reporting import client_time
from streaming.history.writes import _rounds
from streaming.titles import next_episode

P, T = uuid.uuid4(), uuid.uuid4()


def test_completion_is_position_over_duration_unless_given() -> None:
    assert Report(300, 1, duration_s=600).ratio == 0.5
    assert Report(900, 1, duration_s=600).ratio == 1.0
    assert Report(300, 1).ratio == 0.0  # no duration known
    assert Report(0, 1, completion=0.3, duration_s=600).ratio == 0.3


def test_reports_survive_their_encoding() -> None:
    report = Report(12.5, 99.0, profile_id=P, account_id=P, asset_id=T, title_id=T,
                    duration_s=60, session_id="s")  # fmt: skip
    assert Report.decode(report.encode()) == report


def test_a_batch_keeps_the_newest_report_of_each_row_and_every_one_in_order() -> None:
    early, late = Report(10, 1, profile_id=P, title_id=T), Report(5, 2, profile_id=P, title_id=T)
    other = Report(7, 1.5, profile_id=uuid.uuid4(), title_id=T)
    assert newest([late, early, other]) == [late, other]
    assert _rounds([late, other, early]) == [[early, other], [late]]


def test_a_clock_far_ahead_is_taken_as_ours() -> None:
    assert client_time(None, 300, now=1000) == 1000
    assert client_time(900_000, 300, now=1000) == 900
    assert client_time(5_000_000, 300, now=1000) == 1300


def test_the_next_episode_follows_the_series_order() -> None:
    series = {"episodes": [{"id": "e1"}, {"id": "e2"}, {"id": "e3"}]}
    assert next_episode(series, "e1") == {"id": "e2"}
    assert next_episode(series, "e3") is None
    assert next_episode(series, "elsewhere") is None


def test_continue_watching_thresholds_are_ordered() -> None:
    with pytest.raises(ValidationError, match="continue_min must be below continue_max"):
        HistorySettings(continue_min=0.5, continue_max=0.4)
