"""Profiles: who is watching, each with a maturity level, a language and the genres the person
picked; selecting one gives an access token scoped to it (its `pid` and `mat`)."""

from __future__ import annotations

import uuid
from uuid import UUID

from aiohttp import web

from auth import queries, session_writes, writes
from auth.caller import Person, person, settings_of
from auth.issuing import access_token
from auth.models import ProfileIn, ProfilePatch
from auth.resources import DB_POOL_KEY
from auth.views import profile_json
from streamcore.web.service import Conflict, NotFound, Unauthorized
from streamcore.web.validation import invalid, json_body, path_uuid

routes = web.RouteTableDef()
_PRIVATE = {"Cache-Control": "private, no-store"}


class TooManyProfiles(Conflict):
    code = "too_many_profiles"


class LastProfile(Conflict):
    code = "last_profile"


class SessionSignedOut(Unauthorized):
    code = "session_signed_out"


def _check_maturity(request: web.Request, maturity: str | None) -> None:
    levels = list(settings_of(request).auth.maturity_levels)
    if maturity is not None and maturity not in levels:
        raise invalid("maturity", f"one of {', '.join(levels)}")


def _profile_id(request: web.Request) -> UUID:
    return path_uuid(request, "profile_id", "profile")


def _not_found(profile_id: UUID) -> NotFound:
    return NotFound(f"no profile with id {profile_id}")


@routes.get("/v1/profiles")
async def list_profiles(request: web.Request) -> web.Response:
    rows = await queries.profiles(request.app[DB_POOL_KEY], person(request).account_id)
    return web.json_response({"items": [profile_json(r) for r in rows]}, headers=_PRIVATE)


@routes.post("/v1/profiles")
async def create_profile(request: web.Request) -> web.Response:
    caller, body = person(request), await json_body(request, ProfileIn)
    _check_maturity(request, body.maturity)
    limit = settings_of(request).auth.max_profiles
    try:
        row = await writes.create_profile(
            request.app[DB_POOL_KEY], caller.account_id, uuid.uuid4(), body.name, body.maturity,
            body.language, limit, body.genres,
        )  # fmt: skip
    except writes.TooManyProfiles:
        raise TooManyProfiles(f"an account has at most {limit} profiles") from None
    headers = {**_PRIVATE, "Location": f"/v1/profiles/{row['id']}"}
    return web.json_response(profile_json(row), status=201, headers=headers)


@routes.patch("/v1/profiles/{profile_id}")
async def patch_profile(request: web.Request) -> web.Response:
    caller, profile_id = person(request), _profile_id(request)
    body = await json_body(request, ProfilePatch)
    _check_maturity(request, body.maturity)
    changes = body.model_dump(exclude_unset=True)
    row = await writes.update_profile(
        request.app[DB_POOL_KEY], caller.account_id, profile_id, changes
    )
    if row is None:
        raise _not_found(profile_id)
    return web.json_response(profile_json(row), headers=_PRIVATE)


@routes.delete("/v1/profiles/{profile_id}")
async def delete_profile(request: web.Request) -> web.Response:
    caller, profile_id = person(request), _profile_id(request)
    try:
        deleted = await writes.delete_profile(
            request.app[DB_POOL_KEY], caller.account_id, profile_id
        )
    except writes.LastProfile:
        raise LastProfile("an account keeps at least one profile") from None
    if not deleted:
        raise _not_found(profile_id)
    return web.Response(status=204)


async def _select(request: web.Request, caller: Person, profile_id: UUID) -> web.Response:
    pool = request.app[DB_POOL_KEY]
    profile = await queries.profile(pool, caller.account_id, profile_id)
    account = await queries.account(pool, caller.account_id)
    if profile is None or account is None:
        raise _not_found(profile_id)
    # Only an open device session gets a new token: a signed-out one must not mint its way on.
    if await session_writes.select_profile(
        pool, caller.account_id, caller.session_id, profile_id
    ) is None:  # fmt: skip
        raise SessionSignedOut("this device is signed out; sign in again")
    settings = settings_of(request).auth
    body = {
        "access_token": access_token(settings, account, caller.session_id, profile),
        "token_type": "Bearer", "expires_in": settings.access_ttl_s,
        "profile_id": str(profile_id),
    }  # fmt: skip
    return web.json_response(body, headers={"Cache-Control": "no-store"})


@routes.post("/v1/profiles/{profile_id}/select")
async def select_profile(request: web.Request) -> web.Response:
    return await _select(request, person(request), _profile_id(request))
