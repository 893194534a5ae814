"""The lifecycle's rules from the settings: plans, the dunning schedule, grace and suspension.

One frozen object, built once per process from ``settings.subscriptions`` and
``settings.plans``, handed to subscriptions/lifecycle.py and subscriptions/renewals.py.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from streamcore.plans import Plan, Plans
from streamcore.settings import Settings


def add_months(start: datetime, months: int) -> datetime:
    """The same day `months` later, or that month's last day (Jan 31 + 1 month = Feb 28/29)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return start.replace(year=year, month=month, day=min(start.day, last_day))


@dataclass(frozen=True)
class Policy:
    plans: Plans
    free_plan: str
    dunning: tuple[timedelta, ...]
    grace: timedelta
    suspended: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        section = settings.subscriptions
        return cls(
            plans=settings.plans, free_plan=section.free_plan,
            dunning=tuple(timedelta(days=d) for d in section.dunning_days),
            grace=timedelta(days=section.grace_days),
            suspended=timedelta(days=section.suspended_days),
        )  # fmt: skip

    def plan(self, name: str) -> Plan:
        return self.plans[name]

    def paid_plans(self) -> list[str]:
        return [name for name in self.plans.names() if not self.plans[name].is_free]

    def period_after(self, start: datetime, plan: str) -> datetime:
        """The end of a period of `plan` beginning at `start` (calendar months and years)."""
        found = self.plans[plan]
        count = found.interval_count
        if found.interval == "day":
            return start + timedelta(days=count)
        if found.interval == "week":
            return start + timedelta(weeks=count)
        return add_months(start, count * (12 if found.interval == "year" else 1))

    def retry_at(self, due: datetime, retries_done: int) -> datetime | None:
        """When the next charge of a period due at `due` is retried, after `retries_done`
        retries (None: the schedule is over, the grace period runs out)."""
        if retries_done >= len(self.dunning):
            return None
        return due + self.dunning[retries_done]
