"""Alert rule evaluation as pure logic: the minutes a rule looks at, whether they breach it,
and what that changes (fire, resolve, nothing). No I/O here: evaluate.py feeds it values."""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from streamcore.settings import AlertRule

MINUTE = timedelta(minutes=1)

_COMPARE: dict[str, Callable[[float, float], bool]] = {">": operator.gt, "<": operator.lt}


class Change(enum.StrEnum):
    FIRE = "firing"
    RESOLVE = "resolved"
    NONE = "none"


@dataclass(frozen=True)
class Verdict:
    """What one evaluation decided for a rule, with the value of its latest minute."""

    rule: AlertRule
    change: Change
    value: float | None
    bucket: datetime


def minute_of(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def closed_minutes(now: datetime, count: int) -> list[datetime]:
    """The last `count` minutes that have ended before `now`, oldest first."""
    current = minute_of(now)
    return [current - MINUTE * k for k in range(count, 0, -1)]


def breaches(rule: AlertRule, value: float | None) -> bool:
    """A minute breaches the rule when its value compares to the threshold; no value (no data:
    a ratio over nothing, an unobserved gateway) never breaches."""
    return value is not None and _COMPARE[rule.op](value, rule.threshold)


def decide(
    rule: AlertRule, values: Mapping[datetime, float | None], minutes: Sequence[datetime],
    firing: bool,
) -> Verdict:  # fmt: skip
    """Fire when every one of `minutes` breaches and the rule is not firing; resolve a firing
    rule once its latest minute no longer breaches; otherwise nothing."""
    latest = minutes[-1]
    value = values.get(latest)
    if not firing and all(breaches(rule, values.get(minute)) for minute in minutes):
        return Verdict(rule, Change.FIRE, value, latest)
    if firing and not breaches(rule, value):
        return Verdict(rule, Change.RESOLVE, value, latest)
    return Verdict(rule, Change.NONE, value, latest)
