"""Profiles for admins and the other services: one by id (the streaming service asks for a
profile's account, maturity and genres with its service account), and resolving (account
email, profile name) pairs to ids for imports (auth/resolve.py)."""

from __future__ import annotations

from aiohttp import web

from auth import audit, queries
from auth.models import ResolveIn
from auth.resolve import resolve
from auth.resources import DB_POOL_KEY
from auth.views import admin_profile_json
from streamcore.auth.principal import principal
from streamcore.web.service import NotFound
from streamcore.web.validation import json_body, path_uuid

routes = web.RouteTableDef()
_PRIVATE = {"Cache-Control": "private, no-store"}


@routes.get("/v1/admin/profiles/{profile_id}")
async def get_profile(request: web.Request) -> web.Response:
    profile_id = path_uuid(request, "profile_id", "profile")
    row = await queries.any_profile(request.app[DB_POOL_KEY], profile_id)
    if row is None:
        raise NotFound(f"no profile with id {profile_id}")
    # A person's look is a support read; a service's (the streaming service asks often) is not.
    if principal(request).is_person:
        await audit.record_request(
            request, "support_read", what="profile", account_id=row["account_id"],
            profile_id=profile_id,
        )  # fmt: skip
    return web.json_response(admin_profile_json(row), headers=_PRIVATE)


@routes.post("/v1/admin/profiles/resolve")
async def resolve_profiles(request: web.Request) -> web.Response:
    body = await json_body(request, ResolveIn)
    items = await resolve(request, body.items, body.create_missing)
    return web.json_response({"items": items}, headers=_PRIVATE)
