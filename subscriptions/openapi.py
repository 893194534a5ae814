"""Every endpoint of the subscriptions service, declared once for its OpenAPI document, served
at /openapi/subscriptions.json (the gateway routes that prefix here). Built by
streamcore/web/openapi.py, like the other services'.

tests/integration/subscriptions/test_subscriptions_api.py checks this list against the app's
routes. The clock endpoint is documented only where it is routed (subscriptions.test_clock).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from streamcore.web import diagnostics
from streamcore.web.openapi import (
    Body,
    ErrorBody,
    Operation,
    Param,
    Reply,
    build,
    health_operations,
)
from subscriptions import models as m

PATH = "/openapi/subscriptions.json"
UUID = {"type": "string", "format": "uuid"}
SUBSCRIPTION_ID = Param("subscription_id", "path", UUID)
ACCOUNT_ID = Param("account_id", "path", UUID)
PROVIDER = Param("provider", "path", {"type": "string"}, description="local or stripe")
FORBIDDEN = Reply("The caller's role may not, or it is a service account's key", ErrorBody)
PAYMENT_FAILED = Reply(
    "402 `payment_failed`: the charge was declined (`failure_code` says why); nothing changed",
    ErrorBody,
)
REFUSED = "409 `invalid_transition` (naming the state) when the state does not accept it."
SUB = Reply("The subscription and what it grants now", m.SubscriptionWithAccess)

MINE = [
    Operation("GET", "/v1/plans", "listPlans", "The plans", "plans",
              {200: Reply("Every plan, cheapest first", m.PlanList)}),
    Operation("GET", "/v1/subscription", "getSubscription", "One's subscription",
              "subscription", {200: SUB, 403: FORBIDDEN}, admin=True, errors=(404,),
              description="404 `no_subscription` for an account that never subscribed."),
    Operation("POST", "/v1/subscription", "subscribe", "Subscribe: the first period is charged",
              "subscription", {201: SUB, 402: PAYMENT_FAILED, 403: FORBIDDEN},
              body=Body(m.SubscribeIn), admin=True, errors=(400, 409, 503),
              description="400 `invalid_payment_method`; 409 `subscription_exists` while the "
              "account has a subscription that is not Expired."),
    Operation("POST", "/v1/subscription/cancel", "cancel",
              "Cancel: the plan stays until the period ends", "subscription",
              {200: SUB, 403: FORBIDDEN}, admin=True, errors=(404, 409), description=REFUSED),
    Operation("POST", "/v1/subscription/resume", "resume",
              "Resume a cancelled subscription before its period ends", "subscription",
              {200: SUB, 403: FORBIDDEN}, admin=True, errors=(404, 409), description=REFUSED),
    Operation("POST", "/v1/subscription/change-plan", "changePlan",
              "Upgrade (charged, at once) or downgrade (at the period end)", "subscription",
              {200: SUB, 402: PAYMENT_FAILED, 403: FORBIDDEN}, body=Body(m.ChangePlanIn),
              admin=True, errors=(400, 404, 409, 503), description=REFUSED),
    Operation("POST", "/v1/subscription/payment-method", "updatePaymentMethod",
              "A new payment method; charged at once in GracePeriod or Suspended",
              "subscription", {200: SUB, 402: PAYMENT_FAILED, 403: FORBIDDEN},
              body=Body(m.PaymentMethodIn), admin=True, errors=(400, 404, 409, 503),
              description="400 `invalid_payment_method`. " + REFUSED),
    Operation("GET", "/v1/subscription/events", "subscriptionEvents",
              "One's subscription's history", "subscription",
              {200: Reply("Every transition, oldest first", m.EventList), 403: FORBIDDEN},
              admin=True, errors=(404,)),
    Operation("GET", "/v1/invoices", "listInvoices", "One's invoices", "subscription",
              {200: Reply("Newest first", m.InvoiceList), 403: FORBIDDEN},
              query_model=m.InvoicesParams, admin=True, errors=(400,)),
]  # fmt: skip

SERVICES = [
    Operation("GET", "/v1/entitlements/{account_id}", "entitlement",
              "What an account may play now", "entitlements",
              {200: Reply("Its entitlement (the free plan without a paid grant)",
                          m.EntitlementOut), 403: FORBIDDEN}, (ACCOUNT_ID,), admin=True,
              errors=(404,)),
    Operation("POST", "/v1/billing/webhooks/{provider}", "webhook",
              "A payment provider's notification (signed)", "billing",
              {200: Reply("What became of it", m.WebhookOut)}, (PROVIDER,),
              body=Body(raw={"application/json": {"schema": {"type": "object"}}}),
              errors=(400, 404),
              description="400 `invalid_signature`; 404 for another provider than the "
              "configured one."),
]  # fmt: skip

ADMIN = [
    Operation("GET", "/v1/admin/subscriptions", "adminListSubscriptions", "Every subscription",
              "admin", {200: Reply("A page, newest first", m.SubscriptionPage), 403: FORBIDDEN},
              query_model=m.AdminParams, admin=True, errors=(400,)),
    Operation("GET", "/v1/admin/subscriptions/{subscription_id}", "adminShowSubscription",
              "One subscription", "admin",
              {200: Reply("The subscription", m.SubscriptionOut), 403: FORBIDDEN},
              (SUBSCRIPTION_ID,), admin=True, errors=(404,)),
    Operation("GET", "/v1/admin/subscriptions/{subscription_id}/events",
              "adminSubscriptionEvents", "One subscription's history", "admin",
              {200: Reply("Oldest first", m.EventList), 403: FORBIDDEN}, (SUBSCRIPTION_ID,),
              admin=True, errors=(404,)),
    Operation("POST", "/v1/admin/subscriptions/tick", "adminTick",
              "Run the scheduler's time-based transitions now", "admin",
              {200: Reply("What was done", m.TickOut), 403: FORBIDDEN}, admin=True),
]  # fmt: skip

CLOCK = Operation(
    "POST", "/v1/admin/subscriptions/clock", "adminAdvanceClock",
    "Move the lifecycle's clock forward (test configuration only)", "admin",
    {200: Reply("The clock now", m.ClockOut), 403: FORBIDDEN}, body=Body(m.ClockIn), admin=True,
    errors=(400,),
)  # fmt: skip

DESCRIPTION = """StreamCore's subscriptions service: plans, one's subscription through its
lifecycle (Active, GracePeriod, Suspended, Cancelled, Expired), invoices, the entitlement every
service asks for, the payment provider's webhooks, and administration (docs/subscriptions.md).

Operations with a lock need `Authorization: Bearer <access token>` (entitlements and admin
ones a role holding manage_subscriptions, or a service account's key). Every error is JSON,
`{"error": {"code": "...", "message": "..."}}`, with a stable `code`."""


@cache
def document(test_clock: bool = False) -> dict[str, Any]:
    operations = [
        *MINE, *SERVICES, *ADMIN, *([CLOCK] if test_clock else []),
        *health_operations("requests; subscriptions by state and plan; transitions by type"),
        diagnostics.operation("subscriptions"),
    ]  # fmt: skip
    return build(
        operations, title="StreamCore subscriptions API", version="1", description=DESCRIPTION,
        api_key="An access token from POST /v1/auth/login, or a service account's key",
    )  # fmt: skip
