"""What a subscriber does, beyond one event: subscribing (the first period charged), changing
plan (an upgrade charged at once), and a new payment method (charged at once when unpaid).

Each charges through the provider first, with a key naming the subscription and its version
or period, then applies the lifecycle event under the charge's key: a declined card changes
nothing (402 ``payment_failed``), and the provider's webhook about the same charge finds it
applied already.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, replace
from datetime import datetime
from uuid import UUID

import asyncpg

from subscriptions import lifecycle, payments, queries, writes
from subscriptions.errors import PaymentFailed, SubscriptionExists
from subscriptions.records import Subscription
from subscriptions.resources import Billing
from subscriptions.states import INITIAL, Event, InvalidTransition, StateName, state

SOURCE = "user"
_SET_BY_THE_DATABASE = ("version", "created_at", "updated_at")


def _declined(paid: payments.Paid) -> PaymentFailed:
    charge = paid.charge
    return PaymentFailed(
        charge.failure_message or "the payment was declined",
        extra={"failure_code": charge.failure_code or "declined"},
    )


async def customer_of(billing: Billing, account_id: UUID) -> str:
    provider = billing.provider
    known = await queries.customer(billing.pool, provider.name, account_id)
    if known is not None:
        return known
    created = await provider.ensure_customer(account_id, None)
    return await writes.save_customer(billing.pool, provider.name, account_id, created)


def _draft(account_id: UUID, plan: str, now: datetime, end: datetime) -> Subscription:
    return Subscription(
        id=uuid.uuid4(), account_id=account_id, plan=plan, state=INITIAL, version=1,
        period_start=now, period_end=end, pending_plan=None, payment_method=None,
        customer_id=None, retry_count=0, next_retry_at=None, grace_until=None,
        suspended_until=None, last_provider_event_at=None, created_at=now, updated_at=now,
    )  # fmt: skip


async def subscribe(
    billing: Billing, account_id: UUID, plan: str, payment_method: str
) -> Subscription:
    """A new Active subscription whose first period is paid; nothing is created when the
    charge is declined. 409 subscription_exists if the account has one that is not over.

    One at a time per account (a transaction-scoped advisory lock, held while charging), so
    that a double submit charges once: the second finds the first's subscription."""
    async with billing.pool.acquire() as conn, conn.transaction():
        await writes.lock_account(conn, account_id)
        existing = await queries.current(conn, account_id)
        if existing is not None and existing.state is not StateName.EXPIRED:
            raise SubscriptionExists(f"the account's subscription is {existing.state}")
        created = await _first_period(billing, conn, account_id, plan, payment_method)
    await lifecycle.announce(billing.notifier, created, Event.SUBSCRIBE)  # after the commit
    return created


async def _first_period(
    billing: Billing, conn: asyncpg.Connection, account_id: UUID, plan: str, payment_method: str
) -> Subscription:
    now = await billing.clock.now()
    customer = await customer_of(billing, account_id)
    method = await billing.provider.check_payment_method(customer, payment_method)
    draft = _draft(account_id, plan, now, billing.policy.period_after(now, plan))
    draft = replace(draft, payment_method=method, customer_id=customer)
    paid = await payments.charge(
        billing.pool, billing.provider, billing.policy, draft, plan=plan, period_start=now,
        key=f"subscribe:{draft.id}", record=False,
    )  # fmt: skip
    if not paid.charge.paid:
        raise _declined(paid)
    values = {k: v for k, v in asdict(draft).items() if k not in _SET_BY_THE_DATABASE}
    values["state"] = str(INITIAL)
    event = writes.EventRow(
        Event.SUBSCRIBE, None, INITIAL, SOURCE, now,
        {"plan": plan, "period_end": draft.period_end.isoformat(), "charge_id": paid.charge.id},
        paid.event_key,
    )  # fmt: skip
    try:
        return await writes.create(conn, values, event, paid.invoice)
    except writes.SubscriptionExists:
        raise SubscriptionExists("the account subscribed already") from None


async def _apply(billing: Billing, sub: Subscription, event: Event, **kw: object) -> Subscription:
    applied = await lifecycle.apply(
        billing.pool, sub.id, event, source=SOURCE, now=await billing.clock.now(),
        policy=billing.policy, notifier=billing.notifier, **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return applied.subscription


async def simple(billing: Billing, sub: Subscription, event: Event) -> Subscription:
    """An event with no charge: cancel, resume."""
    return await _apply(billing, sub, event)


async def change_plan(billing: Billing, sub: Subscription, plan: str) -> Subscription:
    """An upgrade is charged (a new period of the new plan, from now) and applies at once; a
    downgrade waits for the period end; the current plan drops a pending downgrade."""
    if not state(sub.state).accepts(Event.CHANGE_PLAN):
        raise InvalidTransition(sub.state, Event.CHANGE_PLAN)
    plans = billing.policy.plans
    if plan == sub.plan or plans.rank(plan) < plans.rank(sub.plan):
        return await _apply(billing, sub, Event.CHANGE_PLAN, args={"plan": plan})
    paid = await payments.charge(
        billing.pool, billing.provider, billing.policy, sub, plan=plan,
        period_start=await billing.clock.now(), key=f"upgrade:{sub.id}:{sub.version}:{plan}",
    )  # fmt: skip
    if not paid.charge.paid:
        raise _declined(paid)
    return await _apply(billing, sub, Event.CHANGE_PLAN, args={"plan": plan},
                        key=paid.event_key, detail={"charge_id": paid.charge.id})  # fmt: skip


async def update_payment_method(
    billing: Billing, sub: Subscription, payment_method: str
) -> Subscription:
    """Stores the new method; in GracePeriod or Suspended it is charged at once, and the
    subscription is Active again when paid (402 payment_failed when declined: the new method
    stays, the state too)."""
    if not state(sub.state).accepts(Event.PAYMENT_METHOD_UPDATED):
        raise InvalidTransition(sub.state, Event.PAYMENT_METHOD_UPDATED)
    assert sub.customer_id is not None
    method = await billing.provider.check_payment_method(sub.customer_id, payment_method)
    sub = await _apply(billing, sub, Event.PAYMENT_METHOD_UPDATED, args={"payment_method": method})
    if sub.state not in (StateName.GRACE_PERIOD, StateName.SUSPENDED):
        return sub
    now = await billing.clock.now()
    start = sub.period_end if sub.state is StateName.GRACE_PERIOD else now
    paid = await payments.charge(
        billing.pool, billing.provider, billing.policy, sub, plan=sub.plan, period_start=start,
        key=f"reactivate:{sub.id}:{sub.version}",
    )  # fmt: skip
    if not paid.charge.paid:
        raise _declined(paid)
    return await _apply(billing, sub, Event.PAYMENT_METHOD_PAID, args={"plan": sub.plan},
                        key=paid.event_key, detail={"charge_id": paid.charge.id})  # fmt: skip
