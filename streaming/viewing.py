"""HTTP handlers for viewers: ids, watch progress, and claims of anonymous
viewer ids. Players on any origin call them, as a signed-in profile or (where allowed) an
anonymous viewer (streaming/viewer.py).

Claiming (POST /v1/viewers/{viewer_id}/claim) is how what exists moves to profiles: a player
that watched anonymously before its person signed in hands over its viewer id, and that
viewer's progress and events become the profile's. A viewer id is claimed by one profile
only; claiming again (the same profile) moves what came since, so the call is idempotent.
"""

from __future__ import annotations

import uuid
from uuid import UUID

from aiohttp import web

from streamcore.auth.principal import principal
from streamcore.auth.roles import Permission, grants
from streamcore.web.service import SETTINGS_KEY, Conflict, Forbidden, NotFound, Unauthorized
from streamcore.web.validation import json_body, path_uuid, query_params
from streaming import grants as audit
from streaming import progress, queries, writes
from streaming.history import reporting
from streaming.models import ProgressQuery, ProgressReason, ProgressReport
from streaming.playback import asset_id_of, known_asset
from streaming.resources import DB_POOL_KEY, REDIS_KEY
from streaming.viewer import Viewer, of_principal, viewer

routes = web.RouteTableDef()
_PRIVATE = {"Cache-Control": "private, no-store"}
# Reports a player sends as it stops: written to PostgreSQL at once (it may not come back).
STOPS = {ProgressReason.PAUSE, ProgressReason.HIDDEN, ProgressReason.ENDED}


class AlreadyClaimed(Conflict):
    code = "already_claimed"


@routes.post("/v1/viewers")
async def create_viewer(request: web.Request) -> web.Response:
    return web.json_response({"viewer_id": str(uuid.uuid4())}, status=201)


@routes.get("/v1/progress/{asset_id}")
async def get_progress(request: web.Request) -> web.Response:
    found = await progress.latest(
        request.app[DB_POOL_KEY], request.app[REDIS_KEY], viewer(request), asset_id_of(request)
    )
    if found is None:
        raise NotFound("no progress for this viewer and asset")
    return web.json_response(found.to_public(), headers=_PRIVATE)


def _whose(request: web.Request, asked: UUID | None) -> tuple[Viewer, bool]:
    """Whose progress a listing shows, and whether it is a support read (an admin's of another
    profile). Only a signed-in caller's own profile, unless the caller may manage accounts."""
    caller = principal(request)
    own = caller.profile_id if caller.is_person else None
    if asked is None or asked == own:
        if caller.anonymous:
            raise Unauthorized("sign in to list your progress")
        return of_principal(caller), False
    anonymous_playback = request.app[SETTINGS_KEY].auth.allow_anonymous_playback
    if not grants(caller.role, Permission.MANAGE_ACCOUNTS, anonymous_playback=anonymous_playback):
        raise Forbidden("only an admin reads another profile's progress")
    return Viewer(profile_id=asked), True


@routes.get("/v1/progress")
async def list_progress(request: web.Request) -> web.Response:
    """The profile's positions in every asset it watched, latest first (continue watching);
    an admin's read of another profile's is audited (`support_read`)."""
    params = query_params(request, ProgressQuery)
    whose, support = _whose(request, params.profile_id)
    found = await progress.listing(
        request.app[DB_POOL_KEY], request.app[REDIS_KEY], whose, params.limit
    )
    if support:
        await audit.audit(
            request, "support_read", profile_id=whose.profile_id,
            detail={"resource": "watch_progress", "items": len(found)},
        )  # fmt: skip
    items = [{"asset_id": str(asset), **entry.to_public()} for asset, entry in found]
    return web.json_response(
        {"profile_id": str(whose.profile_id), "items": items}, headers=_PRIVATE
    )


@routes.put("/v1/progress/{asset_id}")
async def put_progress(request: web.Request) -> web.Response:
    asset_id, who = asset_id_of(request), viewer(request)
    body = await json_body(request, ProgressReport)
    # Nothing is kept for an asset the catalog does not know (a cached answer, mostly).
    asset = await known_asset(request.app, asset_id)
    settings = request.app[SETTINGS_KEY]
    report = reporting.of_player(who, asset, body, settings.history.max_clock_skew_s)
    kept = await progress.record(
        request.app[DB_POOL_KEY], request.app[REDIS_KEY], settings, report,
        now=body.reason in STOPS,
    )  # fmt: skip
    if kept:  # latest wins: a position older than the one kept is not announced either
        await progress.announce(request.app[REDIS_KEY], settings, report)
    return web.Response(status=204)


@routes.post("/v1/viewers/{viewer_id}/claim")
async def claim_viewer(request: web.Request) -> web.Response:
    """Move an anonymous viewer's progress and events to the signed-in caller's profile."""
    viewer_id = path_uuid(request, "viewer_id", "viewer")
    caller = principal(request)
    if not caller.is_person:
        raise Unauthorized("sign in to claim a viewer id for your profile")
    profile, app = of_principal(caller), request.app
    pool, client = app[DB_POOL_KEY], app[REDIS_KEY]
    claimed = await queries.claim_of(pool, viewer_id)
    if claimed is not None and claimed["profile_id"] != profile.profile_id:
        raise AlreadyClaimed("this viewer id has been claimed by another profile")
    # Redis' copies of both sides first, so PostgreSQL holds the latest of each.
    assets = await queries.watched_by(pool, viewer_id)
    await progress.settle(pool, client, Viewer(viewer_id=viewer_id), assets)
    await progress.settle(pool, client, profile, assets)
    claim = await writes.claim_viewer(pool, viewer_id, profile)
    if claim.profile_id != profile.profile_id:
        raise AlreadyClaimed("this viewer id has been claimed by another profile")
    if claim.progress or claim.events:
        await audit.audit(
            request, "viewer_claimed", account_id=profile.account_id,
            profile_id=profile.profile_id, session_id=profile.device_id,
            detail={"viewer_id": str(viewer_id), "progress": claim.progress,
                    "events": claim.events},
        )  # fmt: skip
    body = {"viewer_id": str(viewer_id), "profile_id": str(profile.profile_id),
            "progress": claim.progress, "events": claim.events}  # fmt: skip
    return web.json_response(body, headers=_PRIVATE)
