"""The platform metrics job: each minute, one row per figure into platform_minutes.

Sources: the gateway's runtime API (requests and response times per backend, each server's
status and weight), the catalog instances' /metrics (cache lookups and hits), the streaming
instances' /metrics (`recommendation_seconds` histogram), one subscriptions instance's
/metrics (`subscriptions{state,plan}`: every instance reads the same table, so one answers
for all), and Redis (queue depths, dead letters). Services are asked over HTTP, never in
their tables; one that does not answer is recorded under `missing`, and the others still are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import asyncpg
import redis.asyncio as aioredis

from analytics.alerts.rules import minute_of
from analytics.platform import gateway, scrape, writes
from analytics.platform import samples as s
from streamcore.settings import Settings

log = logging.getLogger(__name__)

# Each /metrics read waits at most this long: a stuck instance costs the job this, no more.
SCRAPE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class PlatformContext:
    """What the job needs; `now` unset: the clock's."""

    pool: asyncpg.Pool
    settings: Settings
    session: aiohttp.ClientSession
    redis: aioredis.Redis
    now: datetime | None = None


def _instance_urls(
    settings: Settings, found: list[gateway.Instance] | None, service: str
) -> dict[str, str]:
    """The service's instances by name: those the gateway has, else those the settings list."""
    if found is not None:
        return {i.name: i.url for i in found if i.service == service}
    section = settings.service(service)
    return {f"{service}-{n}": section.instance_url(n) for n in range(1, section.instances + 1)}


async def _gateway_rows(settings: Settings, found: list[gateway.Instance] | None) -> list[s.Sample]:
    rows: list[s.Sample] = []
    if found is not None:
        for instance in found:
            key = f"{instance.service}/{instance.name}"
            rows += [(s.INSTANCE_WEIGHT, key, instance.weight),
                     (s.INSTANCE_HEALTHY, key, float(instance.healthy))]  # fmt: skip
        rows += s.keyed(s.HEALTHY_INSTANCES, gateway.healthy_counts(settings, found))
    for backend in await gateway.backend_stats(settings) or []:
        rows.append((s.REQUESTS_TOTAL, backend.service, backend.requests_total))
        if backend.latency_ms is not None:
            rows.append((s.LATENCY_MS, backend.service, backend.latency_ms))
        if backend.max_latency_ms is not None:
            rows.append((s.LATENCY_MAX_MS, backend.service, backend.max_latency_ms))
    return rows


async def _scrape_all(
    context: PlatformContext, urls: dict[str, str], first_only: bool = False
) -> tuple[list[scrape.MetricSample], list[s.Sample]]:
    """Every sample of the instances at `urls` (or of the first that answers), and a
    `missing` row for each that did not."""
    found: list[scrape.MetricSample] = []
    missing: list[s.Sample] = []
    for name, url in sorted(urls.items()):
        got = await scrape.metrics_of(context.session, url, SCRAPE_TIMEOUT_S)
        if got is None:
            missing.append((s.MISSING, name, 1.0))
            continue
        found += got
        if first_only:
            break
    return found, missing


async def _service_rows(
    context: PlatformContext, found: list[gateway.Instance] | None
) -> list[s.Sample]:
    settings = context.settings
    catalog, missing = await _scrape_all(context, _instance_urls(settings, found, "catalog"))
    rows = list(missing)
    if catalog:
        hits, lookups = s.cache_totals(catalog)
        rows += [(s.CACHE_HITS_TOTAL, "", hits), (s.CACHE_LOOKUPS_TOTAL, "", lookups)]
    streaming, missing = await _scrape_all(context, _instance_urls(settings, found, "streaming"))
    rows += missing
    if streaming:
        buckets = s.histogram_buckets(streaming, "recommendation_seconds")
        rows += s.keyed(s.RECOMMENDATION_BUCKET, buckets)
    urls = _instance_urls(settings, found, "subscriptions")
    plans, missing = await _scrape_all(context, urls, first_only=True)
    if not plans:
        rows += missing
    else:
        by_state, by_plan = s.subscription_counts(plans)
        rows += s.keyed(s.SUBSCRIPTIONS_BY_STATE, by_state)
        rows += s.keyed(s.SUBSCRIPTIONS_BY_PLAN, by_plan)
    return rows


async def _queue_rows(context: PlatformContext) -> list[s.Sample]:
    try:
        depths = await scrape.queue_depths(context.redis)
        dead = await scrape.dead_letters(context.settings.redis_dsn)
    except Exception as exc:  # Redis down: the queues are missing this minute, nothing else
        log.warning("platform metrics: queues not read: %s", exc)
        return [(s.MISSING, "redis", 1.0)]
    return s.keyed(s.QUEUE_DEPTH, depths) + s.keyed(s.DEAD_LETTERS, dead)


async def run(context: PlatformContext) -> int:
    """Sample everything once into the current minute; the number of rows written."""
    now = context.now or datetime.now(UTC)
    found = await gateway.instances(context.settings)
    rows = await _gateway_rows(context.settings, found)
    if found is None:
        rows.append((s.MISSING, "gateway", 1.0))
    rows += await _service_rows(context, found)
    rows += await _queue_rows(context)
    async with context.pool.acquire() as conn:
        return await writes.record(conn, minute_of(now), rows)
