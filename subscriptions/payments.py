"""Charging a subscription's payment method through the provider, and recording the invoice.

One place builds every charge: its amount and currency (the plan's), its idempotency key
(which names the subscription and the period, so a retry never charges twice), and the
metadata a provider's webhook brings back (the subscription's id). The invoice is recorded
under the same key, so a retried charge records nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from subscriptions import writes
from subscriptions.billing.port import BillingProvider, Charge, InvalidPaymentMethod
from subscriptions.policy import Policy
from subscriptions.records import Subscription


@dataclass(frozen=True)
class Paid:
    charge: Charge
    plan: str
    period_start: datetime
    period_end: datetime
    invoice: writes.InvoiceRow

    @property
    def event_key(self) -> str:
        """The lifecycle event's key: one charge is applied once, whoever reports it (the
        caller that charged, or the provider's webhook)."""
        return charge_key(self.charge.id)


def charge_key(charge_id: str) -> str:
    return f"charge:{charge_id}"


async def charge(
    pool: asyncpg.Pool,
    provider: BillingProvider,
    policy: Policy,
    sub: Subscription,
    *,
    plan: str,
    period_start: datetime,
    key: str,
    payment_method: str | None = None,
    record: bool = True,
) -> Paid:
    """Charges `plan`'s price for the period from `period_start` (paid or declined: see
    ``Paid.charge.paid``) and records its invoice. InvalidPaymentMethod, ProviderUnavailable
    pass through."""
    price = policy.plan(plan)
    period_end = policy.period_after(period_start, plan)
    method = payment_method or sub.payment_method
    if method is None or sub.customer_id is None:
        raise InvalidPaymentMethod("the subscription has no payment method")
    result = await provider.charge(
        customer_id=sub.customer_id, payment_method=method, amount_minor=price.amount_minor,
        currency=price.currency, idempotency_key=key,
        description=f"StreamCore {price.display_name}, {period_start:%Y-%m-%d} to "
        f"{period_end:%Y-%m-%d}",
        metadata={"subscription_id": str(sub.id), "account_id": str(sub.account_id),
                  "plan": plan, "period_start": period_start.isoformat()},
    )  # fmt: skip
    invoice = writes.InvoiceRow(
        plan=plan, amount_minor=result.amount_minor, currency=result.currency,
        period_start=period_start, period_end=period_end, paid=result.paid,
        provider=provider.name, charge_id=result.id, failure_code=result.failure_code, key=key,
    )  # fmt: skip
    if record:
        await writes.record_invoice(pool, sub, invoice)
    return Paid(result, plan, period_start, period_end, invoice)
