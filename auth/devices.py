"""Devices: the account's open device sessions, and signing them out (auth/signout.py)."""

from __future__ import annotations

from aiohttp import web

from auth import queries, signout
from auth.caller import ip_of, person
from auth.resources import DB_POOL_KEY
from auth.views import device_json
from streamcore.web.service import NotFound
from streamcore.web.validation import path_uuid

routes = web.RouteTableDef()


@routes.get("/v1/devices")
async def list_devices(request: web.Request) -> web.Response:
    caller = person(request)
    rows = await queries.open_devices(request.app[DB_POOL_KEY], caller.account_id)
    items = [device_json(row, caller.session_id) for row in rows]
    return web.json_response({"items": items}, headers={"Cache-Control": "private, no-store"})


@routes.delete("/v1/devices/{device_id}")
async def delete_device(request: web.Request) -> web.Response:
    caller, device_id = person(request), path_uuid(request, "device_id", "device")
    # Signing out a device signed out already is done too (a retried DELETE).
    if await queries.device(request.app[DB_POOL_KEY], caller.account_id, device_id) is None:
        raise NotFound(f"no device with id {device_id}")
    await signout.sign_out(
        request.app, caller.account_id, "signed_out", actor=caller.principal.actor,
        ip=ip_of(request), only=device_id,
    )  # fmt: skip
    return web.Response(status=204)


@routes.post("/v1/devices/sign-out-others")
async def sign_out_others(request: web.Request) -> web.Response:
    caller = person(request)
    ids = await signout.sign_out(
        request.app, caller.account_id, "signed_out_others", actor=caller.principal.actor,
        ip=ip_of(request), keep=caller.session_id,
    )  # fmt: skip
    return web.json_response({"signed_out": len(ids)})
