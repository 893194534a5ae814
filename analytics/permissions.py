"""Who may call each of the analytics service's routes: its one permission table.

The kernel's `authorization` middleware (streamcore/auth/middleware.py) enforces it; a route
missing here is refused.
"""

from __future__ import annotations

from streamcore.auth.roles import Permission

PUBLIC = Permission.PUBLIC
# The analytics reads are the admins': the one admin-held permission for them.
ADMIN_READ = Permission.MANAGE_ACCOUNTS

PERMISSIONS: dict[str, Permission] = {
    "GET /healthz": PUBLIC,
    "GET /readyz": PUBLIC,
    "GET /metrics": PUBLIC,
    "GET /openapi/analytics.json": PUBLIC,
    "GET /diag/analytics/cpu": PUBLIC,
    # The dashboard's page holds no data; the API it reads is admin-only.
    "GET /admin/dashboard": PUBLIC,
    "GET /admin/dashboard/": PUBLIC,
    "GET /admin/dashboard/vendor/{name}": PUBLIC,
    "GET /admin/dashboard/{name}": PUBLIC,
    "GET /v1/analytics/alerts": ADMIN_READ,
    "POST /v1/analytics/alerts/evaluate": ADMIN_READ,
    "GET /v1/analytics/platform": ADMIN_READ,
}
