"""The local billing adapter: development and tests, no network, deterministic.

Test payment methods named like Stripe's: ``pm_card_visa`` is paid,
``pm_card_chargeDeclined`` is declined (``card_declined``),
``pm_card_chargeDeclinedInsufficientFunds`` is declined (``insufficient_funds``); any other is
`InvalidPaymentMethod`. Customers and charges are kept in the service's database (tables
``local_customers`` and ``local_charges``), a charge by its idempotency key, so a retried
charge returns the first one, across processes.

Its webhooks are signed like Stripe's: header ``StreamCore-Signature: t=<unix>,v1=<hex>``
where the hex is HMAC-SHA256(``subscriptions.local_webhook_secret``, ``f"{t}.{body}"``),
checked in constant time, and refused when ``t`` is further than
``subscriptions.webhook_tolerance_s`` from now. `sign` and `event_body` build them (for tests
and for replaying a provider's event by hand).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from streamcore.settings import Settings
from subscriptions.billing.port import (
    Charge,
    EventKind,
    InvalidPaymentMethod,
    ProviderEvent,
    WebhookRejected,
)

SIGNATURE_HEADER = "StreamCore-Signature"
# payment method -> None (paid) or (failure code, message)
METHODS: dict[str, tuple[str, str] | None] = {
    "pm_card_visa": None,
    "pm_card_chargeDeclined": ("card_declined", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "insufficient_funds", "Your card has insufficient funds."
    ),
}  # fmt: skip
EVENT_KINDS = {
    "payment_intent.succeeded": EventKind.PAYMENT_SUCCEEDED,
    "payment_intent.payment_failed": EventKind.PAYMENT_FAILED,
}


def _digest(value: str, length: int) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:length]


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The StreamCore-Signature header's value for `body`."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event_body(
    event_id: str, type_: str, created: datetime, charge: Charge | None, **metadata: str
) -> bytes:
    """A local provider event's JSON, as `parse_webhook` reads it."""
    data: dict[str, Any] = {"metadata": metadata}
    if charge is not None:
        data.update(
            charge_id=charge.id, amount_minor=charge.amount_minor, currency=charge.currency,
            failure_code=charge.failure_code, failure_message=charge.failure_message,
        )  # fmt: skip
    body = {"id": event_id, "type": type_, "created": int(created.timestamp()), "data": data}
    return json.dumps(body, separators=(",", ":")).encode()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


class LocalBilling:
    name = "local"

    def __init__(
        self,
        pool: asyncpg.Pool,
        secret: str | None,
        tolerance_s: int,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._pool, self._secret, self._tolerance_s, self._now = pool, secret, tolerance_s, now

    @classmethod
    def from_settings(cls, settings: Settings, pool: asyncpg.Pool) -> LocalBilling:
        section = settings.subscriptions
        secret = section.local_webhook_secret
        return cls(pool, secret.get_secret_value() if secret else None, section.webhook_tolerance_s)

    async def ensure_customer(self, account_id: UUID, email: str | None) -> str:
        found: str = await self._pool.fetchval(
            """
            INSERT INTO local_customers (id, account_id, email) VALUES ($1, $2, $3)
            ON CONFLICT (account_id) DO UPDATE SET email = coalesce(EXCLUDED.email,
                                                                    local_customers.email)
            RETURNING id
            """,
            f"cus_local_{_digest(str(account_id), 14)}", account_id, email,
        )  # fmt: skip
        return found

    async def check_payment_method(self, customer_id: str, payment_method: str) -> str:
        if payment_method not in METHODS:
            known = ", ".join(METHODS)
            raise InvalidPaymentMethod(f"no such payment method {payment_method!r} ({known})")
        return payment_method

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
        await self.check_payment_method(customer_id, payment_method)
        failure = METHODS[payment_method]
        await self._pool.execute(
            """
            INSERT INTO local_charges (idempotency_key, id, customer_id, payment_method,
                                       amount_minor, currency, paid, failure_code,
                                       failure_message, metadata)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            ON CONFLICT (idempotency_key) DO NOTHING
            """,
            idempotency_key, f"ch_local_{_digest(idempotency_key, 24)}", customer_id,
            payment_method, amount_minor, currency, failure is None,
            failure[0] if failure else None, failure[1] if failure else None, dict(metadata),
        )  # fmt: skip
        row = await self._pool.fetchrow(
            "SELECT id, paid, amount_minor, currency, failure_code, failure_message "
            "FROM local_charges WHERE idempotency_key = $1",
            idempotency_key,
        )
        return Charge(**dict(row))

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        self._verify(payload, _header(headers, SIGNATURE_HEADER))
        try:
            body = json.loads(payload)
            data = body.get("data") or {}
            metadata = {str(k): str(v) for k, v in (data.get("metadata") or {}).items()}
            subscription = metadata.get("subscription_id")
            return ProviderEvent(
                id=str(body["id"]), type=str(body["type"]),
                created=datetime.fromtimestamp(int(body["created"]), UTC),
                kind=EVENT_KINDS.get(str(body["type"])),
                subscription_id=UUID(subscription) if subscription else None,
                charge_id=data.get("charge_id"), amount_minor=data.get("amount_minor"),
                currency=data.get("currency"), failure_code=data.get("failure_code"),
                failure_message=data.get("failure_message"), metadata=metadata,
            )  # fmt: skip
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise WebhookRejected(f"not a provider event: {exc}") from None

    def _verify(self, payload: bytes, header: str | None) -> None:
        if self._secret is None:
            raise WebhookRejected("subscriptions.local_webhook_secret is not set")
        if not header:
            raise WebhookRejected(f"no {SIGNATURE_HEADER} header")
        parts = [item.partition("=") for item in header.split(",")]
        stamps = [v for k, _, v in parts if k.strip() == "t"]
        macs = [v.strip() for k, _, v in parts if k.strip() == "v1"]
        if len(stamps) != 1 or not stamps[0].strip().isdigit() or not macs:
            raise WebhookRejected(f"{SIGNATURE_HEADER}: expected t=<unix>,v1=<hex>")
        t = int(stamps[0])
        if abs(self._now() - t) > self._tolerance_s:
            raise WebhookRejected("the signature's timestamp is outside the tolerance")
        expected = sign(self._secret, payload, t).partition("v1=")[2]
        # Every candidate compared, each in constant time.
        if not any([hmac.compare_digest(expected, mac) for mac in macs]):
            raise WebhookRejected("the signature does not match")

    async def aclose(self) -> None:
        return None
