"""Every endpoint of the streaming service, declared once for its OpenAPI document, served at
/openapi/streaming.json (the gateway routes that prefix here, and the rest of /openapi to the
catalog). Built by streamcore/web/openapi.py, like the catalog's.

tests/integration/test_streaming_openapi.py checks that this list and the app's routes match.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema

from streamcore.auth.roles import Permission
from streamcore.web import diagnostics
from streamcore.web.openapi import Body, Operation, Param, Reply, build, health_operations
from streaming import models as m
from streaming.history import models as hm
from streaming.permissions import PERMISSIONS

REF = "#/components/schemas/{model}"

PATH = "/openapi/streaming.json"
UUID = {"type": "string", "format": "uuid"}
ASSET_ID = Param("asset_id", "path", UUID)
SESSION_ID = Param("session_id", "path", UUID)
VIEWER_ID = Param("viewer_id", "path", UUID, description="An anonymous viewer id")
VIEWER = Param(
    "X-Viewer-Id", "header", UUID, False,
    "Anonymous viewers (where auth.allow_anonymous_playback allows them): the id from POST "
    "/v1/viewers; required without a token, ignored with one",
)  # fmt: skip

SLOTS = """Signed in, a session takes one of the account's stream slots \
(the `streams` of its subscription's plan): beyond the limit the answer is 409 \
`too_many_streams`, whose `error.streams` lists the streams holding the slots (`StreamOut`: end \
one with DELETE /v1/sessions/{session_id}, from any device of the account) and `error.limit` the \
limit. A premium title on a plan without premium titles is 403 `not_entitled`; a title above the \
profile's maturity level 403 `restricted`; a signed-out device 401 `session_revoked`. The \
playback URLs open the renditions the plan allows (`playback.renditions`), are valid \
`streaming.playback_token_ttl_s` (a few minutes) and renewed by each heartbeat (every \
`heartbeat_s`) while the slot is held and the plan still grants the title (403 `not_entitled` \
ends the session otherwise); a slot without a heartbeat for `streaming.slot_timeout_s` is \
freed."""

PLAYBACK = [
    Operation("GET", "/v1/playback/{asset_id}", "playbackUrls",
              "Signed HLS and DASH URLs: each CDN, primary first, then the origin", "playback",
              {200: Reply("Playback sources", m.PlaybackOut)},
              (ASSET_ID,), query_model=m.PlaybackParams, errors=(400, 401, 403, 404, 409, 503),
              description="Signed in: only while this device holds a stream slot for the asset "
              "(POST /v1/sessions), else 409 `no_stream_slot`; the URLs are then valid "
              "`streaming.playback_token_ttl_s`, whatever `ttl` says; 403 `restricted` above the "
              "profile's maturity. Anonymous (where allowed) and service accounts: valid `ttl`."),
    Operation("GET", "/v1/playback/{asset_id}/steering/{kind}", "steeringManifest",
              "The content steering manifest players fetch", "playback",
              {200: Reply("HLS or DASH steering manifest", schema={"type": "object"})},
              (ASSET_ID, Param("kind", "path", {"enum": ["hls", "dash"]})), errors=(404, 503)),
]  # fmt: skip

SESSIONS = [
    Operation("POST", "/v1/sessions", "startSession",
              "Start watching an asset: a session, and its playback URLs", "sessions",
              {201: Reply("The session", m.SessionStarted, headers=("Location",))}, (VIEWER,),
              body=Body(m.SessionStart), errors=(400, 401, 403, 404, 409, 503),
              description=SLOTS),
    Operation("GET", "/v1/sessions", "listSessions",
              "The viewer's active sessions (signed in: the account's)", "sessions",
              {200: Reply("Active sessions", m.SessionList)}, (VIEWER,),
              errors=(400, 401, 403, 503)),
    Operation("POST", "/v1/sessions/{session_id}/heartbeat", "heartbeatSession",
              "Keep a session alive, at the viewer's position", "sessions",
              {200: Reply("The session", m.SessionOut)}, (SESSION_ID, VIEWER),
              body=Body(m.Heartbeat), errors=(400, 401, 403, 404, 409, 503),
              description="A session that has ended is a 409 `session_ended`: ended, silent for "
              "`streaming.session_timeout_s` (anonymous) or its slot's `slot_timeout_s` (signed "
              "in), or its device signed out. Signed in, the answer carries fresh `playback`."),
    Operation("DELETE", "/v1/sessions/{session_id}", "endSession",
              "End a session (signed in: any of the account's, freeing its slot)", "sessions",
              {204: Reply("Ended (or it had ended already)")}, (SESSION_ID, VIEWER),
              errors=(400, 401, 403, 404, 503)),
]  # fmt: skip

VIEWING = [
    Operation("POST", "/v1/viewers", "createViewer", "A new anonymous viewer id", "viewing",
              {201: Reply("The viewer id", m.ViewerOut)}, errors=(401,)),
    Operation("POST", "/v1/viewers/{viewer_id}/claim", "claimViewer",
              "Move an anonymous viewer's progress and events to the caller's profile",
              "viewing", {200: Reply("What moved", m.ClaimOut)}, (VIEWER_ID,),
              errors=(401, 403, 404, 409, 503),
              description="Signed in only. A viewer id is claimed by one profile (409 "
              "`already_claimed` for any other); claiming it again moves what came since."),
    Operation("GET", "/v1/progress", "listProgress",
              "The profile's last positions, latest first", "viewing",
              {200: Reply("Watch progress", m.ProgressList)}, query_model=m.ProgressQuery,
              errors=(400, 401, 403),
              description="Signed in. `profile_id` of another profile: admins only, for "
              "support, and audited (`support_read`)."),
    Operation("GET", "/v1/progress/{asset_id}", "getProgress",
              "The viewer's last position in an asset", "viewing",
              {200: Reply("Watch progress", m.ProgressOut)}, (ASSET_ID, VIEWER),
              errors=(400, 401, 403, 404)),
    Operation("PUT", "/v1/progress/{asset_id}", "putProgress",
              "Report the viewer's position", "viewing", {204: Reply("Recorded")},
              (ASSET_ID, VIEWER), body=Body(m.ProgressReport), errors=(400, 401, 403, 404, 503)),
]  # fmt: skip

