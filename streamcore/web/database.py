"""What every service with a database shares: unavailability as a 503, and readiness.

The catalog and the streaming service each open their own pools (on their own schema), and
answer the same way when PostgreSQL cannot: a JSON 503 with Retry-After, which clients retry.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp import web

from streamcore.db.database import UNAVAILABLE_ERRORS
from streamcore.web.service import Handler, ServiceUnavailable

log = logging.getLogger(__name__)


@web.middleware
async def database_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """No server could answer (as opposed to a bad query): 503, which clients retry."""
    try:
        return await handler(request)
    except UNAVAILABLE_ERRORS as exc:
        log.warning("%s %s: the database is unavailable: %r", request.method, request.path, exc)
        raise ServiceUnavailable(
            "the database is unavailable; retry shortly", headers={"Retry-After": "2"}
        ) from None


def database_ready(
    pool_key: web.AppKey[asyncpg.Pool],
) -> Callable[[web.Application], Awaitable[None]]:
    """A /readyz check (streamcore/web/service.py health_routes): the pool answers SELECT 1."""

    async def check(app: web.Application) -> None:
        async with app[pool_key].acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1")

    return check
