"""Health probes: each talks to its service the way the application does, over a real connection.

A probe returns None when the service is healthy and raises with a short reason otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiohttp
import asyncpg
import redis.asyncio as aioredis

from analytics import keys as analytics_keys
from devstack.replicas import replica_dsn
from devstack.services import Service, ServiceSpec, edge_url
from gateway import runtime
from streamcore.db.read_routing import replica_problem, replica_state
from streamcore.failures import describe
from streamcore.settings import Settings
from streamcore.storage.s3 import open_storage
from streamcore.tasks import reaper_stats
from streamcore.tasks.queue import QueueName, create_celery, worker_hostname

PROBE_TIMEOUT_S = 3.0


class Unhealthy(Exception):
    """The service answered wrongly or not at all; the message says how."""


async def probe_postgres(settings: Settings, dsn: str | None = None) -> None:
    conn = await asyncpg.connect(dsn or settings.postgres_dsn, timeout=PROBE_TIMEOUT_S)
    try:
        await conn.fetchval("SELECT 1")
    finally:
        await conn.close()


async def probe_replica(settings: Settings, index: int) -> float:
    """The local replica answers as a standby, no further behind than allowed; its lag in s."""
    conn = await asyncpg.connect(replica_dsn(settings, index), timeout=PROBE_TIMEOUT_S)
    try:
        state = await replica_state(conn)
    finally:
        await conn.close()
    problem = replica_problem(state, settings.postgres.replica_max_lag_s)
    if problem is not None:
        raise Unhealthy(problem)
    assert state.lag_s is not None  # else replica_problem() named it
    return state.lag_s


async def probe_redis(settings: Settings) -> None:
    client = aioredis.from_url(
        settings.redis_dsn, socket_timeout=PROBE_TIMEOUT_S, socket_connect_timeout=PROBE_TIMEOUT_S
    )
    try:
        if not await client.ping():
            raise Unhealthy("PING was not answered with PONG")
    finally:
        await client.aclose()


async def probe_s3(settings: Settings) -> None:
    async with open_storage(settings, connect_timeout=PROBE_TIMEOUT_S, retries=1) as storage:
        for bucket in (settings.s3.uploads_bucket, settings.s3.media_bucket):
            await storage.check_bucket(bucket)


async def probe_postgres_server(settings: Settings) -> None:
    """The server answers, before our database exists: the bootstrap's readiness check."""
    await probe_postgres(settings, settings.postgres_dsn.rsplit("/", 1)[0] + "/postgres")


async def probe_s3_server(settings: Settings) -> None:
    """The gateway answers signed requests, before our buckets exist."""
    async with open_storage(settings, connect_timeout=PROBE_TIMEOUT_S, retries=1) as storage:
        await storage.ping()


async def _broker_reachable(settings: Settings) -> None:
    # Without its broker no worker can answer, and Celery would retry the connection for long.
    try:
        await probe_redis(settings)
    except Exception as exc:
        raise Unhealthy(f"its broker (Redis) is unreachable: {exc}") from None


async def probe_analytics_processor(settings: Settings) -> None:
    """A processor renewed its heartbeat key within its TTL (analytics/processor/loop.py)."""
    client = aioredis.from_url(settings.redis_dsn, socket_timeout=PROBE_TIMEOUT_S)
    try:
        if not await client.exists(analytics_keys.HEARTBEAT):
            raise Unhealthy("no analytics processor heartbeat in Redis")
    finally:
        await client.aclose()


async def probe_worker_pool(settings: Settings, queue: QueueName) -> str:
    """A worker of the queue's pool answers a Celery ping; a line about the pool's load."""
    await _broker_reachable(settings)

    def ping_and_count() -> tuple[list[dict[str, object]], int]:
        app = create_celery(settings)
        try:
            with app.connection_for_write() as conn:
                # Messages waiting in the queue (a Redis list named after it).
                waiting = int(conn.default_channel.client.llen(str(queue)))
            return app.control.ping(timeout=1.0) or [], waiting
        finally:
            app.close()

    replies, waiting = await asyncio.to_thread(ping_and_count)
    expected = worker_hostname(settings, queue).split("@", 1)[0] + "@"
    if not any(name.startswith(expected) for reply in replies for name in reply):
        raise Unhealthy(f"no worker of the {queue} pool answered a ping")
    policy = settings.worker.queues[queue]
    return (
        f"queue {queue}: concurrency {policy.concurrency}, {waiting} waiting, "
        f"time limit {policy.time_limit_s} s, {policy.max_retries} retries"
    )


