"""The ``stripe`` adapter of the billing port: Stripe's API through its official SDK, async.

`StripeBilling` calls Stripe with `stripe.StripeClient`'s ``*_async`` methods over the SDK's
HTTPX-based async client, so nothing blocks the event loop; `from_settings` builds it from
``subscriptions.stripe`` (docs/billing.md). The Stripe calls, per port method:

- `ensure_customer`: Search customers, ``GET /v1/customers/search`` by
  ``metadata['account_id']`` (https://docs.stripe.com/api/customers/search); if none, Create a
  customer, ``POST /v1/customers`` (https://docs.stripe.com/api/customers/create), with an
  idempotency key derived from the account (https://docs.stripe.com/api/idempotent_requests)
  that covers Search's lag behind writes.
- `check_payment_method`: ``POST /v1/payment_methods/{id}/attach``
  (https://docs.stripe.com/api/payment_methods/attach). A test PaymentMethod (``pm_card_visa``,
  https://docs.stripe.com/testing#cards) becomes a new ``pm_...``: the id returned. A card
  declined as it is attached is returned as given, so that the charge reports the decline.
- `charge`: ``POST /v1/payment_intents`` with ``confirm`` and ``off_session``
  (https://docs.stripe.com/api/payment_intents/create), the port's idempotency key as
  ``Idempotency-Key``, the caller's metadata (``subscription_id``) on the intent.
- `parse_webhook`: ``stripe.Webhook.construct_event`` (https://docs.stripe.com/webhooks);
  ``payment_intent.succeeded`` and ``payment_intent.payment_failed`` are acted on.

Errors (https://docs.stripe.com/api/errors): a card error is a declined `Charge` with its
decline code (https://docs.stripe.com/declines/codes); an invalid request about the payment
method is `InvalidPaymentMethod`; no connection, 429, 5xx or a refused key `ProviderUnavailable`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import stripe

from subscriptions.billing.port import (
    BillingError,
    Charge,
    EventKind,
    InvalidPaymentMethod,
    ProviderEvent,
    ProviderUnavailable,
    WebhookRejected,
)

if TYPE_CHECKING:
    from stripe.params import CustomerCreateParams, PaymentIntentCreateParams

    from streamcore.settings import Settings
    from subscriptions.billing.port import BillingProvider

logger = logging.getLogger(__name__)

# Slower than this is ProviderUnavailable; the renewal is retried later with the same key.
DEFAULT_TIMEOUT_S = 30.0
# The SDK retries connection errors, 409 and 5xx itself, with the same Idempotency-Key.
DEFAULT_NETWORK_RETRIES = 2
SIGNATURE_HEADER = "Stripe-Signature"
# Stripe's decline code for "no reason given"; the error's code ("card_declined") says as much.
_GENERIC_DECLINE = "generic_decline"
# The Stripe event types the lifecycle acts on; every other type is recorded, then ignored.
EVENT_KINDS: Mapping[str, EventKind] = {
    "payment_intent.succeeded": EventKind.PAYMENT_SUCCEEDED,
    "payment_intent.payment_failed": EventKind.PAYMENT_FAILED,
}


def from_settings(settings: Settings) -> StripeBilling:
    """The adapter configured by ``subscriptions.stripe`` (keys from configuration only)."""
    section = settings.subscriptions
    if section.stripe.api_key is None:
        raise ValueError("subscriptions.stripe.api_key: required by the stripe provider")
    if section.stripe.webhook_secret is None:
        raise ValueError("subscriptions.stripe.webhook_secret: required by the stripe provider")
    return StripeBilling(
        api_key=section.stripe.api_key.get_secret_value(),
        webhook_secret=section.stripe.webhook_secret.get_secret_value(),
        api_base=section.stripe.api_base,
        webhook_tolerance_s=section.webhook_tolerance_s,
    )


class StripeBilling:
    """The BillingProvider for Stripe. Build with `from_settings`; close with `aclose`."""

    name = "stripe"

    def __init__(
        self,
        *,
        api_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        webhook_tolerance_s: int = stripe.Webhook.DEFAULT_TOLERANCE,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_network_retries: int = DEFAULT_NETWORK_RETRIES,
    ) -> None:
        # The SDK's telemetry writes an id file under $HOME on the first request and probes the
        # platform on every one: file I/O on the event loop. It is a process-wide SDK switch.
        stripe.enable_telemetry = False
        self._api_key = api_key
        self._webhook_secret = webhook_secret
        self._tolerance_s = webhook_tolerance_s
        self._http = _HTTPXClient(timeout=timeout_s)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base.rstrip("/")} if api_base else None,
            max_network_retries=max_network_retries,
            http_client=self._http,
        )

    async def ensure_customer(self, account_id: UUID, email: str | None) -> str:
        try:
            found = await self._client.v1.customers.search_async(
                {"query": f"metadata['account_id']:'{account_id}'", "limit": 1}
            )
            if found.data:
                return found.data[0].id
            params: CustomerCreateParams = {"metadata": {"account_id": str(account_id)}}
            if email:
                params["email"] = email
            customer = await self._client.v1.customers.create_async(
                params, {"idempotency_key": f"streamcore-customer-{account_id}"}
            )
        except stripe.StripeError as exc:
            raise _translate(exc, "customer") from exc
        return customer.id

    async def check_payment_method(self, customer_id: str, payment_method: str) -> str:
        try:
            attached = await self._client.v1.payment_methods.attach_async(
                payment_method,
                {"customer": customer_id},
                {"idempotency_key": f"streamcore-attach-{customer_id}-{payment_method}"},
            )
        except stripe.InvalidRequestError as exc:
            if exc.param == "customer":
                raise _translate(exc, "payment method") from exc
            raise InvalidPaymentMethod(_user_message(exc, "the payment method")) from exc
        except stripe.CardError as exc:
            # Stripe checks a card as it attaches it, so its declining cards (the test ones too)
            # are refused here. It goes back as given, unattached: the charge that follows is
            # declined with Stripe's reason, a decline (402), not an invalid method (400).
            logger.info("Stripe declined attaching a card: %s (%s)", exc.code, exc.user_message)
            return payment_method
        except stripe.StripeError as exc:
            raise _translate(exc, "payment method") from exc
        return attached.id

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
        params: PaymentIntentCreateParams = {
            "amount": amount_minor,
            "currency": currency.lower(),  # Stripe's currencies are lowercase ISO 4217
            "customer": customer_id,
            "payment_method": payment_method,
            "confirm": True,
            "off_session": True,  # a renewal: the customer is not there to authenticate
            "description": description,
            "metadata": dict(metadata),
        }
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        except stripe.CardError as exc:
            return _declined(exc, amount_minor, currency)
        except stripe.StripeError as exc:
            raise _translate(exc, "charge") from exc
        paid = intent.status == "succeeded"
        # Any other status (requires_action, processing, ...) is not paid now; a later
        # payment_intent.succeeded webhook still counts, through parse_webhook.
        return Charge(
            id=intent.id,
            paid=paid,
            amount_minor=intent.amount,
            currency=intent.currency.upper(),
            failure_code=None if paid else intent.status,
            failure_message=None if paid else f"not completed (Stripe status {intent.status})",
        )

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        signature = _header(headers, SIGNATURE_HEADER)
        if not signature:
            raise WebhookRejected(f"no {SIGNATURE_HEADER} header")
        try:
            event = stripe.Webhook.construct_event(
                payload, signature, self._webhook_secret, self._tolerance_s, api_key=self._api_key
            )
            return _provider_event(event)
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected(f"invalid Stripe signature: {exc.user_message}") from None
        except (ValueError, TypeError, AttributeError, KeyError):
            # Not UTF-8, not JSON, or not an event (construct_event parses after verifying).
            raise WebhookRejected("the webhook's body is not a Stripe event") from None

    async def aclose(self) -> None:
        await self._http.close_async()


class _HTTPXClient(stripe.HTTPXClient):
    """The SDK's HTTPX client, handing httpx the form it encoded as ``content=``.

    stripe-python passes the encoded body as ``data=<str>``, which httpx deprecates (a
    DeprecationWarning on every POST; raw ``data=`` goes in httpx 1.0).
    """

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any
    ) -> Any:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        body = kwargs.pop("data", None)
        if body:
            kwargs["content"] = body
        return args, kwargs


def _declined(exc: stripe.CardError, amount_minor: int, currency: str) -> Charge:
    """A charge the card refused (402): Stripe's decline code, or its error code."""
    error = exc.error
    decline = error.decline_code if error is not None else None
    intent = error.payment_intent if error is not None else None
    return Charge(
        id=intent.id if intent is not None else "",
        paid=False,
        amount_minor=amount_minor,
        currency=currency.upper(),
        failure_code=_failure_code(decline, exc.code),
        failure_message=_user_message(exc, "the card"),
    )


