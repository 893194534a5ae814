"""The billing port: what the subscriptions service asks of a payment provider.

The service owns the lifecycle and its schedule (subscriptions/renewals.py): at each period
end it asks the provider to *charge* the account's payment method once for the plan's
price, with an idempotency key naming the subscription and the period, so a retried tick
never charges twice. A provider's own notifications (webhooks) are turned into
`ProviderEvent`s by `parse_webhook`, which verifies their signature first; the service
deduplicates them by ``id`` and applies them only when newer than what it has stored.

Adapters: ``local`` (billing/local.py, development and tests) and ``stripe``
(billing/stripe_billing.py). Vendor errors are turned into the exceptions below, never leaked.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable
from uuid import UUID


class BillingError(Exception):
    """Base of the port's errors; the message is fit to show the user."""


class InvalidPaymentMethod(BillingError):
    """The payment method does not exist or cannot be used (400 ``invalid_payment_method``)."""


class ProviderUnavailable(BillingError):
    """The provider did not answer or failed on its side (503, retried by the scheduler)."""


class WebhookRejected(BillingError):
    """A webhook's signature, timestamp or body is not acceptable (400 ``invalid_signature``)."""


@dataclass(frozen=True)
class Charge:
    """The outcome of one charge: paid, or declined with the provider's reason."""

    id: str  # the provider's id for it (a PaymentIntent's id on Stripe)
    paid: bool
    amount_minor: int
    currency: str
    # Declined: a stable code ("card_declined", "insufficient_funds", ...) and a message.
    failure_code: str | None = None
    failure_message: str | None = None


class EventKind(enum.StrEnum):
    """What a provider's event means for a subscription (its lifecycle event)."""

    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"


@dataclass(frozen=True)
class ProviderEvent:
    """A verified provider notification, in the service's terms."""

    id: str  # the provider's event id: the deduplication key
    type: str  # the provider's own type ("payment_intent.succeeded", ...)
    created: datetime  # when the provider says it happened (aware, UTC): the ordering key
    # None: an event the service does not act on (recorded, then ignored).
    kind: EventKind | None
    # The subscription it concerns, from the metadata the service put on the charge.
    subscription_id: UUID | None = None
    charge_id: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class BillingProvider(Protocol):
    """A payment provider. Every call is async and never blocks the event loop."""

    name: str  # "local", "stripe": the path of its webhooks (/v1/billing/webhooks/{name})

    async def ensure_customer(self, account_id: UUID, email: str | None) -> str:
        """The provider's customer id for this account, created on first use (idempotent)."""
        ...

    async def check_payment_method(self, customer_id: str, payment_method: str) -> str:
        """Attaches the payment method to the customer; returns its id as stored.

        Raises `InvalidPaymentMethod` when the provider refuses it.
        """
        ...

    async def charge(
        self,
        *,
        customer_id: str,
        payment_method: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        description: str,
        metadata: Mapping[str, str],
    ) -> Charge:
        """Charges once per idempotency key: a retry with the same key returns the same charge.

        A decline is a `Charge` with ``paid=False``, not an exception; `ProviderUnavailable`
        means nothing is known and the charge may be retried with the same key.
        """
        ...

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        """Verifies the signature (constant time, timestamp within the tolerance) and reads
        the event. Raises `WebhookRejected`. Pure CPU: no I/O."""
        ...

    async def aclose(self) -> None: ...
