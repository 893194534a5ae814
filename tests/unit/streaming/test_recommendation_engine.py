"""The recommendation engine on small hand-made catalogues and histories: what each neighbour
list holds, hand-computed similarities, decay, ranking's rules, and determinism whatever the
input's order (hypothesis)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streaming.recommendations import content as content_module
from streaming.recommendations import engine
from streaming.recommendations.engine import Candidate, TitleFeatures, Watch, Weights

TITLES = {
    t.id: t
    for t in [
        TitleFeatures("d1", ("Drama",), 1990),
        TitleFeatures("d2", ("Drama",), 1991),
        TitleFeatures("d3", ("Crime", "Drama"), 1992),
        TitleFeatures("c1", ("Comedy",), 2010),
        TitleFeatures("c2", ("Comedy",), 2011),
        TitleFeatures("a1", ("Animation", "Comedy"), 2012),
        TitleFeatures("h1", ("Horror",), 2000),
    ]
}
COLLABORATIVE: engine.Neighbours = {
    "d1": [("d2", 0.9), ("c1", 0.2)],
    "c1": [("c2", 0.8), ("d1", 0.3)],
    "h1": [("d3", 0.5)],
}
TRENDING = {"h1": 10.0, "c2": 5.0, "d2": 1.0}
HYBRID = Weights(content=0.2, collaborative=0.7, trending=0.1)


def _ranked(history: list[Watch], **overrides: object) -> list[Candidate]:
    arguments: dict[str, object] = {
        "content": engine.content_neighbours(list(TITLES.values()), 3),
        "collaborative": COLLABORATIVE,
        "trending": TRENDING,
        "titles": TITLES,
        "weights": HYBRID,
    }
    arguments.update(overrides)
    return engine.rank(history, **arguments)  # type: ignore[arg-type]


# --- content neighbours ---------------------------------------------------------------------


def test_content_neighbours_prefer_the_same_genres_then_near_years() -> None:
    found = engine.content_neighbours(list(TITLES.values()), 2)
    assert [other for other, _ in found["d1"]] == ["d2", "d3"]
    assert [other for other, _ in found["c1"]] == ["c2", "a1"]
    # A horror film shares no genre: only a year (2000) a decade from the others.
    assert all(similarity < 0.3 for _, similarity in found["h1"])
    near, far = found["d1"][0][1], found["d1"][1][1]
    assert 1.0 > near > far > 0


def test_a_nearer_year_is_more_alike_among_the_same_genres() -> None:
    titles = [TitleFeatures(f"y{year}", ("Drama",), year) for year in (1990, 1992, 2000, 2030)]
    found = engine.content_neighbours(titles, 3)
    assert [other for other, _ in found["y1990"]] == ["y1992", "y2000", "y2030"]
    sims = [similarity for _, similarity in found["y1990"]]
    assert sims[0] > sims[1] > sims[2] > 0  # the genre alone still counts


def test_a_series_is_more_like_a_series() -> None:
    titles = [
        TitleFeatures("film", ("Drama",), 2000),
        TitleFeatures("show", ("Drama",), 2000, kind="series"),
        TitleFeatures("show2", ("Drama",), 2000, kind="series"),
    ]
    found = engine.content_neighbours(titles, 2)
    assert found["show"][0][0] == "show2"
    assert found["show"][0][1] > found["show"][1][1]


def test_titles_without_features_have_no_neighbours_and_ties_fall_to_the_id() -> None:
    titles = [TitleFeatures(name, ("Drama",), 1990) for name in ("b", "a", "c", "d")]
    found = engine.content_neighbours([*titles, TitleFeatures("bare")], 2)
    assert found["bare"] == []
    assert [other for other, _ in found["c"]] == ["a", "b"]
    assert [other for other, _ in found["a"]] == ["b", "c"]
    assert found["a"][0][1] == pytest.approx(1.0)


def _brute_force(titles: list[TitleFeatures], k: int) -> dict[str, dict[str, float]]:
    """Every title's similarity to every other, one vector per title, dense."""
    ordered = sorted(titles, key=lambda t: t.id)
    described = [content_module.Described(t.id, t.genres, t.year, t.kind) for t in ordered]
    shape = content_module.Shape(
        content_module.YEAR_WEIGHT, content_module.YEAR_SCALE, content_module.GENRE_IDF
    )
    keys = [content_module._key(t) for t in described]
    dense = content_module._vectors(
        keys, content_module._idf(described, shape.genre_idf), shape
    ).toarray()
    product = dense @ dense.T
    return {
        a.id: {b.id: float(product[i, j]) for j, b in enumerate(ordered) if j != i}
        for i, a in enumerate(ordered)
    }


