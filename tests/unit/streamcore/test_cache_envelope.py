"""Entries' envelopes: TTL jitter, early-refresh decisions, freshness, the Redis encoding."""

from __future__ import annotations

import math

import pytest

from streamcore.cache import query_key
from streamcore.cache.envelope import FIELDS, Envelope, encode_value, jittered_ttl


def envelope(created: float = 100.0, fresh_until: float = 200.0, **gens: str) -> Envelope:
    return Envelope(b'{"a":1}', created, fresh_until, gens)


def test_jitter_stretches_the_ttl_by_at_most_the_jitter_fraction() -> None:
    assert jittered_ttl(300, 0.1, lambda low, high: low) == 300
    assert jittered_ttl(300, 0.1, lambda low, high: high) == pytest.approx(330)
    assert jittered_ttl(300, 0.0, lambda low, high: high) == 300


def test_jitter_spreads_real_draws_within_bounds() -> None:
    import random

    draws = {jittered_ttl(100, 0.2, random.Random(seed).uniform) for seed in range(50)}
    assert all(100 <= ttl <= 120 for ttl in draws)
    assert len(draws) > 40  # not all the same


@pytest.mark.parametrize(
    ("now", "due"),
    [(100.0, False), (179.9, False), (180.0, True), (199.9, True), (250.0, True)],
)
def test_refresh_is_due_in_the_last_fraction_of_the_fresh_life(now: float, due: bool) -> None:
    assert envelope().refresh_due(now, 0.2) is due


def test_no_early_refresh_with_a_zero_fraction() -> None:
    assert not envelope().refresh_due(199.9, 0.0)


def test_fresh_needs_time_left_and_the_same_generations() -> None:
    entry = envelope(titles="g1")
    assert entry.is_fresh(150.0, {"titles": "g1"})
    assert not entry.is_fresh(200.0, {"titles": "g1"})
    assert not entry.is_fresh(150.0, {"titles": "g2"})


def test_fields_round_trip_and_foreign_data_reads_as_absent() -> None:
    entry = Envelope(encode_value({"t": "é", "n": [1, 2.5]}), 1.25, math.pi, {"ns": "x"})
    fields = entry.to_fields()
    assert Envelope.from_fields([fields[name] for name in FIELDS]) == entry
    assert Envelope.from_fields([None, None, None, None]) is None
    assert Envelope.from_fields([b"{}", b"not a number", b"1", b"{}"]) is None


def test_values_are_strict_compact_json() -> None:
    assert encode_value({"a": [1, "é"]}) == '{"a":[1,"é"]}'.encode()
    with pytest.raises(ValueError):
        encode_value(float("nan"))
    with pytest.raises(TypeError):
        encode_value({1, 2})


def test_query_keys_ignore_parameter_order_and_absent_filters() -> None:
    one = query_key("titles:list", {"genre": "doc", "limit": 20, "cursor": None})
    assert one == query_key("titles:list", {"limit": 20, "genre": "doc"})
    assert one != query_key("titles:list", {"limit": 21, "genre": "doc"})
    assert one.startswith("titles:list:")
