"""The streaming service's /metrics: HTTP latency and counts, the circuit breaker around its
calls to the catalog (its state, and how often it changed), stream slots asked for, the
history flusher's work, and how long recommendation rows take (cached and not)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from streamcore.cache.breaker import BreakerState
from streamcore.web.metrics import HttpMetrics


class StreamingMetrics(HttpMetrics):
    def __init__(self) -> None:
        super().__init__("streaming")
        self.catalog_breaker = Gauge(
            "catalog_breaker_state",
            "Circuit breaker around the catalog: 0 closed, 1 open, 2 half-open",
            registry=self.registry,
        )
        self.breaker_transitions = Counter(
            "catalog_breaker_transitions_total", "Changes of the catalog breaker's state",
            ["to"], registry=self.registry,
        )  # fmt: skip

        self.slot_requests = Counter(
            "stream_slot_requests_total",
            "Signed-in session starts by outcome: granted, or refused (too many streams)",
            ["outcome"], registry=self.registry,
        )  # fmt: skip

        self.history_flushed = Counter(
            "history_reports_flushed_total",
            "Progress reports the flusher wrote to PostgreSQL (in batches)", registry=self.registry,
        )  # fmt: skip
        self.history_flush_failures = Counter(
            "history_flush_failures_total",
            "Batches the flusher could not write (kept in Redis and retried)",
            registry=self.registry,
        )  # fmt: skip
        self.history_backlog = Gauge(
            "history_reports_backlog",
            "Progress reports waiting in Redis to be written", registry=self.registry,
        )  # fmt: skip
        self.recommendation_seconds = Histogram(
            "recommendation_seconds",
            "Time to answer a recommendation row, by row and by whether it came from the cache",
            ["row", "cache"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )  # fmt: skip

    def breaker_moved(self, old: BreakerState, new: BreakerState) -> None:
        self.catalog_breaker.set(int(new))
        self.breaker_transitions.labels(new.name.lower()).inc()
