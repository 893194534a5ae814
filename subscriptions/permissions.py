"""Who may call each route of the subscriptions service: its table for the kernel's
`authorization` middleware (streamcore/auth/middleware.py). A route missing here is refused to
everyone, and a test (tests/unit/subscriptions/test_subscriptions_app.py) checks that none is."""

from __future__ import annotations

from streamcore.auth.roles import Permission

P = Permission

PERMISSIONS: dict[str, Permission] = {
    # Health, metrics, documents, the plans: anyone (the gateway routes none of the first three).
    "GET /healthz": P.PUBLIC,
    "GET /readyz": P.PUBLIC,
    "GET /metrics": P.PUBLIC,
    "GET /diag/subscriptions/cpu": P.PUBLIC,
    "GET /openapi/subscriptions.json": P.PUBLIC,
    "GET /v1/plans": P.PUBLIC,
    # The provider's notifications: no token, their signature is checked instead.
    "POST /v1/billing/webhooks/{provider}": P.PUBLIC,
    # One's own subscription.
    "GET /v1/subscription": P.ACCOUNT,
    "POST /v1/subscription": P.ACCOUNT,
    "POST /v1/subscription/cancel": P.ACCOUNT,
    "POST /v1/subscription/resume": P.ACCOUNT,
    "POST /v1/subscription/change-plan": P.ACCOUNT,
    "POST /v1/subscription/payment-method": P.ACCOUNT,
    "GET /v1/subscription/events": P.ACCOUNT,
    "GET /v1/invoices": P.ACCOUNT,
    # Any account's entitlement (the catalog's and streaming's service accounts), and admin.
    "GET /v1/entitlements/{account_id}": P.MANAGE_SUBSCRIPTIONS,
    "GET /v1/admin/subscriptions": P.MANAGE_SUBSCRIPTIONS,
    "GET /v1/admin/subscriptions/{subscription_id}": P.MANAGE_SUBSCRIPTIONS,
    "GET /v1/admin/subscriptions/{subscription_id}/events": P.MANAGE_SUBSCRIPTIONS,
    "POST /v1/admin/subscriptions/tick": P.MANAGE_SUBSCRIPTIONS,
    # Only routed with subscriptions.test_clock (the test configuration).
    "POST /v1/admin/subscriptions/clock": P.MANAGE_SUBSCRIPTIONS,
}
