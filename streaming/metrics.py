"""The streaming service's /metrics: HTTP latency and counts, the circuit breaker around its
calls to the catalog (its state, and how often it changed), and stream slots asked for."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

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

    def breaker_moved(self, old: BreakerState, new: BreakerState) -> None:
        self.catalog_breaker.set(int(new))
        self.breaker_transitions.labels(new.name.lower()).inc()
