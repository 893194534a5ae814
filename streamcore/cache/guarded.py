"""Redis behind the circuit breaker: every operation either works or is skipped, never raises.

A skipped operation reads as "nothing there" (a miss, no lock, no write), so the cache carries
on with its LRU and the loader. Invalidations and generation bumps that could not be sent are
kept and re-sent before this process next uses Redis (they are idempotent).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from streamcore.cache.breaker import CircuitBreaker
from streamcore.cache.envelope import Envelope
from streamcore.cache.metrics import CacheMetrics
from streamcore.cache.store import Found, RedisStore

log = logging.getLogger(__name__)

T = TypeVar("T")
_Send = Callable[[RedisStore, list[str]], Awaitable[None]]

# Invalidations waiting for Redis to come back, at most (past it, the TTL bound alone holds).
MAX_PENDING = 10_000


class _Skipped(Exception):
    """Redis was not used (no client, the breaker is open, it failed earlier in the request,
    it is unreachable), or it ``refused`` the operation with an error answer."""

    def __init__(self, refused: bool = False) -> None:
        super().__init__()
        self.refused = refused


@dataclass
class Attempt:
    """One request's use of Redis: after a failure the rest of the request skips Redis, so a
    request pays the timeout at most once and counts once toward the breaker."""

    usable: bool = True


class GuardedRedis:
    def __init__(
        self,
        store: RedisStore | None,
        breaker: CircuitBreaker,
        metrics: CacheMetrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.breaker, self.metrics, self._clock = store, breaker, metrics, clock
        self._pending_expiry: set[str] = set()
        self._pending_bumps: set[str] = set()

    async def read(self, attempt: Attempt, key: str, depends_on: Sequence[str]) -> Found | None:
        """The entry and the generations, or None when Redis was skipped."""
        try:
            return await self._call(attempt, "read", lambda s: s.read(key, depends_on))
        except _Skipped:
            return None

    async def write(
        self, attempt: Attempt, key: str, envelope: Envelope, ttl_s: float, lock_token: str
    ) -> None:
        try:
            await self._call(attempt, "write", lambda s: s.write(key, envelope, ttl_s, lock_token))
        except _Skipped:
            return

    async def lock(self, attempt: Attempt, key: str, token: str, ttl_s: float) -> bool:
        """True if this caller took the rebuild lock; ``attempt.usable`` tells a held lock
        (still usable) from a skipped Redis."""
        try:
            return await self._call(attempt, "lock", lambda s: s.lock(key, token, ttl_s))
        except _Skipped:
            return False

    async def unlock(self, attempt: Attempt, key: str, token: str) -> None:
        if not token:
            return
        try:
            await self._call(attempt, "unlock", lambda s: s.unlock(key, token))
        except _Skipped:
            return  # the lock expires after rebuild_lock_s

    async def generation(self, namespace: str) -> str | None:
        try:
            return await self._call(Attempt(), "generation", lambda s: s.generation(namespace))
        except _Skipped:
            return None

    async def invalidate(self, keys: Sequence[str]) -> None:
        self._queue(self._pending_expiry, keys)
        await self.flush_pending(Attempt())

    async def bump(self, namespaces: Sequence[str]) -> None:
        self._queue(self._pending_bumps, namespaces)
        await self.flush_pending(Attempt())

    async def flush_pending(self, attempt: Attempt) -> None:
        """Send the invalidations and bumps Redis has not received yet."""
        if self.store is None or not (self._pending_expiry or self._pending_bumps):
            return
        now = self._clock()

        async def expire(store: RedisStore, batch: list[str]) -> None:
            await store.expire_fresh(batch, now)

        if await self._send(attempt, "invalidate", self._pending_expiry, expire):
            await self._send(attempt, "bump", self._pending_bumps, RedisStore.bump)

    async def _send(self, attempt: Attempt, operation: str, pending: set[str], send: _Send) -> bool:
        """Send a batch; False (kept for later) if Redis could not be reached."""
        batch = sorted(pending)
        if not batch:
            return True
        try:
            await self._call(attempt, operation, lambda store: send(store, batch))
        except _Skipped as skipped:
            if not skipped.refused:
                log.debug("Redis unreachable: %d %s wait", len(batch), operation)
                return False
            # An error answer would come again: drop the batch (its TTLs still bound it).
        pending.difference_update(batch)
        return True

    @property
    def pending(self) -> int:
        return len(self._pending_expiry) + len(self._pending_bumps)

    def _queue(self, pending: set[str], names: Sequence[str]) -> None:
        if self.store is None:
            return
        if len(pending) + len(names) > MAX_PENDING:
            log.warning("too many invalidations wait for Redis: dropped (TTLs still bound them)")
            pending.clear()
        pending.update(names)

    async def _call(
        self, attempt: Attempt, operation: str, call: Callable[[RedisStore], Awaitable[T]]
    ) -> T:
        if self.store is None or not attempt.usable or not self.breaker.allow():
            attempt.usable = False
            raise _Skipped
        try:
            result = await call(self.store)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            # Unreachable or too slow: what the breaker is for.
            attempt.usable = False
            self.breaker.record_failure()
            self.metrics.redis_errors.labels(operation).inc()
            log.debug("Redis %s failed: %r", operation, exc)
            raise _Skipped from exc
        except RedisError as exc:
            # Redis answered, with an error (out of memory, a read-only replica): it is
            # reachable, so the breaker stays closed; this operation alone is skipped.
            self.breaker.record_success()
            self.metrics.redis_errors.labels(operation).inc()
            log.warning("Redis %s refused: %s", operation, exc)
            raise _Skipped(refused=True) from exc
        self.breaker.record_success()
        return result