def _failure_code(decline_code: str | None, code: str | None) -> str:
    """The stable reason of a decline: the decline code when it says more than "declined"."""
    if decline_code and decline_code != _GENERIC_DECLINE:
        return decline_code
    return code or "card_declined"


def _translate(exc: stripe.StripeError, what: str) -> BillingError:
    """The port's error for a Stripe error raised by the `what` call (not a card error)."""
    if isinstance(exc, stripe.InvalidRequestError) and _about_payment_method(exc):
        return InvalidPaymentMethod(_user_message(exc, "the payment method"))
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError | stripe.APIError):
        # No answer, 429, 5xx (and 409 after the SDK's retries): nothing is known.
        logger.warning("Stripe unavailable (%s): %r", what, exc)
        return ProviderUnavailable("the payment provider is unavailable; try again later")
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        logger.error("Stripe refused the API key (%s): check subscriptions.stripe: %r", what, exc)
        return ProviderUnavailable("the payment provider is unavailable; try again later")
    if isinstance(exc, stripe.IdempotencyError):
        logger.error("Stripe refused an idempotency key reused with new parameters (%s)", what)
    else:
        logger.error("Stripe rejected the %s: %r", what, exc)
    return BillingError(f"the payment provider rejected the {what}")


def _about_payment_method(exc: stripe.InvalidRequestError) -> bool:
    code = exc.code or ""
    return (
        exc.param == "payment_method"
        or code.startswith("payment_method_")
        or code == "payment_intent_incompatible_payment_method"
    )


