"""The service's Prometheus metrics: its HTTP requests, and from its database the subscriptions
by state and plan and the transitions by type (every instance and the worker pool write them,
so they are counted where they are all recorded: the tables)."""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
from aiohttp import web
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from streamcore.web.metrics import HttpMetrics
from subscriptions import queries


class _Tables(Collector):
    """The last counts read from the tables (refreshed before each scrape)."""

    def __init__(self) -> None:
        self.distribution: list[tuple[str, str, int]] = []
        self.transitions: list[tuple[str, str, str, int]] = []

    def collect(self) -> Iterator[Metric]:
        by_state = GaugeMetricFamily(
            "subscriptions", "Subscriptions by state and plan", labels=["state", "plan"]
        )
        for state, plan, count in self.distribution:
            by_state.add_metric([state, plan], count)
        yield by_state
        moves = CounterMetricFamily(
            "subscription_transitions", "Transitions recorded, by event and states",
            labels=["event", "from_state", "to_state"],
        )  # fmt: skip
        for event, from_state, to_state, count in self.transitions:
            moves.add_metric([event, from_state, to_state], count)
        yield moves


class SubscriptionMetrics(HttpMetrics):
    def __init__(self) -> None:
        super().__init__("subscriptions")
        self.tables = _Tables()
        self.registry.register(self.tables)

    async def refresh(self, pool: asyncpg.Pool) -> None:
        self.tables.distribution = [
            (r["state"], r["plan"], r["n"]) for r in await queries.distribution(pool)
        ]
        self.tables.transitions = [
            (r["event"], r["from_state"], r["to_state"], r["n"])
            for r in await queries.transitions(pool)
        ]

    def scrape(self, pool_key: web.AppKey[asyncpg.Pool]) -> web.RouteDef:
        async def metrics(request: web.Request) -> web.Response:
            await self.refresh(request.app[pool_key])
            return await self.handler(request)

        return web.get("/metrics", metrics)
