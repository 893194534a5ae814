"""Who may call each route of the auth service: its table for the kernel's `authorization`
middleware (streamcore/auth/middleware.py). A route missing here is refused to everyone, and
a test (tests/unit/auth/test_auth_permissions.py) checks that none is missing."""

from __future__ import annotations

from streamcore.auth.roles import Permission

P = Permission

PERMISSIONS: dict[str, Permission] = {
    # Health, metrics, documents, keys: anyone (the gateway routes none of the first three).
    "GET /healthz": P.PUBLIC,
    "GET /readyz": P.PUBLIC,
    "GET /metrics": P.PUBLIC,
    "GET /diag/auth/cpu": P.PUBLIC,
    "GET /.well-known/jwks.json": P.PUBLIC,
    "GET /openapi/auth.json": P.PUBLIC,
    # Signing up and in: before there is a token.
    "POST /v1/auth/signup": P.PUBLIC,
    "POST /v1/auth/login": P.PUBLIC,
    "POST /v1/auth/refresh": P.PUBLIC,
    # One's own account, profiles and devices.
    "POST /v1/auth/logout": P.ACCOUNT,
    "GET /v1/me": P.ACCOUNT,
    "GET /v1/profiles": P.ACCOUNT,
    "POST /v1/profiles": P.ACCOUNT,
    "PATCH /v1/profiles/{profile_id}": P.ACCOUNT,
    "DELETE /v1/profiles/{profile_id}": P.ACCOUNT,
    "POST /v1/profiles/{profile_id}/select": P.ACCOUNT,
    "GET /v1/devices": P.ACCOUNT,
    "DELETE /v1/devices/{device_id}": P.ACCOUNT,
    "POST /v1/devices/sign-out-others": P.ACCOUNT,
    # Everyone's accounts, and the audit log.
    "GET /v1/admin/accounts": P.MANAGE_ACCOUNTS,
    "POST /v1/admin/accounts": P.MANAGE_ACCOUNTS,
    "PATCH /v1/admin/accounts/{account_id}": P.MANAGE_ACCOUNTS,
    # Any account's profile (the streaming service asks with its service account), and
    # resolving or creating accounts' profiles for imports.
    "GET /v1/admin/profiles/{profile_id}": P.MANAGE_ACCOUNTS,
    "POST /v1/admin/profiles/resolve": P.MANAGE_ACCOUNTS,
    "GET /v1/admin/audit": P.READ_AUDIT,
    # Rate limits: their status, the ranges cooling down, lifting a cool-down.
    "GET /v1/admin/ratelimit": P.MANAGE_ACCOUNTS,
    "GET /v1/admin/ratelimit/bans": P.MANAGE_ACCOUNTS,
    "DELETE /v1/admin/ratelimit/bans/{range}": P.MANAGE_ACCOUNTS,
}
