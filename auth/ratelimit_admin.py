"""The rate limits' admin API: their status, the ranges cooling down after tripping automatic
tightening, and lifting a cool-down (streamcore/ratelimit/bans.py does the work; the
``streamcore ratelimit`` command calls these through the gateway).

An unban is logged with the admin who asked and recorded in the audit log
(``ratelimit_unban``); it is counted in ``ratelimit_unbans_total`` where the service runs a
rate-limit guard (its abuse monitor's metrics).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

from aiohttp import web
from redis.exceptions import RedisError

from auth import audit
from auth.caller import settings_of
from auth.ratelimit_models import UnbanParams
from auth.resources import REDIS_KEY
from streamcore.auth.principal import principal
from streamcore.ratelimit.abuse import ABUSE_KEY, active_bans, lift, range_of, status
from streamcore.web.service import BadRequest, NotFound, ServiceUnavailable
from streamcore.web.validation import query_params

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
_PRIVATE = {"Cache-Control": "private, no-store"}
T = TypeVar("T")


class InvalidRange(BadRequest):
    code = "invalid_range"


class NotBanned(NotFound):
    code = "not_banned"


async def _redis(call: Awaitable[T]) -> T:
    try:
        return await call
    except RedisError as exc:
        raise ServiceUnavailable(
            f"the rate limits' store (Redis) is unavailable: {exc}", headers={"Retry-After": "1"}
        ) from None


@routes.get("/v1/admin/ratelimit")
async def ratelimit_status(request: web.Request) -> web.Response:
    body = await _redis(status(request.app[REDIS_KEY], settings_of(request).ratelimit))
    return web.json_response(body, headers=_PRIVATE)


@routes.get("/v1/admin/ratelimit/bans")
async def list_bans(request: web.Request) -> web.Response:
    bans = await _redis(active_bans(request.app[REDIS_KEY]))
    return web.json_response({"items": [ban.as_json() for ban in bans]}, headers=_PRIVATE)


@routes.delete("/v1/admin/ratelimit/bans/{range:.+}")
async def unban(request: web.Request) -> web.Response:
    params = query_params(request, UnbanParams)
    try:
        range_ = range_of(request.match_info["range"])
    except ValueError as exc:
        raise InvalidRange(str(exc)) from None
    monitor = request.app.get(ABUSE_KEY)
    lifted = await _redis(lift(
        request.app[REDIS_KEY], range_, forget=params.forget,
        metrics=monitor.metrics if monitor is not None else None,
    ))  # fmt: skip
    if not lifted:
        raise NotBanned(f"{range_} is not cooling down")
    actor = principal(request).actor
    log.warning("ratelimit: %s lifted the ban of %s (offences %s)", actor, range_,
                "forgotten" if params.forget else "kept")  # fmt: skip
    await audit.record_request(request, "ratelimit_unban", range=range_, forget=params.forget)
    return web.Response(status=204)
