"""The offline evaluation's pieces: the temporal split, trending as of each profile's split
time (against decayed_popularity), the metrics by hand, and chunked top-k against a dense
computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from streaming.recommendations import engine, topk
from streaming.recommendations.engine import Watch
from streaming.recommendations.evaluation import (
    ndcg,
    popularity_as_of,
    recall,
    split_times,
    temporal_split,
)


def test_the_split_holds_out_each_profiles_latest_tenth_and_at_least_one() -> None:
    many = [Watch("p", f"t{n:02d}", 1.0, float(100 - n)) for n in range(25)]
    few = [Watch("q", "a", 1.0, 5.0), Watch("q", "b", 1.0, 6.0), Watch("q", "c", 1.0, 7.0)]
    single = [Watch("r", "a", 1.0, 1.0)]
    train, held = temporal_split([*few, *many, *single], 0.1)
    # p's latest two (10 % of 25, rounded down) are the titles watched at 100 and 99.
    assert [w.title for w in held["p"]] == ["t01", "t00"]
    assert [w.title for w in held["q"]] == ["c"]
    assert [w.title for w in held["r"]] == ["a"]
    assert len(train) == 23 + 2
    kept = {(w.profile, w.title) for w in train}
    assert not kept & {(w.profile, w.title) for ws in held.values() for w in ws}
    times = split_times(train)
    assert times == {"p": 98.0, "q": 6.0}
    assert all(w.at <= times[w.profile] for w in train)


def test_popularity_as_of_each_time_is_decayed_popularity_of_what_came_before() -> None:
    half_life = 3.0
    watches = [
        Watch(f"u{n % 4}", f"t{n % 5}", 0.2 + (n % 3) * 0.3, float(n * 7 % 40)) for n in range(60)
    ]
    times = {"a": 10.0, "b": 25.5, "c": 39.0, "d": -1.0}
    found = dict(popularity_as_of(watches, times, half_life, depth=3))
    assert found["d"] == {}
    for profile, now in times.items():
        expected = engine.decayed_popularity(watches, now, half_life)
        top = sorted(expected, key=lambda t: (-expected[t], t))[:3]
        assert list(found[profile]) == top
        assert found[profile] == pytest.approx({t: expected[t] for t in top})


def test_popularity_as_of_survives_times_far_apart() -> None:
    # 2000 half-lives between the two watches: 2 ** 2000 overflows unless rebased.
    watches = [Watch("u", "old", 1.0, 0.0), Watch("u", "new", 1.0, 2000.0)]
    found = dict(popularity_as_of(watches, {"late": 2000.0}, 1.0, depth=5))
    assert found["late"]["new"] == 1.0
    assert found["late"].get("old", 0.0) == pytest.approx(0.0)


def test_ndcg_and_recall_by_hand() -> None:
    relevant = {"a", "b"}
    assert ndcg(["a", "b", "c"], relevant, 10) == pytest.approx(1.0)
    assert ndcg(["c", "a"], relevant, 10) == pytest.approx(
        (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    )
    assert ndcg(["c", "d"], relevant, 10) == 0.0
    assert ndcg(["c", "a"], relevant, 1) == 0.0
    assert recall(["c", "a"], relevant, 10) == 0.5
    assert recall(["a", "b"], relevant, 1) == 0.5
    assert recall(["a"], set(), 10) == 0.0


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    k=st.integers(1, 6),
    budget=st.integers(1, 60),
    density=st.floats(0.05, 0.6),
)
def test_chunked_top_k_matches_a_dense_product(
    seed: int, k: int, budget: int, density: float
) -> None:
    rng = np.random.default_rng(seed)
    left = sp.random(12, 5, density=density, format="csr", random_state=rng)
    left.data = np.round(left.data * 4) / 4  # coarse values: ties happen
    right = sp.csr_matrix(left.T)
    rows, cols, vals = topk.top_k(left, right, k, budget=budget)
    dense = left.toarray() @ right.toarray()
    for row in range(12):
        mine = cols[rows == row].tolist()
        expected = sorted(
            (c for c in range(12) if c != row and dense[row, c] > 0),
            key=lambda c: (-dense[row, c], c),
        )[:k]
        assert mine == expected
        assert vals[rows == row] == pytest.approx(dense[row, expected])
    assert np.all(np.diff(rows) >= 0)


def test_chunks_keep_to_the_budget() -> None:
    bounds = np.array([3, 3, 3, 10, 1, 1], dtype=np.int64)
    assert list(topk.chunks(bounds, 6)) == [(0, 2), (2, 3), (3, 4), (4, 6)]
    assert list(topk.chunks(np.zeros(0, dtype=np.int64), 6)) == []
