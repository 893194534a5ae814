"""A subscription's row as the lifecycle sees it (typed), and its history's rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from subscriptions.states import StateName

COLUMNS = (
    "id, account_id, plan, state, version, period_start, period_end, pending_plan, "
    "payment_method, customer_id, retry_count, next_retry_at, grace_until, suspended_until, "
    "last_provider_event_at, created_at, updated_at"
)
EVENT_COLUMNS = "subscription_id, seq, event, from_state, to_state, source, at, detail, key"
INVOICE_COLUMNS = (
    "id, subscription_id, account_id, plan, amount_minor, currency, period_start, period_end, "
    "status, provider, charge_id, failure_code, created_at"
)
# Columns an event may change (subscriptions/lifecycle.py): never id, account_id or version.
MUTABLE = frozenset(
    {
        "plan", "period_start", "period_end", "pending_plan", "payment_method", "customer_id",
        "retry_count", "next_retry_at", "grace_until", "suspended_until",
        "last_provider_event_at",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Subscription:
    id: UUID
    account_id: UUID
    plan: str
    state: StateName
    version: int
    period_start: datetime
    period_end: datetime
    pending_plan: str | None
    payment_method: str | None
    customer_id: str | None
    retry_count: int
    next_retry_at: datetime | None
    grace_until: datetime | None
    suspended_until: datetime | None
    last_provider_event_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: asyncpg.Record) -> Subscription:
        values = dict(row)
        values["state"] = StateName(values["state"])
        return cls(**values)

    def json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "id": str(self.id), "account_id": str(self.account_id), "plan": self.plan,
            "state": str(self.state), "version": self.version,
            "period_start": iso(self.period_start), "period_end": iso(self.period_end),
            "pending_plan": self.pending_plan, "payment_method": self.payment_method,
            "retry_count": self.retry_count, "next_retry_at": iso(self.next_retry_at),
            "grace_until": iso(self.grace_until), "suspended_until": iso(self.suspended_until),
            "created_at": iso(self.created_at), "updated_at": iso(self.updated_at),
        }  # fmt: skip


def event_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "seq": row["seq"], "event": row["event"], "from_state": row["from_state"],
        "to_state": row["to_state"], "source": row["source"], "at": row["at"].isoformat(),
        "detail": row["detail"],
    }  # fmt: skip


def invoice_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]), "subscription_id": str(row["subscription_id"]),
        "plan": row["plan"], "amount_minor": row["amount_minor"], "currency": row["currency"],
        "period_start": row["period_start"].isoformat(),
        "period_end": row["period_end"].isoformat(), "status": row["status"],
        "failure_code": row["failure_code"], "created_at": row["created_at"].isoformat(),
    }  # fmt: skip
