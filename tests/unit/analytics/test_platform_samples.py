"""Platform metrics' pure parts (analytics/platform/samples.py): cache totals from the cache's
counters, histogram buckets and quantiles, counter increases across restarts."""

from __future__ import annotations

import pytest

from analytics.platform.samples import (
    cache_totals,
    histogram_buckets,
    increase,
    quantile,
    subscription_counts,
)
from analytics.platform.scrape import MetricSample


def _s(name: str, value: float, **labels: str) -> MetricSample:
    return MetricSample(name, labels, value)


def test_cache_hits_are_local_or_redis_hits_per_lookup() -> None:
    samples = [
        _s("cache_requests_total", 6, tier="local", result="hit"),
        _s("cache_requests_total", 4, tier="local", result="miss"),
        _s("cache_requests_total", 3, tier="redis", result="hit"),
        _s("cache_requests_total", 1, tier="redis", result="miss"),
        _s("cache_requests_total", 2, tier="stale", result="hit"),
    ]
    assert cache_totals(samples) == (9.0, 10.0)


def test_histogram_buckets_sum_over_other_labels() -> None:
    samples = [
        _s("recommendation_seconds_bucket", 1, le="0.01", row="a", cache="hit"),
        _s("recommendation_seconds_bucket", 2, le="0.01", row="b", cache="miss"),
        _s("recommendation_seconds_bucket", 5, le="+Inf", row="a", cache="hit"),
        _s("recommendation_seconds_count", 5, row="a", cache="hit"),
    ]
    assert histogram_buckets(samples, "recommendation_seconds") == {"0.01": 3.0, "+Inf": 5.0}


def test_quantiles_interpolate_inside_their_bucket() -> None:
    buckets = {"0.1": 50.0, "0.2": 100.0, "+Inf": 100.0}
    assert quantile(0.5, buckets) == pytest.approx(0.1)
    assert quantile(0.75, buckets) == pytest.approx(0.15)
    assert quantile(0.95, {"0.1": 0.0, "+Inf": 10.0}) == pytest.approx(0.1)
    assert quantile(0.5, {"0.1": 0.0, "+Inf": 0.0}) is None


def test_a_counter_that_went_down_restarted_from_zero() -> None:
    assert increase(None, 5) is None
    assert increase(5, 8) == 3
    assert increase(8, 2) == 2


def test_subscriptions_by_state_and_by_plan() -> None:
    samples = [
        _s("subscriptions", 3, state="Active", plan="standard"),
        _s("subscriptions", 1, state="Grace", plan="standard"),
        _s("subscriptions", 2, state="Active", plan="premium"),
    ]
    assert subscription_counts(samples) == (
        {"Active": 5.0, "Grace": 1.0}, {"standard": 4.0, "premium": 2.0},
    )  # fmt: skip
