"""The notifications service's resources, opened and closed by cleanup contexts, and their keys."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from aiohttp import WSCloseCode, web

from notifications.hub import BLOCK_MS, Hub
from streamcore.cache.redis_client import create_redis
from streamcore.web.metrics import HttpMetrics
from streamcore.web.resources import redis_client as redis_client_of
from streamcore.web.service import SETTINGS_KEY

REDIS_KEY = web.AppKey("redis", aioredis.Redis)
METRICS_KEY = web.AppKey("metrics", HttpMetrics)
HUB_KEY = web.AppKey("hub", Hub)
# The open sockets (each handler removes its own), closed with 1001 on shutdown.
SOCKETS_KEY = web.AppKey("sockets", set[web.WebSocketResponse])

redis_client = redis_client_of(REDIS_KEY)


async def hub(app: web.Application) -> AsyncIterator[None]:
    """The instance's reader task (notifications/hub.py) on a client of its own: its XREAD
    blocks for `BLOCK_MS`, longer than the services' fail-fast socket timeout."""
    settings = app[SETTINGS_KEY]
    timeout_s = BLOCK_MS / 1000 + settings.redis.socket_timeout_s + 1
    client = create_redis(settings, socket_timeout_s=timeout_s)
    app[HUB_KEY] = found = Hub(client)
    app[SOCKETS_KEY] = set()
    task = asyncio.create_task(found.run(), name="notifications-hub")
    yield
    found.stop()
    await task
    await client.aclose()


async def close_sockets(app: web.Application) -> None:
    """On shutdown (after the drain): every socket is told 1001, going away, so that its
    client reconnects at once, through the gateway, to another instance."""
    found = app[SOCKETS_KEY]
    sockets = list(found)  # a copy: each handler removes its socket as it closes
    await asyncio.gather(
        *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down") for ws in sockets),
        return_exceptions=True,
    )
