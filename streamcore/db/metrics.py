"""The pools' state for /metrics (connections, health, replica lag), read at scrape time.

Every service with a database exports it the same way: `watch_pools(registry, db.stats)` when
its pools open, and the returned function when they close.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from streamcore.db.database import PoolStats


class PoolCollector(Collector):
    """Reads the pools' state at scrape time: nothing to keep in step between scrapes."""

    def __init__(self, stats: Callable[[], list[PoolStats]]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["pool", "role"]
        families = {
            "size": GaugeMetricFamily("db_pool_connections", "Open connections", labels=labels),
            "used": GaugeMetricFamily("db_pool_connections_in_use", "Checked-out connections",
                                      labels=labels),
            "max": GaugeMetricFamily("db_pool_max_connections", "Pool maximum", labels=labels),
            "healthy": GaugeMetricFamily("db_server_healthy", "1 if reads may go there",
                                         labels=labels),
            "lag": GaugeMetricFamily("db_replica_lag_seconds", "Replay lag", labels=labels),
        }  # fmt: skip
        for pool in self._stats():
            key = [pool.name, pool.role]
            families["size"].add_metric(key, pool.size)
            families["used"].add_metric(key, pool.used)
            families["max"].add_metric(key, pool.max_size)
            families["healthy"].add_metric(key, 1.0 if pool.healthy else 0.0)
            if pool.lag_s is not None:
                families["lag"].add_metric(key, pool.lag_s)
        yield from families.values()


def watch_pools(
    registry: CollectorRegistry, stats: Callable[[], list[PoolStats]]
) -> Callable[[], None]:
    """Export the pools' state; returns the function that stops it (at cleanup)."""
    collector = PoolCollector(stats)
    registry.register(collector)
    return lambda: registry.unregister(collector)
