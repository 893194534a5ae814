"""The service's errors as the kernel's JSON errors, and the middleware translating the
lifecycle's and the billing port's exceptions at the boundary."""

from __future__ import annotations

import logging

from aiohttp import web

from streamcore.web.service import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    Handler,
    NotFound,
    ServiceUnavailable,
)
from subscriptions import lifecycle
from subscriptions.billing.port import InvalidPaymentMethod, ProviderUnavailable
from subscriptions.states import InvalidTransition

log = logging.getLogger(__name__)


class TransitionRefused(Conflict):
    code = "invalid_transition"


class SubscriptionExists(Conflict):
    code = "subscription_exists"


class NoSubscription(NotFound):
    code = "no_subscription"


class PaymentFailed(ApiError):
    status, code = 402, "payment_failed"


class BadPaymentMethod(BadRequest):
    code = "invalid_payment_method"


class InvalidSignature(BadRequest):
    code = "invalid_signature"


class AccountRequired(Forbidden):
    code = "account_required"


class Busy(ServiceUnavailable):
    code = "busy"


@web.middleware
async def billing_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except InvalidTransition as exc:
        raise TransitionRefused(
            exc.message, extra={"state": str(exc.state), "event": str(exc.event)}
        ) from None
    except InvalidPaymentMethod as exc:
        raise BadPaymentMethod(str(exc)) from None
    except ProviderUnavailable as exc:
        log.warning("billing provider unavailable on %s %s: %s", request.method, request.path, exc)
        raise ServiceUnavailable(
            "the payment provider is unavailable; retry shortly", headers={"Retry-After": "5"}
        ) from None
    except lifecycle.LostRace:
        raise Busy("the subscription is changing; retry", headers={"Retry-After": "1"}) from None
    except lifecycle.NotFound as exc:
        raise NotFound(str(exc)) from None