PROFILE_ID = Param(
    "profile_id",
    "path",
    UUID,
    description="The profile (the caller's own, or any for an admin: a support read, audited)",
)
TITLE_ID = Param("title_id", "path", UUID, description="A title, or a series (its episodes)")
OWN = (
    "The profile's own token, or an admin's (a support read, audited as `support_read`); "
    "any other caller gets 403 `not_your_profile`."
)

HISTORY = [
    Operation("GET", "/v1/profiles/{profile_id}/history", "watchHistory",
              "The profile's watch history, latest first", "history",
              {200: Reply("A page of history", hm.HistoryPage)}, (PROFILE_ID,),
              query_model=hm.HistoryQuery, errors=(400, 401, 403, 404, 503),
              description=f"A row per film and episode: position, completion, first and last "
              f"watched, times completed. Titles above the profile's maturity are left out. "
              f"{OWN}"),
    Operation("GET", "/v1/profiles/{profile_id}/continue-watching", "continueWatching",
              "The profile's Continue Watching row", "history",
              {200: Reply("The row", hm.ContinueRow)}, (PROFILE_ID,),
              query_model=hm.ContinueQuery, errors=(400, 401, 403, 404, 503),
              description=f"Titles watched past `history.continue_min` and not past "
              f"`history.continue_max`, most recent first; one item per series, its next "
              f"episode once one is finished; finished films leave; removed items stay away "
              f"until watched again. {OWN}"),
    Operation("DELETE", "/v1/profiles/{profile_id}/continue-watching/{title_id}",
              "removeFromContinueWatching", "Remove a title (or a series) from the row",
              "history", {204: Reply("Removed until watched again")}, (PROFILE_ID, TITLE_ID),
              errors=(400, 401, 403, 404, 503), description=OWN),
    Operation("GET", "/v1/profiles/{profile_id}/recommendations", "recommendations",
              "One row of the profile's recommendations", "history",
              {200: Reply("The row", hm.RecommendationRow, headers=("X-Cache",))},
              (PROFILE_ID,), query_model=hm.RecommendationQuery,
              errors=(400, 401, 403, 404, 503),
              description=f"`top_picks` (the hybrid score), `because_you_watched` (titles like "
              f"the last one watched) or `trending`. Each item has its score, its components "
              f"(content, collaborative, trending: each in [0, 1] before weighting) and an "
              f"explanation. Never a title already watched or above the profile's maturity; "
              f"premium titles are `locked` for plans without them. {OWN}"),
    Operation("POST", "/v1/admin/history", "importHistory",
              "Import viewings from another system (admins)", "history",
              {200: Reply("What was written", hm.ImportResult)}, body=Body(hm.HistoryImport),
              errors=(400, 401, 403, 503),
              description="Idempotent: a viewing not newer than the history holds is "
              "`unchanged`. An unknown title is rejected (`unknown_title`), the rest load. "
              "`streamcore history import` calls this in batches."),
]  # fmt: skip

OPERATIONS = [
    *PLAYBACK, *SESSIONS, *VIEWING, *HISTORY, *health_operations("requests, the catalog breaker"),
    diagnostics.operation("streaming"),
]  # fmt: skip

DESCRIPTION = """StreamCore's streaming service: playback authorisation (signed playback URLs,
content steering), watch sessions and stream slots, watch progress and playback events. Assets
and titles are the catalog's (`/openapi.json`); accounts, profiles and tokens the auth
service's (`/openapi/auth.json`).

Viewers sign in: `Authorization: Bearer <access token>` (the auth service's JWT; its profile is
who watches). Where `auth.allow_anonymous_playback` allows it (development), a caller without
a token is an anonymous viewer named by the `X-Viewer-Id` from POST /v1/viewers; elsewhere it
is a 401. Every error is JSON, `{"error": {"code": "...", "message": "..."}}`, with a stable
`code`; invalid input is a 400 `invalid_request` whose `details` name every field at fault; a
503 `unavailable` (with Retry-After) means the catalog, the database or Redis cannot answer."""

BEARER = """An access token (JWT, EdDSA) from the auth service (POST /v1/auth/login), or a
service account's key. Optional where anonymous playback is allowed."""


def _secured(spec: dict[str, Any]) -> dict[str, Any]:
    """Each operation's security from the permission table: PLAY takes the bearer (or, where
    allowed, nothing); PUBLIC nothing. The slot holders' schema joins the components."""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if PERMISSIONS[f"{method.upper()} {path}"] is Permission.PLAY:
                operation["security"] = [{"apiKey": []}, {}]
    _, top = models_json_schema([(m.StreamOut, "serialization")], ref_template=REF)
    spec["components"]["schemas"].update(top.get("$defs", {}))
    return spec


@cache
def document() -> dict[str, Any]:
    return _secured(build(
        OPERATIONS, title="StreamCore streaming API", version="1", description=DESCRIPTION,
        api_key=BEARER,
    ))  # fmt: skip
