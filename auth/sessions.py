"""Signing in and out: login (a new device session), refresh, logout."""

from __future__ import annotations

import uuid
from typing import NoReturn

from aiohttp import web

from auth import audit, queries, refresh_tokens, session_writes, signout, writes
from auth.caller import ip_of, person, settings_of
from auth.issuing import profile_for, tokens_json
from auth.models import Login, Refresh
from auth.resources import DB_POOL_KEY, PASSWORDS_KEY, REDIS_KEY
from auth.throttle import Throttle
from streamcore.ratelimit.abuse import ABUSE_KEY
from streamcore.ratelimit.guard import limit_sign_in
from streamcore.web.service import TooManyRequests, Unauthorized
from streamcore.web.validation import json_body

routes = web.RouteTableDef()
# Tokens are never kept by a cache.
_PRIVATE = {"Cache-Control": "no-store"}
_MAX_USER_AGENT = 512


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class PasswordNotSet(Unauthorized):
    code = "password_not_set"


class TooManyAttempts(TooManyRequests):
    code = "too_many_attempts"

    def __init__(self, wait_s: int) -> None:
        super().__init__(
            f"too many failed sign-ins; try again in {wait_s} s",
            headers={"Retry-After": str(wait_s)}, extra={"retry_after_s": wait_s},
        )  # fmt: skip


async def _failed(request: web.Request, login: Login, account_id: uuid.UUID | None,
                  reason: str) -> None:  # fmt: skip
    ip = ip_of(request)
    if ip is not None and (monitor := request.app.get(ABUSE_KEY)) is not None:
        monitor.failed_login(ip, login.email)  # failures across accounts trip tightening
    await writes.record_login_failure(request.app[DB_POOL_KEY], login.email, account_id, ip, reason)
    await audit.record_request(
        request, "login_failed", account_id=account_id, actor="anonymous", email=login.email,
        reason=reason,
    )  # fmt: skip


@routes.post("/v1/auth/login")
async def login(request: web.Request) -> web.Response:
    body = await json_body(request, Login)
    await limit_sign_in(request, body.email)
    app, settings, ip = request.app, settings_of(request).auth, ip_of(request)
    pool, throttle = app[DB_POOL_KEY], Throttle(app[REDIS_KEY], settings)
    if wait_s := await throttle.wait_s(body.email, ip):
        await _failed(request, body, None, "too_many_attempts")
        raise TooManyAttempts(wait_s)
    account = await queries.account_for_login(pool, body.email)
    stored = account["password_hash"] if account else None
    if account is not None and stored is None:
        await _refuse_without_password(request, body, account["id"], throttle)
    if not await app[PASSWORDS_KEY].verify(stored, body.password):
        await _failed(request, body, account["id"] if account else None, "invalid_credentials")
        if wait_s := await throttle.failed(body.email, ip):
            raise TooManyAttempts(wait_s)
        raise InvalidCredentials("the email or the password is wrong")
    assert account is not None and stored is not None
    await throttle.succeeded(body.email)
    if app[PASSWORDS_KEY].needs_rehash(stored):
        new_hash = await app[PASSWORDS_KEY].hash(body.password)
        await writes.set_password_hash(pool, account["id"], new_hash)
    profile = await profile_for(pool, account["id"], None)
    session_id, (refresh, refresh_hash) = uuid.uuid4(), refresh_tokens.new_token()
    user_agent = request.headers.get("User-Agent", "")[:_MAX_USER_AGENT] or None
    await session_writes.open_session(
        pool, session_id=session_id, account_id=account["id"],
        profile_id=profile["id"] if profile else None, name=body.device_name,
        user_agent=user_agent, ip=ip, token_hash=refresh_hash, ttl_s=settings.refresh_ttl_s,
    )  # fmt: skip
    await audit.record_request(
        request, "login", account_id=account["id"], session_id=session_id,
        profile_id=profile["id"] if profile else None, actor=f"account:{account['id']}",
        device_name=body.device_name,
    )  # fmt: skip
    body_json = tokens_json(settings, account, session_id, profile, refresh)
    return web.json_response(body_json, headers=_PRIVATE)


async def _refuse_without_password(
    request: web.Request, body: Login, account_id: uuid.UUID, throttle: Throttle
) -> NoReturn:
    """An account made without a password (by an import) cannot sign in until an admin sets
    one. Saying so tells no more than sign-up's 409 email_taken does; it counts as a failure."""
    await _failed(request, body, account_id, "password_not_set")
    if wait_s := await throttle.failed(body.email, ip_of(request)):
        raise TooManyAttempts(wait_s)
    raise PasswordNotSet("this account has no password yet: ask an admin to set one")


@routes.post("/v1/auth/refresh")
async def refresh(request: web.Request) -> web.Response:
    body = await json_body(request, Refresh)
    app, settings = request.app, settings_of(request).auth
    exchanged = await refresh_tokens.exchange(app, body.refresh_token, ip_of(request))
    pool = app[DB_POOL_KEY]
    account = await queries.account(pool, exchanged.account_id)
    if account is None:  # deleted meanwhile: its sessions went with it
        raise refresh_tokens.InvalidRefreshToken("the refresh token is not valid; sign in again")
    profile = await profile_for(pool, account["id"], exchanged.profile_id)
    body_json = tokens_json(
        settings, account, exchanged.session_id, profile, exchanged.refresh_token
    )
    return web.json_response(body_json, headers=_PRIVATE)


@routes.post("/v1/auth/logout")
async def logout(request: web.Request) -> web.Response:
    caller = person(request)
    await signout.sign_out(
        request.app, caller.account_id, "logout", actor=caller.principal.actor,
        ip=ip_of(request), only=caller.session_id,
    )  # fmt: skip
    return web.Response(status=204)