GENRES = ("Drama", "Comedy", "Crime", "Horror")
titles_strategy = st.lists(
    st.builds(
        TitleFeatures,
        id=st.sampled_from([f"t{n:02d}" for n in range(30)]),
        genres=st.lists(st.sampled_from(GENRES), max_size=3).map(tuple),
        year=st.none() | st.integers(1950, 2020),
        kind=st.sampled_from(("movie", "series")),
    ),
    max_size=30,
    unique_by=lambda t: t.id,
)


@settings(max_examples=60, deadline=None)
@given(titles=titles_strategy, k=st.integers(1, 6))
def test_content_neighbours_are_the_true_top_k(titles: list[TitleFeatures], k: int) -> None:
    found = engine.content_neighbours(titles, k)
    truth = _brute_force(titles, k)
    assert set(found) == {t.id for t in titles}
    for title, neighbours in found.items():
        others = [other for other, _ in neighbours]
        assert title not in others and len(set(others)) == len(others)
        positive = sorted((s for s in truth[title].values() if s > 1e-12), reverse=True)
        assert len(neighbours) == min(k, len(positive))
        values = [similarity for _, similarity in neighbours]
        assert values == pytest.approx(positive[: len(values)], abs=1e-9)
        for other, similarity in neighbours:
            assert similarity == pytest.approx(truth[title][other], abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(titles=titles_strategy, k=st.integers(1, 6), seed=st.integers(0, 1000))
def test_content_neighbours_ignore_the_input_order(
    titles: list[TitleFeatures], k: int, seed: int
) -> None:
    shuffled = list(titles)
    random.Random(seed).shuffle(shuffled)
    assert engine.content_neighbours(shuffled, k) == engine.content_neighbours(titles, k)


# --- item neighbours ------------------------------------------------------------------------

WATCHES = [
    Watch("p1", "a", 1.0, 10),
    Watch("p1", "b", 1.0, 11),
    Watch("p1", "c", 1.0, 1),
    Watch("p1", "c", 0.0, 12),  # the latest (0) is what counts
    Watch("p2", "a", 1.0, 10),
    Watch("p2", "b", 1.0, 3),
    Watch("p2", "b", 0.5, 13),
    Watch("p2", "c", 1.0, 10),
    Watch("p3", "b", 1.0, 10),
    Watch("p3", "c", 0.5, 10),
]


def test_item_neighbours_are_the_shrunk_cosine_of_the_latest_weights() -> None:
    # p1: a=1 b=1; p2: a=1 b=.5 c=1; p3: b=1 c=.5
    norm_a, norm_b, norm_c = math.sqrt(2), math.sqrt(2.25), math.sqrt(1.25)
    ab = 1.5 / (norm_a * norm_b + 2)
    ac = 1.0 / (norm_a * norm_c + 2)
    bc = 1.0 / (norm_b * norm_c + 2)
    found = engine.item_neighbours(WATCHES, 5, shrinkage=2.0)
    assert set(found) == {"a", "b", "c"}
    assert [o for o, _ in found["a"]] == ["b", "c"]
    assert dict(found["a"]) == pytest.approx({"b": ab, "c": ac})
    assert dict(found["b"]) == pytest.approx({"a": ab, "c": bc})
    assert dict(found["c"]) == pytest.approx({"a": ac, "b": bc})
    plain = engine.item_neighbours(WATCHES, 5, shrinkage=0.0)
    assert dict(plain["a"])["b"] == pytest.approx(1.5 / (norm_a * norm_b))


def test_item_neighbours_keep_k_best_never_themselves() -> None:
    found = engine.item_neighbours(WATCHES, 1, shrinkage=2.0)
    assert {title: [o for o, _ in lists] for title, lists in found.items()} == {
        "a": ["b"],
        "b": ["a"],
        "c": ["a"],
    }
    assert engine.item_neighbours([], 5) == {}


watches_strategy = st.lists(
    st.builds(
        Watch,
        profile=st.sampled_from([f"p{n}" for n in range(6)]),
        title=st.sampled_from([f"t{n}" for n in range(8)]),
        weight=st.sampled_from([0.0, 0.25, 0.5, 1.0]),
        at=st.integers(0, 5).map(float),
    ),
    max_size=40,
)


def _dense_cosine(watches: list[Watch], shrinkage: float) -> dict[str, dict[str, float]]:
    latest: dict[tuple[str, str], Watch] = {}
    for w in watches:
        held = latest.get((w.profile, w.title))
        if held is None or (w.at, w.weight) > (held.at, held.weight):
            latest[(w.profile, w.title)] = w
    titles = sorted({t for _, t in latest})
    profiles = sorted({p for p, _ in latest})
    matrix = np.zeros((len(profiles), len(titles)))
    for (p, t), w in latest.items():
        matrix[profiles.index(p), titles.index(t)] = w.weight
    norms = np.linalg.norm(matrix, axis=0)
    dots = matrix.T @ matrix
    return {
        a: {
            b: float(dots[i, j] / (norms[i] * norms[j] + shrinkage))
            for j, b in enumerate(titles)
            if j != i and dots[i, j] > 0
        }
        for i, a in enumerate(titles)
    }


@settings(max_examples=60, deadline=None)
@given(watches=watches_strategy, k=st.integers(1, 4), seed=st.integers(0, 1000))
def test_item_neighbours_match_a_dense_computation_in_any_order(
    watches: list[Watch], k: int, seed: int
) -> None:
    found = engine.item_neighbours(watches, k, shrinkage=1.0)
    truth = _dense_cosine(watches, 1.0)
    assert set(found) == set(truth)
    for title, neighbours in found.items():
        expected = sorted(truth[title].items(), key=lambda item: (-item[1], item[0]))[:k]
        assert [o for o, _ in neighbours] == [o for o, _ in expected]
        assert [s for _, s in neighbours] == pytest.approx([s for _, s in expected])
    shuffled = list(watches)
    random.Random(seed).shuffle(shuffled)
    assert engine.item_neighbours(shuffled, k, shrinkage=1.0) == found
    assert engine.item_neighbours(watches, k, shrinkage=1.0) == found


# --- trending -------------------------------------------------------------------------------


def test_decayed_popularity_halves_after_one_half_life() -> None:
    watches = [Watch("p", "x", 1.0, 1000.0), Watch("q", "x", 0.5, 1000.0)]
    assert engine.decayed_popularity(watches, 1000.0, 60.0) == {"x": 1.5}
    assert engine.decayed_popularity(watches, 1060.0, 60.0)["x"] == pytest.approx(0.75)
    assert engine.decayed_popularity(watches, 1120.0, 60.0)["x"] == pytest.approx(0.375)
    # A watch after `now` does not count yet.
    assert engine.decayed_popularity(watches, 999.0, 60.0) == {}


@settings(max_examples=50, deadline=None)
@given(watches=watches_strategy, seed=st.integers(0, 1000))
def test_decayed_popularity_ignores_the_input_order(watches: list[Watch], seed: int) -> None:
    shuffled = list(watches)
    random.Random(seed).shuffle(shuffled)
    assert engine.decayed_popularity(shuffled, 4.0, 2.0) == engine.decayed_popularity(
        watches, 4.0, 2.0
    )


def test_forward_decay_divided_by_now_is_decayed_popularity_and_rebasing_keeps_it() -> None:
    half_life, landmark, now = 3600.0, 1_000_000.0, 1_020_000.0
    watches = [
        Watch("p", "x", 1.0, 1_001_000.0),
        Watch("q", "x", 0.4, 1_015_000.0),
        Watch("r", "y", 0.7, 1_019_000.0),
    ]
    stored: dict[str, float] = {}
    for w in watches:
        stored[w.title] = stored.get(w.title, 0.0) + w.weight * engine.forward_decay(
            w.at, landmark, half_life
        )
    expected = engine.decayed_popularity(watches, now, half_life)
    scale = engine.forward_decay(now, landmark, half_life)
    assert {t: s / scale for t, s in stored.items()} == pytest.approx(expected)
    later = 1_018_000.0
    factor = engine.rebased(landmark, later, half_life)
    assert factor == pytest.approx(2.0 ** (-18_000 / 3600))
    moved = {t: s * factor for t, s in stored.items()}
    assert {t: s / engine.forward_decay(now, later, half_life) for t, s in moved.items()} == (
        pytest.approx(expected)
    )
    # New watches added against the new landmark sum with the rebased scores.
    extra = Watch("s", "y", 1.0, 1_019_500.0)
    moved["y"] += extra.weight * engine.forward_decay(extra.at, later, half_life)
    again = engine.decayed_popularity([*watches, extra], now, half_life)
    assert moved["y"] / engine.forward_decay(now, later, half_life) == pytest.approx(again["y"])
    assert engine.forward_decay(landmark, landmark, half_life) == 1.0


# --- ranking --------------------------------------------------------------------------------


def test_rank_leaves_out_the_history_and_the_excluded() -> None:
    history = [Watch("p", "d1", 1.0, 100.0), Watch("p", "c1", 1.0, 50.0)]
    ranked = _ranked(history, exclude={"d3"})
    ids = [c.title for c in ranked]
    assert ids and not {"d1", "c1", "d3"} & set(ids)
    assert ids[0] == "d2"  # the latest watch's strongest collaborative neighbour
    assert len(ids) == len(set(ids))
    assert ids == [c.title for c in sorted(ranked, key=lambda c: (-c.score, c.title))]
    assert [c.title for c in _ranked(history, limit=2)] == ids[:2]


def test_because_names_a_history_title_the_candidate_is_a_neighbour_of() -> None:
    history = [Watch("p", "d1", 1.0, 100.0), Watch("p", "c1", 1.0, 50.0)]
    content = engine.content_neighbours(list(TITLES.values()), 3)
    for candidate in _ranked(history, content=content):
        if candidate.because is None:
            assert candidate.components["content"] == candidate.components["collaborative"] == 0
            continue
        assert candidate.because in {"d1", "c1"}
        lists = COLLABORATIVE if candidate.components["collaborative"] > 0 else content
        assert candidate.title in {o for o, _ in lists[candidate.because]}
        shared = set(TITLES[candidate.title].genres) & set(TITLES[candidate.because].genres)
        assert candidate.shared_genres == tuple(sorted(shared))
    top = _ranked(history)[0]
    assert (top.title, top.because, top.shared_genres) == ("d2", "d1", ("Drama",))


def test_components_are_between_0_and_1_and_plain_floats() -> None:
    history = [Watch("p", "d1", 1.0, 100.0), Watch("p", "h1", 0.5, 90.0)]
    ranked = _ranked(history, trending={"h1": 1e6, "c2": np.float64(3.0), "a1": math.nan})
    assert ranked
    for candidate in ranked:
        assert type(candidate.score) is float and math.isfinite(candidate.score)
        assert set(candidate.components) == {"content", "collaborative", "trending"}
        for value in candidate.components.values():
            assert type(value) is float and 0.0 <= value <= 1.0
        expected = (
            0.2 * candidate.components["content"]
            + 0.7 * candidate.components["collaborative"]
            + 0.1 * candidate.components["trending"]
        )
        assert candidate.score == pytest.approx(expected)
    # Each component reaches 1 for its best candidate.
    assert max(c.components["collaborative"] for c in ranked) == 1.0
    for lists in (
        engine.content_neighbours(list(TITLES.values()), 3),
        engine.item_neighbours(WATCHES, 3),
    ):
        assert all(type(s) is float for found in lists.values() for _, s in found)
    assert all(type(v) is float for v in engine.decayed_popularity(WATCHES, 20, 5).values())


def test_cold_start_gets_the_seed_genres_and_trending() -> None:
    ranked = _ranked([], seed_genres=["Comedy"], limit=10)
    by_id = {c.title: c for c in ranked}
    assert {"c1", "c2", "a1", "h1"} <= set(by_id)
    assert by_id["c1"].components["content"] == 1.0  # Comedy alone: cosine 1
    assert by_id["a1"].components["content"] == pytest.approx(1 / math.sqrt(2))
    assert by_id["h1"].components == {"content": 0.0, "collaborative": 0.0, "trending": 1.0}
    assert all(c.because is None for c in ranked)
    assert by_id["a1"].shared_genres == ("Comedy",) and by_id["h1"].shared_genres == ()
    # c2 is both a Comedy and trending: first.
    assert ranked[0].title == "c2"
    without_seed = _ranked([], limit=10)
    assert {c.title for c in without_seed} == set(TRENDING)


def test_the_latest_watches_count_most() -> None:
    older_drama = [Watch("p", "d1", 1.0, 10.0), Watch("p", "c1", 1.0, 20.0)]
    newer_drama = [Watch("p", "d1", 1.0, 20.0), Watch("p", "c1", 1.0, 10.0)]
    weights = Weights(0.0, 1.0, 0.0)
    # Half-life of one watch: the second latest counts half.
    assert _ranked(older_drama, weights=weights, recency_half_life=1.0)[0].title == "c2"
    assert _ranked(newer_drama, weights=weights, recency_half_life=1.0)[0].title == "d2"
    same = _ranked(newer_drama, weights=weights, recency_half_life=None)
    assert same[0].title == "d2"  # 0.9 beats 0.8 once recency is off


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 1000))
def test_rank_ignores_the_order_of_the_history(seed: int) -> None:
    history = [
        Watch("p", t, w, at)
        for t, w, at in [("d1", 1.0, 5.0), ("c1", 0.5, 5.0), ("h1", 1.0, 3.0), ("d1", 0.2, 1.0)]
    ]
    shuffled = list(history)
    random.Random(seed).shuffle(shuffled)
    assert _ranked(shuffled, seed_genres=["Drama"]) == _ranked(history, seed_genres=["Drama"])


def test_a_weight_that_is_not_a_number_counts_as_nothing() -> None:
    broken = [*WATCHES, Watch("p4", "a", math.nan, 10), Watch("p4", "b", math.inf, 10)]
    assert engine.item_neighbours(broken, 5, shrinkage=2.0) == engine.item_neighbours(
        WATCHES, 5, shrinkage=2.0
    )
    popular = engine.decayed_popularity(broken, 20.0, 5.0)
    assert popular == pytest.approx(engine.decayed_popularity(WATCHES, 20.0, 5.0))
    assert all(math.isfinite(value) for value in popular.values())
