"""Who may call each of the analytics service's routes: its one permission table.

The kernel's `authorization` middleware (streamcore/auth/middleware.py) enforces it; a route
missing here is refused.
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
}
