"""The cache's Prometheus metrics, registered in the app's own registry (never the global one)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge


class CacheMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        # tier="local": hit | miss; tier="redis": hit | miss | unavailable (error or breaker
        # open); tier="stale" (only when the database was unavailable): hit | miss.
        self.requests = Counter(
            "cache_requests_total", "Cache lookups by tier and result",
            ["tier", "result"], registry=registry,
        )  # fmt: skip
        self.loads = Counter(
            "cache_loads_total", "Loader (database) calls by outcome: ok, unavailable, error",
            ["result"], registry=registry,
        )  # fmt: skip
        self.redis_errors = Counter(
            "cache_redis_errors_total", "Redis operations that failed (timeouts included)",
            ["operation"], registry=registry,
        )  # fmt: skip
        self.breaker_state = Gauge(
            "cache_redis_breaker_state",
            "Circuit breaker around Redis: 0 closed, 1 open, 2 half-open", registry=registry,
        )  # fmt: skip
        self.breaker_transitions = Counter(
            "cache_redis_breaker_transitions_total", "Circuit breaker state changes, by new state",
            ["state"], registry=registry,
        )  # fmt: skip
        self.refreshes = Counter(
            "cache_early_refreshes_total", "Background refreshes: refreshed, skipped, failed",
            ["result"], registry=registry,
        )  # fmt: skip
        self.rebuild_waits = Counter(
            "cache_rebuild_waits_total",
            "Misses that waited for another process's rebuild: filled, timed_out",
            ["result"], registry=registry,
        )  # fmt: skip

        self.pending_invalidations = Gauge(
            "cache_pending_invalidations",
            "Invalidations and generation bumps waiting for Redis to be reachable",
            registry=registry,
        )

    def watch(self, breaker_state: Callable[[], float], pending: Callable[[], float]) -> None:
        """Read these at scrape time (an open breaker, for one, turns half-open by time)."""
        self.breaker_state.set_function(breaker_state)
        self.pending_invalidations.set_function(pending)
