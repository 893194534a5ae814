"""Administration of accounts: list them with their profiles (a support read, audited),
create one (with a generated one-time password unless one is given), change its role or set its
password (the way an account made by an import without one gets its first). (What an account
may play is its subscription's: the subscriptions service, docs/subscriptions.md.)"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from aiohttp import web

from auth import audit, queries, signout, writes
from auth.accounts import create_account
from auth.caller import ip_of, settings_of
from auth.models import AccountCreate, AccountPatch, AccountsParams
from auth.passwords import check_policy, generate
from auth.resources import DB_POOL_KEY, PASSWORDS_KEY
from auth.views import account_json, profile_json
from streamcore.auth.principal import principal
from streamcore.web import cursors
from streamcore.web.service import NotFound
from streamcore.web.validation import json_body, path_uuid, query_params

routes = web.RouteTableDef()
_PRIVATE = {"Cache-Control": "private, no-store"}
_CURSOR = "accounts"


@routes.get("/v1/admin/accounts")
async def list_accounts(request: web.Request) -> web.Response:
    params = query_params(request, AccountsParams)
    pool, settings = request.app[DB_POOL_KEY], settings_of(request).auth
    rows = await queries.accounts_page(
        pool, params.q, params.limit, cursors.decode(_CURSOR, params.cursor)
    )
    page, more = rows[: params.limit], len(rows) > params.limit
    profiles: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in await queries.profiles_of(pool, [account["id"] for account in page]):
        profiles[row["account_id"]].append(profile_json(row))
    items = [{**account_json(settings, a), "profiles": profiles[a["id"]]} for a in page]
    last = page[-1] if page else None
    await audit.record_request(
        request, "support_read", what="accounts", q=params.q, accounts=len(items)
    )
    body = {
        "items": items,
        "next_cursor": cursors.encode(_CURSOR, last["created_at"], last["id"])
        if more and last else None,
    }  # fmt: skip
    return web.json_response(body, headers=_PRIVATE)


@routes.post("/v1/admin/accounts")
async def admin_create_account(request: web.Request) -> web.Response:
    body = await json_body(request, AccountCreate)
    generated = body.password is None
    password = generate() if body.password is None else check_policy(body.password)
    display_name = body.display_name or body.email.split("@", 1)[0]
    row = await create_account(request.app, body.email, display_name, body.role, password)
    await audit.record_request(
        request, "account_created", account_id=row["id"], role=body.role.value,
        generated_password=generated,
    )  # fmt: skip
    answer: dict[str, Any] = {"account": account_json(settings_of(request).auth, row)}
    if generated:
        answer["password"] = password
    # A one-time password may be in it: never kept anywhere.
    headers = {"Cache-Control": "no-store", "Location": f"/v1/admin/accounts/{row['id']}"}
    return web.json_response(answer, status=201, headers=headers)


@routes.patch("/v1/admin/accounts/{account_id}")
async def patch_account(request: web.Request) -> web.Response:
    account_id = path_uuid(request, "account_id", "account")
    body = await json_body(request, AccountPatch)
    settings = settings_of(request).auth
    role = body.role.value if body.role else None
    password_hash = None
    if body.password is not None:  # hashed off the event loop (auth/passwords.py)
        password_hash = await request.app[PASSWORDS_KEY].hash(check_policy(body.password))
    changed = await writes.update_account(request.app[DB_POOL_KEY], account_id, role, password_hash)
    if changed is None:
        raise NotFound(f"no account with id {account_id}")
    before, after = changed
    if before["role"] != after["role"]:
        await audit.record_request(
            request, "role_changed", account_id=account_id,
            **{"from": before["role"], "to": after["role"]},
        )  # fmt: skip
    if password_hash is not None:
        await _password_set(request, account_id)
    return web.json_response(account_json(settings, after), headers=_PRIVATE)


async def _password_set(request: web.Request, account_id: UUID) -> None:
    """Audited; whoever held the old password is signed out on every device."""
    caller = principal(request)
    await audit.record_request(request, "password_set", account_id=account_id)
    await signout.sign_out(
        request.app, account_id, "password_set", actor=caller.actor, ip=ip_of(request)
    )
