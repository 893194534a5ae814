"""Properties of the per-process fallback limiter (streamcore/ratelimit/local.py) on a clock
hypothesis moves: whatever the rule and the requests' times, it never admits more than
capacity + rate x elapsed between any two admissions of a key, keys never share a budget, and
a refused request passes when it comes back after its ``retry_after_s``."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from streamcore.ratelimit.config import RateRule
from streamcore.ratelimit.local import LocalLimiter

# Float sums of many intervals drift by far less than this (seconds).
EPSILON = 1e-6

rules = st.builds(
    RateRule,
    limit=st.integers(min_value=1, max_value=50),
    period_s=st.sampled_from([0.5, 1.0, 2.0, 60.0]),
    algorithm=st.sampled_from(["sliding_window", "gcra"]),
) | st.builds(
    RateRule,
    limit=st.integers(min_value=1, max_value=50),
    period_s=st.sampled_from([0.5, 1.0, 60.0]),
    algorithm=st.just("gcra"),
    burst=st.integers(min_value=1, max_value=80),
)
# Each request: the time since the one before (often none: a burst) and its key.
requests = st.lists(
    st.tuples(st.sampled_from([0.0, 0.0, 0.001, 0.01, 0.05, 0.2, 1.0, 3.0]),
              st.sampled_from(["a", "b", "c"])),
    min_size=1, max_size=150,
)  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(rules, requests)
def test_never_more_than_capacity_plus_refill(
    rule: RateRule, steps: list[tuple[float, str]]
) -> None:
    clock = Clock()
    limiter = LocalLimiter(clock=clock)
    admitted: dict[str, list[float]] = {}
    for gap, key in steps:
        clock.now += gap
        verdict = limiter.hit(rule, key)
        assert verdict.limit == rule.capacity
        if verdict.allowed:
            admitted.setdefault(key, []).append(clock.now)
        else:
            assert verdict.remaining == 0 and verdict.retry_after_s >= 1
    rate = rule.limit / rule.period_s
    for times in admitted.values():
        for i, start in enumerate(times):
            for j in range(i, len(times)):
                assert j - i + 1 <= rule.capacity + (times[j] - start + EPSILON) * rate


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(rules, requests)
def test_a_refused_request_passes_after_retry_after(
    rule: RateRule, steps: list[tuple[float, str]]
) -> None:
    clock = Clock()
    limiter = LocalLimiter(clock=clock)
    for gap, key in steps:
        clock.now += gap
        verdict = limiter.hit(rule, key)
        if not verdict.allowed:
            clock.now += verdict.retry_after_s
            assert limiter.hit(rule, key).allowed
