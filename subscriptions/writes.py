"""Every write of the subscriptions service (schema ``subscriptions``).

`transition` is the lifecycle's one write: the compare-and-set UPDATE and the history row it
produced, in one transaction (subscriptions/lifecycle.py decides what they say).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg

from subscriptions.records import COLUMNS, MUTABLE, Subscription
from subscriptions.states import Event, StateName

Executor: TypeAlias = asyncpg.Pool | asyncpg.Connection


class SubscriptionExists(Exception):
    """The account has a subscription that is not over (the partial unique index)."""


class DuplicateKey(Exception):
    """An event with this key is recorded already (a concurrent duplicate)."""


@dataclass(frozen=True)
class EventRow:
    event: Event
    from_state: StateName | None
    to_state: StateName
    source: str
    at: datetime
    detail: Mapping[str, Any]
    key: str | None = None


@dataclass(frozen=True)
class InvoiceRow:
    plan: str
    amount_minor: int
    currency: str
    period_start: datetime
    period_end: datetime
    paid: bool
    provider: str
    charge_id: str
    failure_code: str | None
    key: str


async def _append(conn: asyncpg.Connection, subscription_id: UUID, seq: int, e: EventRow) -> None:
    await conn.execute(
        "INSERT INTO subscription_events (subscription_id, seq, event, from_state, to_state, "
        "source, at, detail, key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        subscription_id, seq, str(e.event), e.from_state and str(e.from_state), str(e.to_state),
        e.source, e.at, dict(e.detail), e.key,
    )  # fmt: skip


async def lock_account(conn: asyncpg.Connection, account_id: UUID) -> None:
    """Until the transaction ends, no other transaction takes this account's lock."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", str(account_id))


async def create(
    conn: asyncpg.Connection, values: Mapping[str, Any], event: EventRow, invoice: InvoiceRow
) -> Subscription:
    """A new subscription (version 1), its first event and its first invoice, all or none;
    SubscriptionExists if the account has one that is not over."""
    names = ", ".join(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    async with conn.transaction():
        try:
            row = await conn.fetchrow(
                f"INSERT INTO subscriptions ({names}, version) VALUES ({placeholders}, 1) "
                f"RETURNING {COLUMNS}",
                *values.values(),
            )
        except asyncpg.UniqueViolationError:
            raise SubscriptionExists() from None
        created = Subscription.of(row)
        await _append(conn, created.id, 1, event)
        await record_invoice(conn, created, invoice)
    return created


async def transition(
    conn: asyncpg.Connection,
    current: Subscription,
    to_state: StateName,
    changes: Mapping[str, Any],
    event: EventRow,
) -> Subscription | None:
    """The compare-and-set: `current` moved to `to_state` with `changes`, and the event
    appended as seq = the new version, in one transaction. None: the row is no longer in
    `current`'s state and version (another writer won). DuplicateKey: the event's key is
    recorded already."""
    unknown = set(changes) - MUTABLE
    if unknown:
        raise ValueError(f"not columns an event may change: {sorted(unknown)}")
    sets = "".join(f", {name} = ${i}" for i, name in enumerate(changes, start=5))
    async with conn.transaction():
        row = await conn.fetchrow(
            f"""
            UPDATE subscriptions SET state = $4, version = version + 1, updated_at = now(){sets}
            WHERE id = $1 AND state = $2 AND version = $3
            RETURNING {COLUMNS}
            """,
            current.id, str(current.state), current.version, str(to_state), *changes.values(),
        )  # fmt: skip
        if row is None:
            return None
        after = Subscription.of(row)
        try:
            await _append(conn, after.id, after.version, event)
        except asyncpg.UniqueViolationError:
            raise DuplicateKey(event.key) from None
    return after


async def record_invoice(db: Executor, subscription: Subscription, invoice: InvoiceRow) -> None:
    """One invoice per charge key: a retried charge (the same key) records nothing twice."""
    await db.execute(
        """
        INSERT INTO invoices (id, subscription_id, account_id, plan, amount_minor, currency,
                              period_start, period_end, status, provider, charge_id,
                              failure_code, key)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        ON CONFLICT (key) DO NOTHING
        """,
        uuid.uuid4(), subscription.id, subscription.account_id, invoice.plan,
        invoice.amount_minor, invoice.currency, invoice.period_start, invoice.period_end,
        "paid" if invoice.paid else "failed", invoice.provider, invoice.charge_id,
        invoice.failure_code, invoice.key,
    )  # fmt: skip


async def save_customer(db: Executor, provider: str, account_id: UUID, customer_id: str) -> str:
    """The account's customer at the provider: the one stored first wins a race."""
    found: str = await db.fetchval(
        """
        INSERT INTO payment_customers (provider, account_id, customer_id) VALUES ($1, $2, $3)
        ON CONFLICT (provider, account_id) DO UPDATE SET provider = EXCLUDED.provider
        RETURNING customer_id
        """,
        provider, account_id, customer_id,
    )  # fmt: skip
    return found


async def record_webhook(
    db: Executor,
    provider: str,
    event_id: str,
    type_: str,
    created: datetime,
    subscription_id: UUID | None,
    outcome: str,
) -> bool:
    """Records a provider event; False if it was recorded already (a redelivery)."""
    status = await db.execute(
        """
        INSERT INTO webhook_events (provider, event_id, type, created, subscription_id, outcome)
        VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (provider, event_id) DO NOTHING
        """,
        provider, event_id, type_, created, subscription_id, outcome,
    )  # fmt: skip
    return bool(status.endswith(" 1"))


async def note_provider_event(db: Executor, subscription_id: UUID, created: datetime) -> None:
    """The newest provider event seen, when it changed nothing else (never moved back)."""
    await db.execute(
        "UPDATE subscriptions SET last_provider_event_at = $2 WHERE id = $1 "
        "AND (last_provider_event_at IS NULL OR last_provider_event_at < $2)",
        subscription_id, created,
    )  # fmt: skip
