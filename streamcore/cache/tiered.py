"""Cache-aside over three tiers: an in-process LRU, Redis, then the loader (the database).

A miss is loaded once per process (single flight) and, across processes, once per rebuild lock:
the process that takes ``cache:lock:<key>`` loads, the others poll Redis for up to
``rebuild_wait_s`` and then load themselves (a lock never fails a request). A hit in the last
``early_refresh_fraction`` of its freshness is served and reloaded in the background. Redis
errors are never the caller's: the request carries on with the LRU and the loader, and a circuit
breaker stops calling Redis after repeated failures. See docs/cache.md.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from streamcore.cache.breaker import BreakerState, CircuitBreaker
from streamcore.cache.envelope import Envelope, encode_value, jittered_ttl
from streamcore.cache.guarded import Attempt, GuardedRedis
from streamcore.cache.lru import LocalLRU
from streamcore.cache.metrics import CacheMetrics
from streamcore.cache.result import CacheResult, Loader
from streamcore.cache.singleflight import SingleFlight
from streamcore.cache.store import Found, RedisStore, new_token
from streamcore.settings import CacheSettings

log = logging.getLogger(__name__)

# How often a miss that lost the rebuild lock looks for the winner's result.
REBUILD_POLL_S = 0.02


@dataclass(frozen=True)
class _Load:
    """One load in progress: what it needs to store its result, and to release the lock."""

    attempt: Attempt
    key: str
    loader: Loader
    ttl_s: float
    depends_on: tuple[str, ...]
    found: Found | None  # Redis's answer before the load (None: Redis not used)
    token: str  # the rebuild lock's token, "" when this load does not hold it
    epoch: int  # this process's invalidation count when the fetch began


class Cache:
    def __init__(
        self,
        settings: CacheSettings,
        redis: aioredis.Redis | None,
        registry: CollectorRegistry,
        *,
        unavailable: tuple[type[BaseException], ...] = (),
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        """``unavailable``: the loader's errors that mean "the database is down" (last-known
        values are served instead). ``clock`` is wall time (entries' times are compared across
        processes); ``monotonic`` drives the breaker; ``uniform`` draws the TTL jitter."""
        self.settings = settings
        self.metrics = CacheMetrics(registry)
        self.breaker = CircuitBreaker(
            settings.breaker_failure_threshold,
            settings.breaker_reset_s,
            clock=monotonic,
            on_transition=self._on_transition,
        )
        store = RedisStore(redis) if redis is not None else None
        self._redis = GuardedRedis(store, self.breaker, self.metrics, clock)
        self.metrics.watch(lambda: float(self.breaker.state), lambda: self._redis.pending)
        self._unavailable = unavailable
        self._clock, self._uniform = clock, uniform
        self._local: LocalLRU[Envelope] = LocalLRU(settings.local_max_entries, clock=clock)
        self._flights: SingleFlight[CacheResult] = SingleFlight()
        self._refreshing: dict[str, asyncio.Task[None]] = {}
        self._delayed: set[asyncio.Task[None]] = set()
        # Counts this process's invalidations: a load or read that one overtook is not kept
        # as fresh here (its older value would otherwise sit in the LRU after the write).
        self._epoch = 0
        self._closed = False

    async def get_or_load(
        self, key: str, loader: Loader, ttl_s: float, *, depends_on: Sequence[str] = ()
    ) -> CacheResult:
        """The value under ``key``: from the LRU, else Redis, else ``await loader()``.

        ``loader`` returns a JSON-able value; it may also be called later, in the background,
        to refresh the entry, so it must not use anything tied to the request. ``ttl_s``: how
        long the value stays fresh in Redis (stretched by the jitter). ``depends_on``: the
        namespaces whose bump_generation() ends the entry's freshness (a list's key depends on
        the namespace of the items it lists).
        """
        if not self.settings.enabled:
            return CacheResult(encode_value(await loader()), stale=False, tier="database")
        envelope = self._local.get_fresh(key)
        if envelope is not None:
            self.metrics.requests.labels("local", "hit").inc()
            self._maybe_refresh(key, envelope, loader, ttl_s, depends_on)
            return CacheResult(envelope.value, stale=False, tier="local")
        self.metrics.requests.labels("local", "miss").inc()
        fetch = partial(self._fetch, key, loader, ttl_s, tuple(depends_on))
        result, _ = await self._flights.run(key, fetch)
        return result

    async def invalidate(self, *keys: str, repeat_after_s: float = 0.0) -> None:
        """End these entries' freshness (they stay as last-known values): in this process at
        once, in Redis now or, while it is unreachable, as soon as this process reaches it again,
        in other processes' LRUs within ``local_ttl_s``. Call it after the write commits.

        ``repeat_after_s`` > 0 does it again that much later, for loaders that may read a
        replica still behind the write (pass ``postgres.replica_max_lag_s``)."""
        self._epoch += 1
        for key in keys:
            self._local.expire(key)
        await self._redis.invalidate(keys)
        self._repeat(repeat_after_s, partial(self.invalidate, *keys))

    async def bump_generation(self, *namespaces: str, repeat_after_s: float = 0.0) -> None:
        """End the freshness of every entry that depends on these namespaces (same reach and
        ``repeat_after_s`` as invalidate()); unlike invalidate(), a load that was already
        running when the bump happened never stores its (older) result as fresh."""
        self._epoch += 1
        self._local.expire_where(lambda e: not e.generations.keys().isdisjoint(namespaces))
        await self._redis.bump(namespaces)
        self._repeat(repeat_after_s, partial(self.bump_generation, *namespaces))

    async def generation(self, namespace: str) -> str | None:
        """The namespace's current generation token; None when Redis cannot be reached."""
        return await self._redis.generation(namespace)

    async def aclose(self) -> None:
        """Cancel background work (the Redis client is the caller's to close)."""
        self._closed = True
        tasks = [*self._refreshing.values(), *self._delayed]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # The miss path.

    async def _fetch(
        self, key: str, loader: Loader, ttl_s: float, depends_on: tuple[str, ...]
    ) -> CacheResult:
        attempt, epoch = Attempt(), self._epoch
        await self._redis.flush_pending(attempt)
        found = await self._redis.read(attempt, key, depends_on)
        if found is None:
            self.metrics.requests.labels("redis", "unavailable").inc()
        elif (envelope := self._fresh(found)) is not None:
            self.metrics.requests.labels("redis", "hit").inc()
            return self._redis_hit(key, envelope, loader, ttl_s, depends_on, epoch)
        else:
            self.metrics.requests.labels("redis", "miss").inc()
        token = new_token()
        if not await self._redis.lock(attempt, key, token, self.settings.rebuild_lock_s):
            token = ""
            if attempt.usable and (
                envelope := await self._wait_for_rebuild(attempt, key, depends_on)
            ):
                return self._redis_hit(key, envelope, loader, ttl_s, depends_on, epoch)
        load = _Load(attempt, key, loader, ttl_s, depends_on, found, token, epoch)
        return await self._load(load)

    def _redis_hit(
        self, key: str, envelope: Envelope, loader: Loader, ttl_s: float,
        depends_on: Sequence[str], epoch: int,
    ) -> CacheResult:  # fmt: skip
        self._remember(key, envelope, epoch)
        self._maybe_refresh(key, envelope, loader, ttl_s, depends_on)
        return CacheResult(envelope.value, stale=False, tier="redis")

    async def _wait_for_rebuild(
        self, attempt: Attempt, key: str, depends_on: Sequence[str]
    ) -> Envelope | None:
        """Another process holds the rebuild lock: poll for its result, a little while."""
        for _ in range(math.ceil(self.settings.rebuild_wait_s / REBUILD_POLL_S)):
            await asyncio.sleep(REBUILD_POLL_S)
            found = await self._redis.read(attempt, key, depends_on)
            if found is None:
                return None
            if (envelope := self._fresh(found)) is not None:
                self.metrics.rebuild_waits.labels("filled").inc()
                return envelope
        self.metrics.rebuild_waits.labels("timed_out").inc()
        return None

    async def _load(self, load: _Load) -> CacheResult:
        try:
            value = await load.loader()
        except self._unavailable:
            self.metrics.loads.labels("unavailable").inc()
            await self._redis.unlock(load.attempt, load.key, load.token)
            if (last_known := self._last_known(load.key, load.found)) is None:
                raise
            return last_known
        except Exception:
            self.metrics.loads.labels("error").inc()
            await self._redis.unlock(load.attempt, load.key, load.token)
            raise
        self.metrics.loads.labels("ok").inc()
        envelope = await self._keep(load, value)
        return CacheResult(envelope.value, stale=False, tier="database")

    def _last_known(self, key: str, found: Found | None) -> CacheResult | None:
        now, stale_s = self._clock(), self.settings.stale_ttl_s
        candidates = [found.envelope if found else None, self._local.get_stale(key)]
        usable = [e for e in candidates if e is not None and now < e.fresh_until + stale_s]
        if not usable:
            self.metrics.requests.labels("stale", "miss").inc()
            return None
        self.metrics.requests.labels("stale", "hit").inc()
        log.warning("database unavailable: serving the last-known value of %s", key)
        newest = max(usable, key=lambda e: e.created)
        return CacheResult(newest.value, stale=True, tier="stale")

    # Early refresh.

    def _maybe_refresh(
        self, key: str, envelope: Envelope, loader: Loader, ttl_s: float, depends_on: Sequence[str]
    ) -> None:
        if self._closed or self._redis.store is None or key in self._refreshing:
            return
        # Only with Redis healthy: the refresh needs its lock, and an LRU copy is short-lived.
        if self.breaker.state is not BreakerState.CLOSED:
            return
        if not envelope.refresh_due(self._clock(), self.settings.early_refresh_fraction):
            return
        refresh = self._refresh(key, loader, ttl_s, tuple(depends_on))
        task = asyncio.create_task(refresh, name=f"cache-refresh:{key}")
        self._refreshing[key] = task
        task.add_done_callback(partial(self._refresh_done, key))

    def _refresh_done(self, key: str, task: asyncio.Task[None]) -> None:
        self._refreshing.pop(key, None)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("background refresh of %s crashed", key, exc_info=exc)

    async def _refresh(
        self, key: str, loader: Loader, ttl_s: float, depends_on: tuple[str, ...]
    ) -> None:
        """Reload under the rebuild lock; skip if another process holds it or Redis is down."""
        attempt, token, epoch = Attempt(), new_token(), self._epoch
        if not await self._redis.lock(attempt, key, token, self.settings.rebuild_lock_s):
            self.metrics.refreshes.labels("skipped").inc()
            return
        found = await self._redis.read(attempt, key, depends_on)  # generations, before the load
        current = self._fresh(found) if found is not None else None
        fraction = self.settings.early_refresh_fraction
        if found is None or (current and not current.refresh_due(self._clock(), fraction)):
            if current is not None:  # another process refreshed it since this one's copy
                self._remember(key, current, epoch)
            await self._redis.unlock(attempt, key, token)
            self.metrics.refreshes.labels("skipped").inc()
            return
        try:
            value = await loader()
        except Exception:
            log.warning("background refresh of %s failed", key, exc_info=True)
            self.metrics.refreshes.labels("failed").inc()
            await self._redis.unlock(attempt, key, token)
            return
        await self._keep(_Load(attempt, key, loader, ttl_s, depends_on, found, token, epoch), value)
        self.metrics.refreshes.labels("refreshed").inc()

    def _repeat(self, delay_s: float, again: Callable[[], Awaitable[None]]) -> None:
        if delay_s <= 0 or self._closed:
            return

        async def later() -> None:
            await asyncio.sleep(delay_s)
            await again()

        task = asyncio.create_task(later(), name="cache-invalidate-again")
        self._delayed.add(task)
        task.add_done_callback(self._delayed.discard)

    # Tiers.

    def _fresh(self, found: Found) -> Envelope | None:
        envelope = found.envelope
        if envelope is not None and envelope.is_fresh(self._clock(), found.generations):
            return envelope
        return None

    async def _keep(self, load: _Load, value: Any) -> Envelope:
        """Store a loaded value in the LRU and in Redis (releasing the rebuild lock)."""
        now, found = self._clock(), load.found
        fresh_s = jittered_ttl(load.ttl_s, self.settings.ttl_jitter, self._uniform)
        # Stamped with the generations read before the load, so that a bump during the load
        # wins. Without Redis they are unknown; the names still let a local bump find it.
        generations = found.generations if found else dict.fromkeys(load.depends_on, "")
        envelope = Envelope(encode_value(value), now, now + fresh_s, generations)
        self._remember(load.key, envelope, load.epoch)
        # Not written without the generations, nor when this process invalidated meanwhile.
        if found is None or load.epoch != self._epoch:
            await self._redis.unlock(load.attempt, load.key, load.token)
        else:
            ttl_s = fresh_s + self.settings.stale_ttl_s
            await self._redis.write(load.attempt, load.key, envelope, ttl_s, load.token)
        return envelope

    def _remember(self, key: str, envelope: Envelope, epoch: int) -> None:
        left = envelope.fresh_until - self._clock()
        # Overtaken by an invalidation in this process: a last-known value only.
        fresh_s = min(self.settings.local_ttl_s, left) if epoch == self._epoch else 0.0
        self._local.put(key, envelope, fresh_s, left + self.settings.stale_ttl_s)

    def _on_transition(self, old: BreakerState, new: BreakerState) -> None:
        self.metrics.breaker_transitions.labels(new.name.lower()).inc()
