"""Every read of the subscriptions service, on its own tables (schema ``subscriptions``)."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias
from uuid import UUID

import asyncpg

from subscriptions.records import COLUMNS, EVENT_COLUMNS, INVOICE_COLUMNS, Subscription
from subscriptions.states import StateName

# A position in a newest-first list: the (created_at, id) of the last row handed out.
Position = tuple[datetime, UUID]
Executor: TypeAlias = asyncpg.Pool | asyncpg.Connection


async def subscription(db: Executor, subscription_id: UUID) -> Subscription | None:
    row = await db.fetchrow(f"SELECT {COLUMNS} FROM subscriptions WHERE id = $1", subscription_id)
    return Subscription.of(row) if row is not None else None


async def current(db: Executor, account_id: UUID) -> Subscription | None:
    """The account's subscription that is not over, else its latest one (None: never had one)."""
    row = await db.fetchrow(
        f"""
        SELECT {COLUMNS} FROM subscriptions WHERE account_id = $1
        ORDER BY (state <> 'Expired') DESC, created_at DESC, id DESC LIMIT 1
        """,
        account_id,
    )
    return Subscription.of(row) if row is not None else None


async def events(db: Executor, subscription_id: UUID) -> list[asyncpg.Record]:
    """The subscription's history, oldest first."""
    rows: list[asyncpg.Record] = await db.fetch(
        f"SELECT {EVENT_COLUMNS} FROM subscription_events WHERE subscription_id = $1 ORDER BY seq",
        subscription_id,
    )
    return rows


async def has_event_key(db: Executor, subscription_id: UUID, key: str) -> bool:
    found = await db.fetchval(
        "SELECT 1 FROM subscription_events WHERE subscription_id = $1 AND key = $2",
        subscription_id, key,
    )  # fmt: skip
    return found is not None


async def invoices(db: Executor, account_id: UUID, limit: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        f"SELECT {INVOICE_COLUMNS} FROM invoices WHERE account_id = $1 "
        "ORDER BY created_at DESC, id DESC LIMIT $2",
        account_id, limit,
    )  # fmt: skip
    return rows


async def customer(db: Executor, provider: str, account_id: UUID) -> str | None:
    found: str | None = await db.fetchval(
        "SELECT customer_id FROM payment_customers WHERE provider = $1 AND account_id = $2",
        provider, account_id,
    )  # fmt: skip
    return found


async def page(
    db: Executor, state: StateName | None, plan: str | None, limit: int, after: Position | None
) -> list[Subscription]:
    """Subscriptions newest first, filtered, after `after`; one row more than `limit`."""
    rows = await db.fetch(
        f"""
        SELECT {COLUMNS} FROM subscriptions
        WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR plan = $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))
        ORDER BY created_at DESC, id DESC LIMIT $5
        """,
        state, plan, after[0] if after else None, after[1] if after else None, limit + 1,
    )  # fmt: skip
    return [Subscription.of(row) for row in rows]


# What the scheduler finds due, per kind (subscriptions/renewals.py): each row as it was when
# found due (a charge is for that period), then decided again by the lifecycle when applied.
DUE: dict[str, str] = {
    "renewal": "state = 'Active' AND period_end <= $1",
    "retry": "state = 'GracePeriod' AND next_retry_at <= $1 AND next_retry_at < grace_until",
    "grace_end": "state = 'GracePeriod' AND grace_until <= $1",
    "suspension_end": "state = 'Suspended' AND suspended_until <= $1",
    "period_end": "state = 'Cancelled' AND period_end <= $1",
}


async def due(db: Executor, kind: str, now: datetime, limit: int) -> list[Subscription]:
    rows = await db.fetch(
        f"SELECT {COLUMNS} FROM subscriptions WHERE {DUE[kind]} ORDER BY period_end, id "
        "LIMIT $2",
        now, limit,
    )  # fmt: skip
    return [Subscription.of(row) for row in rows]


async def distribution(db: Executor) -> list[asyncpg.Record]:
    """How many subscriptions are in each (state, plan)."""
    rows: list[asyncpg.Record] = await db.fetch(
        "SELECT state, plan, count(*) AS n FROM subscriptions GROUP BY state, plan"
    )
    return rows


async def transitions(db: Executor) -> list[asyncpg.Record]:
    """How many transitions of each (event, from_state, to_state) were ever recorded."""
    rows: list[asyncpg.Record] = await db.fetch(
        "SELECT event, coalesce(from_state, '') AS from_state, to_state, count(*) AS n "
        "FROM subscription_events GROUP BY 1, 2, 3"
    )
    return rows


async def webhook_seen(db: Executor, provider: str, event_id: str) -> bool:
    found = await db.fetchval(
        "SELECT 1 FROM webhook_events WHERE provider = $1 AND event_id = $2", provider, event_id
    )
    return found is not None
