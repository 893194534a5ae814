"""What every aiohttp service shares: the settings key and health endpoints."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from streamcore.settings import Settings

SETTINGS_KEY = web.AppKey("settings", Settings)

log = logging.getLogger(__name__)


def health_routes(
    ready_check: Callable[[web.Application], Awaitable[None]] | None = None,
) -> list[web.RouteDef]:
    """``/healthz`` (the process answers) and ``/readyz`` (its dependencies answer too)."""

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        if ready_check is not None:
            try:
                await ready_check(request.app)
            except Exception as exc:  # not ready, whatever the cause; said in the body
                log.warning("not ready: %s", exc)
                return web.json_response(
                    {"status": "unavailable", "code": "not_ready", "detail": str(exc)}, status=503
                )
        return web.json_response({"status": "ok"})

    return [web.get("/healthz", healthz), web.get("/readyz", readyz)]