async def probe_scheduler(settings: Settings) -> None:
    """The scheduler only sends to the broker; what it sent shows in the reaper's record."""
    await _broker_reachable(settings)


async def scheduler_detail(settings: Settings) -> str:
    client = aioredis.from_url(settings.redis_dsn, socket_timeout=PROBE_TIMEOUT_S)
    try:
        raw = await client.hgetall(reaper_stats.KEY)
    finally:
        await client.aclose()
    stats = reaper_stats.parse(raw)
    return stats.describe() if stats else "the reaper has not run yet"


async def probe_http(base: str) -> None:
    timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT_S)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(f"{base}/healthz") as response,
    ):
        if response.status != 200:
            raise Unhealthy(f"/healthz answered {response.status}")


def _http_probe(url: Callable[[Settings], str]) -> Callable[[Settings], Awaitable[None]]:
    async def probe(settings: Settings) -> None:
        await probe_http(url(settings))

    return probe


async def probe_gateway(settings: Settings) -> None:
    """HAProxy answers on its runtime API and every backend has a server in rotation."""
    rows = await runtime.for_settings(settings).servers()
    empty = sorted(
        backend
        for backend in settings.gateway.backends
        if not any(row.backend == backend and row.in_rotation for row in rows)
    )
    if empty:
        raise Unhealthy(f"no server in rotation for {', '.join(empty)}")


PROBES: dict[Service, Callable[[Settings], Awaitable[None]]] = {
    Service.POSTGRES: probe_postgres,
    Service.REDIS: probe_redis,
    Service.S3: probe_s3,
    Service.SCHEDULER: probe_scheduler,
    Service.EDGE: _http_probe(edge_url),
    Service.GATEWAY: probe_gateway,
    Service.REGISTRAR: _broker_reachable,
    Service.ANALYTICS_PROCESSOR: probe_analytics_processor,
}


# Readiness before bootstrap: the database and buckets the normal probes look for may not exist.
BOOTSTRAP_PROBES: dict[Service, Callable[[Settings], Awaitable[None]]] = {
    **PROBES,
    Service.POSTGRES: probe_postgres_server,
    Service.S3: probe_s3_server,
}


@dataclass(frozen=True)
class Health:
    reason: str | None = None  # None: healthy; else a one-line reason
    lag_s: float | None = None  # replicas: how far behind the primary
    detail: str | None = None  # worker pools and the scheduler: what they are doing


async def check(spec: ServiceSpec, settings: Settings, *, bootstrap: bool = False) -> Health:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S + 2):
            if spec.replica:
                return Health(lag_s=await probe_replica(settings, spec.replica))
            if spec.queue is not None:
                return Health(detail=await probe_worker_pool(settings, spec.queue))
            if spec.group:
                await probe_http(spec.url(settings))
                return Health()
            await (BOOTSTRAP_PROBES if bootstrap else PROBES)[Service(spec.service)](settings)
            if spec.service == Service.SCHEDULER:
                return Health(detail=await scheduler_detail(settings))
    except TimeoutError:
        return Health("no answer within the probe timeout")
    except Exception as exc:  # any failure to answer is, by definition, unhealthy
        return Health(describe(exc))
    return Health()


async def check_all(
    specs: Sequence[ServiceSpec], settings: Settings, *, bootstrap: bool = False
) -> dict[str, Health]:
    """Each service's health, by name, probed concurrently."""
    results = await asyncio.gather(*(check(spec, settings, bootstrap=bootstrap) for spec in specs))
    return {spec.service: result for spec, result in zip(specs, results, strict=True)}
