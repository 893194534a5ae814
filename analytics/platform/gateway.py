"""The gateway as analytics sees it: its servers (per service: instance, status, weight) and
its backends' counters, read from HAProxy's runtime API through the gateway package's client
(gateway/runtime.py; import-linter allows analytics to use it: it imports only the kernel).

The runtime API rather than the Prometheus exporter: it is one local socket read, typed by the
client the registrar and the CLI already use, and it gives the same figures (`show stat`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from gateway import runtime
from streamcore.settings import SERVICE_SECTIONS, Settings

log = logging.getLogger(__name__)

# `show stat` type filter: 2 = backends only (doc/management.txt, "show stat").
_BACKENDS = 2


@dataclass(frozen=True)
class Instance:
    service: str
    name: str  # "catalog-1" (from its port), or HAProxy's slot name for a foreign address
    status: str  # HAProxy's words: UP, DOWN, DRAIN, MAINT, "UP 1/3", ...
    weight: int
    healthy: bool  # up by its checks and taking new requests
    url: str  # where the instance itself answers (its /metrics)


@dataclass(frozen=True)
class BackendStats:
    service: str
    requests_total: float  # HTTP requests the backend received since HAProxy started
    latency_ms: float | None  # average response time over its last 1024 requests (rtime)
    max_latency_ms: float | None  # the slowest response time seen (rtime_max)


def _instance_name(settings: Settings, server: runtime.Server) -> str:
    section = settings.service(server.backend)
    index = server.port - section.port + 1
    return f"{server.backend}-{index}" if index >= 1 else server.slot


async def instances(settings: Settings) -> list[Instance] | None:
    """Every assigned slot of every service's backend; None if the gateway does not answer."""
    api = runtime.for_settings(settings)
    try:
        servers = await api.servers()
    except runtime.RuntimeApiError as exc:
        log.warning("gateway runtime API: %s", exc)
        return None
    return [
        Instance(server.backend, _instance_name(settings, server), server.status,
                 server.weight, server.in_rotation, f"http://{server.addr}:{server.port}")
        for server in servers
        if server.backend in SERVICE_SECTIONS and not server.free
    ]  # fmt: skip


def healthy_counts(settings: Settings, found: list[Instance]) -> dict[str, int]:
    """Healthy instances per service; every backend of the gateway is listed, 0 too."""
    counts = dict.fromkeys(settings.gateway.backends, 0)
    for instance in found:
        if instance.service in counts:
            counts[instance.service] += int(instance.healthy)
    return counts


def _number(value: str | None) -> float | None:
    return float(value) if value else None


async def backend_stats(settings: Settings) -> list[BackendStats] | None:
    """Each service backend's request counter and response times; None if unreachable."""
    api = runtime.for_settings(settings)
    try:
        stats = runtime.parse_stat(await api.command(f"show stat -1 {_BACKENDS} -1"))
    except runtime.RuntimeApiError as exc:
        log.warning("gateway runtime API: %s", exc)
        return None
    return [
        BackendStats(proxy, _number(row.get("req_tot")) or 0.0,
                     _number(row.get("rtime")), _number(row.get("rtime_max")))
        for (proxy, server), row in stats.items()
        if server == "BACKEND" and proxy in SERVICE_SECTIONS
    ]  # fmt: skip
