"""Who may call each of the streaming service's routes: its one permission table.

The kernel's `authorization` middleware (streamcore/auth/middleware.py) enforces it; a route
missing here is refused (a test checks that none is). ``PLAY`` is a signed-in viewer's, or an
anonymous caller's where ``auth.allow_anonymous_playback`` allows it (401 otherwise); the
finer rules (whose session, which profile, maturity, stream slots) are the handlers'.
Steering manifests are public: players fetch them without headers, and they open nothing.
"""

from __future__ import annotations

from streamcore.auth.roles import Permission

PLAY, PUBLIC = Permission.PLAY, Permission.PUBLIC

PERMISSIONS: dict[str, Permission] = {
    "GET /v1/playback/{asset_id}": PLAY,
    "GET /v1/playback/{asset_id}/steering/{kind}": PUBLIC,
    "POST /v1/sessions": PLAY,
    "GET /v1/sessions": PLAY,
    "POST /v1/sessions/{session_id}/heartbeat": PLAY,
    "DELETE /v1/sessions/{session_id}": PLAY,
    "POST /v1/viewers": PLAY,
    "POST /v1/viewers/{viewer_id}/claim": PLAY,
    # An admin's read of another profile's progress (?profile_id=) is checked, and audited,
    # by the handler: MANAGE_ACCOUNTS, from the same role table.
    "GET /v1/progress": PLAY,
    "GET /v1/progress/{asset_id}": PLAY,
    "PUT /v1/progress/{asset_id}": PLAY,
    # A profile's own (its token), or an admin's support read: decided by
    # streaming/history/whose.py.
    "GET /v1/profiles/{profile_id}/history": PLAY,
    "GET /v1/profiles/{profile_id}/continue-watching": PLAY,
    "DELETE /v1/profiles/{profile_id}/continue-watching/{title_id}": PLAY,
    "GET /v1/profiles/{profile_id}/recommendations": PLAY,
    "POST /v1/admin/history": Permission.MANAGE_ACCOUNTS,
    "GET /healthz": PUBLIC,
    "GET /readyz": PUBLIC,
    "GET /metrics": PUBLIC,
    "GET /openapi/streaming.json": PUBLIC,
    "GET /diag/streaming/cpu": PUBLIC,
}
