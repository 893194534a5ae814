"""The alerts' shapes: a transition (fired or resolved) and the HTTP API's models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class Transition:
    """An alert that fired (status "firing") or resolved: one webhook message, one notice."""

    alert_id: int
    status: Literal["firing", "resolved"]
    rule: str
    severity: str
    summary: str
    metric: str
    value: float | None
    threshold: float
    service: str | None
    starts_at: datetime
    ends_at: datetime | None

    @classmethod
    def of_row(cls, row: asyncpg.Record, status: str) -> Transition:
        """From an `analytics.alerts` row (`status`: the transition, not the row's state now)."""
        return cls(
            alert_id=row["id"], status="firing" if status == "firing" else "resolved",
            rule=row["rule"], severity=row["severity"], summary=row["summary"],
            metric=row["metric"], value=row["value"], threshold=row["threshold"],
            service=row["service"], starts_at=row["fired_at"],
            ends_at=row["resolved_at"] if status == "resolved" else None,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id, "status": self.status, "rule": self.rule,
            "severity": self.severity, "summary": self.summary, "metric": self.metric,
            "value": self.value, "threshold": self.threshold, "service": self.service,
            "startsAt": self.starts_at.isoformat(),
            "endsAt": self.ends_at.isoformat() if self.ends_at else None,
        }  # fmt: skip


class AlertsQuery(BaseModel):
    """`GET /v1/analytics/alerts?state=&since=`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state: Literal["firing", "resolved", "all"] = "all"
    since: str = Field("7d", description="An ISO 8601 instant or an age: 90s, 15m, 6h, 7d")


class AlertOut(BaseModel):
    id: int
    rule: str
    state: Literal["firing", "resolved"]
    severity: str
    summary: str
    metric: str
    value: float | None
    threshold: float
    service: str | None
    fired_at: datetime
    resolved_at: datetime | None


class AlertsOut(BaseModel):
    items: list[AlertOut]


class TransitionOut(BaseModel):
    alert_id: int
    status: Literal["firing", "resolved"]
    rule: str
    severity: str
    summary: str
    metric: str
    value: float | None
    threshold: float
    service: str | None
    # Alertmanager's field names.
    startsAt: datetime
    endsAt: datetime | None


class EvaluationOut(BaseModel):
    """`POST /v1/analytics/alerts/evaluate`: what changed, and how many messages were sent."""

    transitions: list[TransitionOut]
    delivered: int
    undelivered: int
