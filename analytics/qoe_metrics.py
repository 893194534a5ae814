"""The analytics service's own Prometheus gauges: the platform-wide QoE of the last closed
minute (concurrent viewers, rebuffering, start and playback failure percentages), read from
qoe_minutes before each scrape. The Prometheus alert rules (configs/prometheus/alerts.yml,
analytics/alerts/prometheus.py) are written over them; a ratio over nothing is not exported,
so a rule on it has no series and does not fire, as the service's own evaluation does not."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import asyncpg
from aiohttp import web
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from analytics.alerts import queries
from analytics.alerts.rules import closed_minutes
from analytics.qoe_formulas import QOE_METRICS, qoe_value
from streamcore.web.metrics import HttpMetrics

log = logging.getLogger(__name__)

# The gauge of each QoE metric an alert rule may name: analytics_<metric>.
PREFIX = "analytics_"


def gauge_name(metric: str) -> str:
    return f"{PREFIX}{metric}"


class LastMinuteQoe(Collector):
    """The values read by the last refresh (None: no data, not exported)."""

    def __init__(self) -> None:
        self.values: dict[str, float | None] = {}

    def collect(self) -> Iterator[Metric]:
        for metric, value in self.values.items():
            gauge = GaugeMetricFamily(
                gauge_name(metric), f"{metric} in the last closed minute, platform-wide"
            )
            if value is not None:
                gauge.add_metric([], value)
            yield gauge

    async def refresh(self, pool: asyncpg.Pool) -> None:
        (minute,) = closed_minutes(datetime.now(UTC), 1)
        async with pool.acquire() as conn:
            row = (await queries.qoe_minutes(conn, minute, minute)).get(minute)
        self.values = {metric: qoe_value(metric, row) for metric in QOE_METRICS}


def scrape_route(metrics: HttpMetrics, pool_key: web.AppKey[asyncpg.Pool]) -> web.RouteDef:
    """`GET /metrics`: the HTTP metrics and, refreshed first, the last minute's QoE."""
    qoe = LastMinuteQoe()
    metrics.registry.register(qoe)

    async def handler(request: web.Request) -> web.Response:
        try:
            await qoe.refresh(request.app[pool_key])
        except (OSError, asyncpg.PostgresError) as exc:
            # The HTTP metrics still matter with the database down; the QoE gauges go silent.
            log.warning("QoE gauges not refreshed: %s", exc)
            qoe.values = {}
        return await metrics.handler(request)

    return web.get("/metrics", handler)