def _user_message(exc: stripe.StripeError, what: str) -> str:
    return exc.user_message or f"{what} was refused"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """`name` from `headers`, case-insensitively (aiohttp's are; a plain dict is not)."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def _provider_event(event: stripe.Event) -> ProviderEvent:
    """A verified Stripe event in the port's terms."""
    kind = EVENT_KINDS.get(event.type)
    created = datetime.fromtimestamp(event.created, UTC)
    if kind is None:
        return ProviderEvent(id=event.id, type=event.type, created=created, kind=None)
    intent: dict[str, Any] = event.data.object.to_dict()
    metadata = {str(k): str(v) for k, v in (intent.get("metadata") or {}).items()}
    error: Mapping[str, Any] = intent.get("last_payment_error") or {}
    failed = kind is EventKind.PAYMENT_FAILED
    currency = intent.get("currency")
    return ProviderEvent(
        id=event.id,
        type=event.type,
        created=created,
        kind=kind,
        subscription_id=_uuid(metadata.get("subscription_id")),
        charge_id=intent.get("id"),
        amount_minor=intent.get("amount"),
        currency=currency.upper() if isinstance(currency, str) else None,
        failure_code=_failure_code(error.get("decline_code"), error.get("code"))
        if failed
        else None,
        failure_message=error.get("message") if failed else None,
        metadata=metadata,
    )


def _uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


if TYPE_CHECKING:
    _checked: type[BillingProvider] = StripeBilling
