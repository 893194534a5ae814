"""Who may call each of the notifications service's routes: its one permission table.

The kernel's `authorization` middleware (streamcore/auth/middleware.py) enforces it; a route
missing here is refused.
"""

from __future__ import annotations

from streamcore.auth.roles import Permission

PUBLIC = Permission.PUBLIC

PERMISSIONS: dict[str, Permission] = {
    # A signed-in caller's (its channels follow from its token: notifications/channels.py).
    "POST /v1/ws/tickets": Permission.ACCOUNT,
    # The ticket in the URL is the credential: browsers send no headers on a WebSocket.
    "GET /v1/ws": PUBLIC,
    "GET /healthz": PUBLIC,
    "GET /readyz": PUBLIC,
    "GET /metrics": PUBLIC,
    "GET /openapi/notifications.json": PUBLIC,
    "GET /diag/notifications/cpu": PUBLIC,
}
