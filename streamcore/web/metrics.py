"""Prometheus metrics for the aiohttp services: one registry per app, never a global one."""

from __future__ import annotations

import time

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from streamcore.web.service import Handler

# Millisecond resolution where it matters: cached answers take a few ms, S3 reads tens.
LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class HttpMetrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total", "HTTP requests by route and status",
            ["service", "route", "method", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "http_request_duration_seconds", "Time to the response headers, by route",
            ["service", "route"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.bytes_sent = Counter(
            "http_response_bytes_total",
            "Body bytes sent",
            ["service", "route"],
            registry=self.registry,
        )
        self.service = service

    def middleware(self) -> web.middleware:  # type: ignore[valid-type]
        @web.middleware
        async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
            started = time.perf_counter()
            route = request.match_info.route.resource
            name = route.canonical if route is not None else "unmatched"
            status = 500
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as exc:
                status = exc.status
                raise
            finally:
                self.latency.labels(self.service, name).observe(time.perf_counter() - started)
                self.requests.labels(self.service, name, request.method, str(status)).inc()

        return measure

    async def handler(self, request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )
