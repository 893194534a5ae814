"""The time ranges analytics reads take: ``since``/``until`` as an ISO 8601 instant or an age
("90s", "15m", "6h", "7d"), for the HTTP API's query strings and the CLI's options alike."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

_AGE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
# The longest range one read may cover (the rollups keep minutes; raw events expire sooner).
MAX_RANGE = timedelta(days=90)


class TimeRangeError(ValueError):
    """A `since`/`until` that is neither an instant nor an age; the message says which."""


def instant(value: str, now: datetime) -> datetime:
    """`value` as an aware datetime: an age before `now`, or an ISO 8601 instant (UTC if it
    names no zone)."""
    value = value.strip()
    age = _AGE.match(value)
    if age is not None:
        return now - timedelta(**{_UNITS[age.group(2)]: int(age.group(1))})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise TimeRangeError(
            f"{value!r} is neither an age (90s, 15m, 6h, 7d) nor an ISO 8601 instant"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class RangeQuery(BaseModel):
    """`?since=&until=`: the last hour by default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    since: str = Field("1h", description="An ISO 8601 instant or an age: 90s, 15m, 6h, 7d")
    until: str | None = Field(None, description="Same forms; unset: now")

    def resolve(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        """(start, end), checked: start before end, at most MAX_RANGE apart."""
        now = now or datetime.now(UTC)
        start = instant(self.since, now)
        end = instant(self.until, now) if self.until else now
        if start >= end:
            raise TimeRangeError("since must be before until")
        if end - start > MAX_RANGE:
            raise TimeRangeError(f"a range covers at most {MAX_RANGE.days} days")
        return start, end
