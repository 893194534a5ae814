"""The one factory for the services' asyncio Redis client: fail fast, then let the caller cope.

Redis is a cache and a fast path here, never the record, so a slow or absent Redis must cost a
request little: every socket operation (connect included) times out after
``redis.socket_timeout_s`` (0.2 s by default) and a failed command is retried at most
``redis.retries`` times (at most once), immediately. The worst case is therefore about
``socket_timeout_s * (1 + retries)``; the cache's circuit breaker stops even that from being
paid on every request while Redis stays down.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from streamcore.settings import Settings

# Ping a connection idle this long before reusing it, so that a connection the server (or a
# restart) dropped is noticed and replaced instead of failing the next command.
HEALTH_CHECK_INTERVAL_S = 30


def create_redis(
    settings: Settings, *, dsn: str | None = None, socket_timeout_s: float | None = None
) -> aioredis.Redis:
    """A client for ``settings.redis_dsn`` (or ``dsn``) that fails fast. Close it with aclose().

    Connections are opened lazily, so creating the client never blocks or fails on its own.
    `socket_timeout_s`: longer than the default for a client whose commands block on purpose
    (the notifications' XREAD BLOCK).
    """
    timeout = settings.redis.socket_timeout_s if socket_timeout_s is None else socket_timeout_s
    return aioredis.Redis.from_url(
        dsn or settings.redis_dsn,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        # Retry only what a second attempt can fix (a dropped connection, a lost reply), with
        # no back-off: waiting would cost the request more than falling back does.
        retry=Retry(
            NoBackoff(),
            settings.redis.retries,
            supported_errors=(RedisConnectionError, RedisTimeoutError),
        ),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        health_check_interval=HEALTH_CHECK_INTERVAL_S,
        # Without keepalive a silently dead peer is only noticed by the socket timeout.
        socket_keepalive=True,
    )
