"""Who may call each of the analytics service's routes: its one permission table.

The kernel's `authorization` middleware (streamcore/auth/middleware.py) enforces it; a route
missing here is refused. The collector is PUBLIC here only because a beacon carries its
token in its body, where the middleware cannot see it: it checks PLAY itself, from the same
role table, once it has read the token (analytics/collector.py).
"""

from __future__ import annotations

from streamcore.auth.roles import Permission

PUBLIC, ADMIN = Permission.PUBLIC, Permission.VIEW_ANALYTICS

PERMISSIONS: dict[str, Permission] = {
    "GET /healthz": PUBLIC,
    "GET /readyz": PUBLIC,
    "GET /metrics": PUBLIC,
    "GET /openapi/analytics.json": PUBLIC,
    "GET /diag/analytics/cpu": PUBLIC,
    "POST /v1/events": PUBLIC,
    "GET /v1/analytics/qoe": ADMIN,
    "GET /v1/analytics/top": ADMIN,
    "GET /v1/analytics/popularity": ADMIN,
    "GET /v1/analytics/concurrent": ADMIN,
    "GET /v1/analytics/sessions/{session_id}": ADMIN,
    "POST /v1/analytics/rollups": ADMIN,
    # The dashboard's page holds no data; the API it reads is admin-only.
    "GET /admin/dashboard": PUBLIC,
    "GET /admin/dashboard/": PUBLIC,
    "GET /admin/dashboard/vendor/{name}": PUBLIC,
    "GET /admin/dashboard/{name}": PUBLIC,
    "GET /v1/analytics/alerts": ADMIN,
    "POST /v1/analytics/alerts/evaluate": ADMIN,
    "GET /v1/analytics/platform": ADMIN,
    "POST /v1/analytics/platform/collect": ADMIN,
}
