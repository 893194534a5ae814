"""One minute's platform rows from the readings of the gateway and the services, and the
reverse: rates, ratios and quantiles from consecutive minutes' cumulative counters. Pure.

Counters are stored as sampled (cumulative, summed over a service's instances), because a
rate needs two readings and the processor may skip a minute; a counter that went down (an
instance restarted) counts from zero, as Prometheus' rate() does.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping

from analytics.platform.scrape import MetricSample
from analytics.platform.writes import Sample

# platform_minutes metric names, in one place (read.py and the alerts read them back).
REQUESTS_TOTAL = "requests_total"
LATENCY_MS = "latency_ms"
LATENCY_MAX_MS = "latency_max_ms"
INSTANCE_WEIGHT = "instance_weight"
INSTANCE_HEALTHY = "instance_healthy"
HEALTHY_INSTANCES = "healthy_instances"
CACHE_HITS_TOTAL = "cache_hits_total"
CACHE_LOOKUPS_TOTAL = "cache_lookups_total"
RECOMMENDATION_BUCKET = "recommendation_seconds_bucket"  # key: the bucket's upper bound, le
SUBSCRIPTIONS_BY_STATE = "subscriptions_by_state"
SUBSCRIPTIONS_BY_PLAN = "subscriptions_by_plan"
QUEUE_DEPTH = "queue_depth"
DEAD_LETTERS = "dead_letters"
MISSING = "missing"  # key: an instance that did not answer its /metrics; value 1


def _matching(samples: Iterable[MetricSample], name: str) -> Iterable[MetricSample]:
    return (sample for sample in samples if sample.name == name)


def cache_totals(samples: Iterable[MetricSample]) -> tuple[float, float]:
    """(hits, lookups) of the catalog's read-through cache: every lookup asks the local tier
    first, and is a hit if the local or the Redis tier had it (streamcore/cache/metrics.py)."""
    hits = lookups = 0.0
    for sample in _matching(samples, "cache_requests_total"):
        tier, result = sample.labels.get("tier"), sample.labels.get("result")
        if tier == "local":
            lookups += sample.value
        if result == "hit" and tier in ("local", "redis"):
            hits += sample.value
    return hits, lookups


def histogram_buckets(samples: Iterable[MetricSample], name: str) -> dict[str, float]:
    """A histogram's cumulative bucket counts by `le`, summed over its other labels."""
    buckets: dict[str, float] = defaultdict(float)
    for sample in _matching(samples, f"{name}_bucket"):
        buckets[sample.labels["le"]] += sample.value
    return dict(buckets)


def subscription_counts(
    samples: Iterable[MetricSample],
) -> tuple[dict[str, float], dict[str, float]]:
    """The subscriptions service's `subscriptions{state,plan}` gauge, by state and by plan."""
    by_state: dict[str, float] = defaultdict(float)
    by_plan: dict[str, float] = defaultdict(float)
    for sample in _matching(samples, "subscriptions"):
        by_state[sample.labels["state"]] += sample.value
        by_plan[sample.labels["plan"]] += sample.value
    return dict(by_state), dict(by_plan)


def increase(previous: float | None, current: float) -> float | None:
    """A counter's increase between two readings; None without a previous one."""
    if previous is None:
        return None
    return current - previous if current >= previous else current


def quantile(q: float, buckets: Mapping[str, float]) -> float | None:
    """Prometheus' histogram_quantile over cumulative bucket counts (of one minute's increase):
    linear interpolation inside the bucket the rank falls in; None with no observation."""
    bounds = sorted((float(le), count) for le, count in buckets.items())
    if not bounds or bounds[-1][1] <= 0:
        return None
    rank = q * bounds[-1][1]
    lower, below = 0.0, 0.0
    for upper, count in bounds:
        if count >= rank:
            if math.isinf(upper):
                return lower  # beyond the last finite bound: its bound, as Prometheus does
            inside = count - below
            return lower + (upper - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = upper, count
    return lower


def ratio(part: float | None, whole: float | None) -> float | None:
    return part / whole if part is not None and whole else None


def keyed(metric: str, values: Mapping[str, float]) -> list[Sample]:
    return [(metric, key, value) for key, value in values.items()]
