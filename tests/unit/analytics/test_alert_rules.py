"""Alert rule evaluation's pure logic (analytics/alerts/rules.py) and the QoE ratios it uses
(analytics/qoe_formulas.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from analytics.alerts.rules import Change, breaches, closed_minutes, decide
from analytics.qoe_formulas import (
    playback_failure_percentage,
    qoe_value,
    rebuffer_percentage,
    start_failure_percentage,
)
from streamcore.settings import AlertRule

NOW = datetime(2026, 12, 7, 12, 30, 42, tzinfo=UTC)
HIGH = AlertRule(name="busy", metric="concurrent_viewers", threshold=100, for_minutes=3)


def test_closed_minutes_are_the_last_ended_ones_oldest_first() -> None:
    assert closed_minutes(NOW, 3) == [
        datetime(2026, 12, 7, 12, 27, tzinfo=UTC),
        datetime(2026, 12, 7, 12, 28, tzinfo=UTC),
        datetime(2026, 12, 7, 12, 29, tzinfo=UTC),
    ]


def test_a_rule_fires_only_when_every_minute_breaches() -> None:
    minutes = closed_minutes(NOW, 3)
    values = {minutes[0]: 150.0, minutes[1]: 90.0, minutes[2]: 150.0}
    assert decide(HIGH, values, minutes, firing=False).change is Change.NONE
    values[minutes[1]] = 101.0
    verdict = decide(HIGH, values, minutes, firing=False)
    assert (verdict.change, verdict.value, verdict.bucket) == (Change.FIRE, 150.0, minutes[2])


def test_a_firing_rule_neither_fires_again_nor_resolves_while_breached() -> None:
    minutes = closed_minutes(NOW, 3)
    values = dict.fromkeys(minutes, 500.0)
    assert decide(HIGH, values, minutes, firing=True).change is Change.NONE


def test_a_firing_rule_resolves_once_its_latest_minute_is_no_longer_breached() -> None:
    minutes = closed_minutes(NOW, 3)
    values = {minutes[0]: 500.0, minutes[1]: 500.0, minutes[2]: 100.0}  # not above 100
    assert decide(HIGH, values, minutes, firing=True).change is Change.RESOLVE


def test_no_data_never_breaches_and_resolves_a_firing_rule() -> None:
    low = AlertRule(name="down", metric="healthy_instances", op="<", threshold=1, service="x")
    assert not breaches(low, None)
    assert breaches(low, 0.0)
    (minute,) = closed_minutes(NOW, 1)
    assert decide(low, {}, [minute], firing=False).change is Change.NONE
    assert decide(low, {}, [minute], firing=True).change is Change.RESOLVE


def test_the_qoe_ratios() -> None:
    assert rebuffer_percentage(played_ms=9_000, rebuffer_ms=1_000) == pytest.approx(10.0)
    assert start_failure_percentage(startup_failures=1, views=4) == pytest.approx(25.0)
    assert playback_failure_percentage(playback_failures=1, views=5) == pytest.approx(20.0)
    # Over nothing: no data, not 0 % and not a breach.
    assert start_failure_percentage(startup_failures=0, views=0) is None
    assert rebuffer_percentage(played_ms=0, rebuffer_ms=0) is None


def test_a_minute_without_a_row_had_no_viewers() -> None:
    assert qoe_value("concurrent_viewers", None) == 0.0
    assert qoe_value("rebuffer_percentage", None) is None
    row = {"concurrent": 7, "played_ms": 0, "rebuffer_ms": 0, "views": 2,
           "startup_failures": 1, "startups": 1, "playback_failures": 0}  # fmt: skip
    assert qoe_value("concurrent_viewers", row) == 7.0
    assert qoe_value("start_failure_percentage", row) == pytest.approx(50.0)
    with pytest.raises(KeyError):
        qoe_value("healthy_instances", row)
