"""Every endpoint of the streaming service, declared once for its OpenAPI document, served at
/openapi/streaming.json (the gateway routes that prefix here, and the rest of /openapi to the
catalog). Built by streamcore/web/openapi.py, like the catalog's.

tests/integration/test_streaming_openapi.py checks that this list and the app's routes match.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from streamcore.web import diagnostics
from streamcore.web.openapi import Body, Operation, Param, Reply, build, health_operations
from streaming import models as m

PATH = "/openapi/streaming.json"
UUID = {"type": "string", "format": "uuid"}
ASSET_ID = Param("asset_id", "path", UUID)
SESSION_ID = Param("session_id", "path", UUID)
VIEWER = Param("X-Viewer-Id", "header", UUID, True, "The id from POST /v1/viewers")

PLAYBACK = [
    Operation("GET", "/v1/playback/{asset_id}", "playbackUrls",
              "Signed HLS and DASH URLs: each CDN, primary first, then the origin", "playback",
              {200: Reply("Playback sources", m.PlaybackOut)},
              (ASSET_ID,), query_model=m.PlaybackParams, errors=(400, 404, 409, 503)),
    Operation("GET", "/v1/playback/{asset_id}/steering/{kind}", "steeringManifest",
              "The content steering manifest players fetch", "playback",
              {200: Reply("HLS or DASH steering manifest", schema={"type": "object"})},
              (ASSET_ID, Param("kind", "path", {"enum": ["hls", "dash"]})), errors=(404, 503)),
]  # fmt: skip

SESSIONS = [
    Operation("POST", "/v1/sessions", "startSession",
              "Start watching an asset: a session, and its playback URLs", "sessions",
              {201: Reply("The session", m.SessionStarted, headers=("Location",))}, (VIEWER,),
              body=Body(m.SessionStart), errors=(400, 404, 409, 503)),
    Operation("GET", "/v1/sessions", "listSessions", "The viewer's active sessions", "sessions",
              {200: Reply("Active sessions", m.SessionList)}, (VIEWER,), errors=(400,)),
    Operation("POST", "/v1/sessions/{session_id}/heartbeat", "heartbeatSession",
              "Keep a session alive, at the viewer's position", "sessions",
              {200: Reply("The session", m.SessionOut)}, (SESSION_ID, VIEWER),
              body=Body(m.Heartbeat), errors=(400, 404, 409),
              description="A session without a heartbeat for `streaming.session_timeout_s` "
              "has ended: its heartbeat is a 409 `session_ended`."),
    Operation("DELETE", "/v1/sessions/{session_id}", "endSession", "End a session", "sessions",
              {204: Reply("Ended (or it had ended already)")}, (SESSION_ID, VIEWER),
              errors=(400, 404)),
]  # fmt: skip

VIEWING = [
    Operation("POST", "/v1/viewers", "createViewer", "A new anonymous viewer id", "viewing",
              {201: Reply("The viewer id", m.ViewerOut)}),
    Operation("GET", "/v1/progress/{asset_id}", "getProgress",
              "The viewer's last position in an asset", "viewing",
              {200: Reply("Watch progress", m.ProgressOut)}, (ASSET_ID, VIEWER),
              errors=(400, 404)),
    Operation("PUT", "/v1/progress/{asset_id}", "putProgress",
              "Report the viewer's position", "viewing", {204: Reply("Recorded")},
              (ASSET_ID, VIEWER), body=Body(m.ProgressReport), errors=(400, 404, 503)),
    Operation("POST", "/v1/events", "postEvents", "Playback events, in batches", "viewing",
              {202: Reply("Accepted", m.EventsAccepted)}, body=Body(m.EventBatch),
              errors=(400,)),
]  # fmt: skip

OPERATIONS = [
    *PLAYBACK, *SESSIONS, *VIEWING, *health_operations("requests, the catalog breaker"),
    diagnostics.operation("streaming"),
]  # fmt: skip

DESCRIPTION = """StreamCore's streaming service: playback authorisation (signed playback URLs,
content steering), watch sessions, watch progress and playback events. Assets and titles are
the catalog's (`/openapi.json`).

No API key: viewers call every endpoint, identified by the `X-Viewer-Id` from POST
/v1/viewers. Every error is JSON, `{"error": {"code": "...", "message": "..."}}`, with a stable
`code`; invalid input is a 400 `invalid_request` whose `details` name every field at fault; a
503 `unavailable` (with Retry-After) means the catalog or the database cannot answer."""


@cache
def document() -> dict[str, Any]:
    return build(OPERATIONS, title="StreamCore streaming API", version="1", description=DESCRIPTION)
