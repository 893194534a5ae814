"""Reading the services' own figures over HTTP (their /metrics, Prometheus' text format) and
the job queues in Redis. Every read is bounded in time; a service that does not answer within
the timeout, or answers an error, is "missing" (None), never an exception."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass

import aiohttp
import redis
import redis.asyncio as aioredis
from prometheus_client.parser import text_string_to_metric_families

from streamcore.tasks.dead_letters import DeadLetters
from streamcore.tasks.routes import TASK_QUEUES, QueueName

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MetricSample:
    name: str  # the sample's own name: cache_requests_total, recommendation_seconds_bucket
    labels: dict[str, str]
    value: float


async def metrics_of(
    session: aiohttp.ClientSession, url: str, timeout_s: float
) -> list[MetricSample] | None:
    """Every sample of `url`'s /metrics; None if it does not answer 200 in time."""
    try:
        async with session.get(
            f"{url.rstrip('/')}/metrics", timeout=aiohttp.ClientTimeout(total=timeout_s)
        ) as response:
            if response.status != 200:
                log.info("%s/metrics answered %s: recorded as missing", url, response.status)
                return None
            text = await response.text()
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.info("%s/metrics: %s: recorded as missing", url, type(exc).__name__)
        return None
    return [
        MetricSample(sample.name, dict(sample.labels), float(sample.value))
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


async def queue_depths(client: aioredis.Redis) -> dict[str, int]:
    """Messages waiting per queue: Celery's Redis transport keeps each queue as a list named
    after it (devstack/health.py counts them the same way)."""
    return {str(queue): int(await client.llen(str(queue))) for queue in QueueName}


async def dead_letters(dsn: str) -> dict[str, int]:
    """Dead letters per queue (the queue its task is routed to; "unknown" for a task no longer
    routed). The kernel's DeadLetters is synchronous, so it runs in a thread."""

    def count() -> dict[str, int]:
        client = redis.Redis.from_url(dsn, socket_timeout=2, socket_connect_timeout=2)
        try:
            jobs = DeadLetters(client).list()
        finally:
            client.close()
        routes = {str(task): str(queue) for task, queue in TASK_QUEUES.items()}
        found = Counter(routes.get(job.task, "unknown") for job in jobs)
        return {**dict.fromkeys(map(str, QueueName), 0), **found}

    return await asyncio.to_thread(count)
