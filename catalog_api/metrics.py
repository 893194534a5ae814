"""The catalog API's /metrics: HTTP latency and counts; the database pools (exported by
streamcore/db/metrics.py) and the cache tiers and Redis breaker (registered by the cache
itself) join the same registry."""

from __future__ import annotations

from streamcore.web.metrics import HttpMetrics


class CatalogMetrics(HttpMetrics):
    def __init__(self) -> None:
        super().__init__("catalog-api")
