"""Accounts: signing up, and one's own account (``/v1/me``)."""

from __future__ import annotations

import uuid

import asyncpg
from aiohttp import web

from auth import audit, queries, writes
from auth.caller import person, settings_of
from auth.models import Signup
from auth.passwords import check_policy
from auth.resources import DB_POOL_KEY, PASSWORDS_KEY
from auth.views import account_json
from streamcore.auth.roles import Role
from streamcore.ratelimit.guard import limit_sign_in
from streamcore.web.service import SETTINGS_KEY, Conflict, NotFound
from streamcore.web.validation import json_body

routes = web.RouteTableDef()
_PRIVATE = {"Cache-Control": "private, no-store"}


class EmailTaken(Conflict):
    code = "email_taken"


async def create_account(
    app: web.Application, email: str, display_name: str, role: Role, password: str
) -> asyncpg.Record:
    """A new account with its first profile (named after it, the most permissive maturity
    level, English); 409 email_taken. The password has passed the policy already."""
    password_hash = await app[PASSWORDS_KEY].hash(password)
    account_id = uuid.uuid4()
    levels = list(app[SETTINGS_KEY].auth.maturity_levels)
    async with app[DB_POOL_KEY].acquire() as conn:
        try:
            return await writes.create_account(
                conn, account_id=account_id, email=email, display_name=display_name,
                role=role.value, password_hash=password_hash,
                profile=(uuid.uuid4(), display_name, levels[-1], "en"),
            )  # fmt: skip
        except writes.EmailTaken:
            raise EmailTaken("an account with this email exists already") from None


@routes.post("/v1/auth/signup")
async def signup(request: web.Request) -> web.Response:
    body = await json_body(request, Signup)
    await limit_sign_in(request, body.email)
    password = check_policy(body.password)
    row = await create_account(request.app, body.email, body.display_name, Role.VIEWER, password)
    await audit.record_request(
        request, "signup", account_id=row["id"], actor=f"account:{row['id']}"
    )
    account = account_json(settings_of(request).auth, row)
    return web.json_response({"account": account}, status=201, headers=_PRIVATE)


@routes.get("/v1/me")
async def me(request: web.Request) -> web.Response:
    caller = person(request)
    row = await queries.account(request.app[DB_POOL_KEY], caller.account_id)
    if row is None:
        raise NotFound("the token's account does not exist any more")
    body = {
        **account_json(settings_of(request).auth, row),
        "profile_id": str(caller.principal.profile_id) if caller.principal.profile_id else None,
        "device_id": str(caller.session_id),
    }
    return web.json_response(body, headers=_PRIVATE)
