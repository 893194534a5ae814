"""The read API's platform answer (`GET /v1/analytics/platform`): per-minute series rebuilt
from platform_minutes' cumulative counters, the latest subscriptions and queues, and the
gateway's instances live."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from analytics.platform import gateway, queries
from analytics.platform import samples as s
from streamcore.settings import Settings

# Counters need the reading before the range's first minute to give that minute a rate.
_LEAD = timedelta(minutes=5)

Series = dict[datetime, float]


def _by(rows: list[asyncpg.Record]) -> dict[tuple[str, str], Series]:
    found: dict[tuple[str, str], Series] = defaultdict(dict)
    for row in rows:
        found[(row["metric"], row["key"])][row["bucket"]] = row["value"]
    return found


def _steps(series: Series, start: datetime) -> list[tuple[datetime, float, float]]:
    """(bucket, increase, seconds since the reading before) for readings in the range."""
    steps = []
    for (before, old), (bucket, new) in itertools.pairwise(sorted(series.items())):
        step = s.increase(old, new)
        if bucket >= start and step is not None:
            steps.append((bucket, step, (bucket - before).total_seconds()))
    return steps


def _services(found: dict[tuple[str, str], Series], start: datetime) -> list[dict[str, Any]]:
    services = sorted({key for metric, key in found if metric == s.REQUESTS_TOTAL})
    answer = []
    for service in services:
        latency = found.get((s.LATENCY_MS, service), {})
        minutes = [
            {"bucket": bucket, "rps": step / seconds, "latency_ms": latency.get(bucket)}
            for bucket, step, seconds in _steps(found[(s.REQUESTS_TOTAL, service)], start)
        ]
        answer.append({"service": service, "minutes": minutes})
    return answer


def _cache(found: dict[tuple[str, str], Series], start: datetime) -> list[dict[str, Any]]:
    lookups = dict(
        (b, step) for b, step, _ in _steps(found.get((s.CACHE_LOOKUPS_TOTAL, ""), {}), start)
    )
    hits = _steps(found.get((s.CACHE_HITS_TOTAL, ""), {}), start)
    return [
        {"bucket": bucket, "ratio": s.ratio(step, lookups.get(bucket))}
        for bucket, step, _ in hits
        if bucket in lookups
    ]


def _recommendations(found: dict[tuple[str, str], Series], start: datetime) -> list[dict[str, Any]]:
    per_minute: dict[datetime, dict[str, float]] = defaultdict(dict)
    for (metric, le), values in found.items():
        if metric == s.RECOMMENDATION_BUCKET:
            for bucket, step, _ in _steps(values, start):
                per_minute[bucket][le] = step
    answer = []
    for bucket, buckets in sorted(per_minute.items()):
        p50, p95 = s.quantile(0.5, buckets), s.quantile(0.95, buckets)
        answer.append({
            "bucket": bucket,
            "p50": p50 * 1000 if p50 is not None else None,
            "p95": p95 * 1000 if p95 is not None else None,
        })  # fmt: skip
    return answer


async def _latest(conn: asyncpg.Connection, end: datetime) -> dict[str, Any]:
    plans = await queries.latest(conn, [s.SUBSCRIPTIONS_BY_STATE, s.SUBSCRIPTIONS_BY_PLAN], end)
    subscriptions: dict[str, dict[str, float]] = {"by_state": {}, "by_plan": {}}
    for row in plans:
        part = "by_state" if row["metric"] == s.SUBSCRIPTIONS_BY_STATE else "by_plan"
        subscriptions[part][row["key"]] = row["value"]
    queues: dict[str, dict[str, Any]] = {}
    for row in await queries.latest(conn, [s.QUEUE_DEPTH, s.DEAD_LETTERS], end):
        entry = queues.setdefault(row["key"], {"queue": row["key"], "depth": None,
                                               "dead_letters": None})  # fmt: skip
        entry["depth" if row["metric"] == s.QUEUE_DEPTH else "dead_letters"] = row["value"]
    return {"subscriptions": subscriptions, "queues": sorted(queues.values(), key=_queue)}


def _queue(entry: dict[str, Any]) -> str:
    return str(entry["queue"])


async def platform(
    pool: asyncpg.Pool, settings: Settings, start: datetime, end: datetime
) -> dict[str, Any]:
    """The whole answer; `instances` is empty when the gateway does not answer."""
    metrics = [s.REQUESTS_TOTAL, s.LATENCY_MS, s.CACHE_HITS_TOTAL, s.CACHE_LOOKUPS_TOTAL,
               s.RECOMMENDATION_BUCKET]  # fmt: skip
    async with pool.acquire() as conn:
        found = _by(await queries.series(conn, metrics, start - _LEAD, end))
        latest = await _latest(conn, end)
    live = await gateway.instances(settings) or []
    return {
        "services": _services(found, start),
        "instances": [
            {"service": i.service, "name": i.name, "status": i.status, "weight": i.weight}
            for i in live
        ],
        "cache_hit_ratio": _cache(found, start),
        "recommendation_latency_ms": _recommendations(found, start),
        **latest,
    }
