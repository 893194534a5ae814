"""The recommendation engine: pure functions over titles and watches (numpy, scipy.sparse).

- Content similarity: cosine over L2-normalised title vectors (genres one-hot, plus a
  smaller year block), top-k neighbours per title by sparse products.
- Item-based collaborative filtering on implicit feedback: a profile x title matrix of
  completion weights; cosine item-item with shrinkage, top-k per title, computed in row
  chunks of a sparse product (never a dense all-pairs matrix).
- Trending: decayed popularity, exponential with a half-life (and forward decay, for the
  Redis sorted set that keeps it between two rebuilds).
- `rank`: the weighted hybrid of the three, each component normalised per profile.

Deterministic: ties are broken by title id, inputs are sorted before use.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

Neighbours = dict[str, list[tuple[str, float]]]

# Rows of the item-item product computed at once: bounds the memory of the product.
_CHUNK = 2048
# Each year block spans this many years; neighbouring blocks share a little weight.
_YEAR_SPAN = 10
_YEAR_WEIGHT = 0.35
SHRINKAGE = 10.0


@dataclass(frozen=True, slots=True)
class TitleFeatures:
    id: str
    genres: tuple[str, ...] = ()
    year: int | None = None
    rating: float | None = None
    runtime_min: int | None = None
    kind: str = "movie"


@dataclass(frozen=True, slots=True)
class Watch:
    profile: str
    title: str
    weight: float
    at: float


@dataclass(frozen=True, slots=True)
class Weights:
    content: float
    collaborative: float
    trending: float


@dataclass(frozen=True, slots=True)
class Candidate:
    title: str
    score: float
    components: dict[str, float]
    because: str | None
    shared_genres: tuple[str, ...]


def _top_k(similar: sp.csr_matrix, ids: Sequence[str], k: int, offset: int) -> Neighbours:
    """Each row's k best columns (not itself), best first, ties by id."""
    found: Neighbours = {}
    for row in range(similar.shape[0]):
        start, end = similar.indptr[row], similar.indptr[row + 1]
        columns, values = similar.indices[start:end], similar.data[start:end]
        me = row + offset
        pairs = [(float(v), ids[c]) for c, v in zip(columns, values, strict=True)
                 if c != me and v > 0]  # fmt: skip
        pairs.sort(key=lambda pair: (-pair[0], pair[1]))
        found[ids[me]] = [(other, value) for value, other in pairs[:k]]
    return found


def _normalised_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ matrix)


def _vectors(titles: Sequence[TitleFeatures]) -> sp.csr_matrix:
    genres = sorted({genre for title in titles for genre in title.genres})
    column = {genre: n for n, genre in enumerate(genres)}
    years = sorted({title.year // _YEAR_SPAN for title in titles if title.year is not None})
    block = {year: len(genres) + n for n, year in enumerate(years)}
    rows, cols, data = [], [], []
    for row, title in enumerate(titles):
        for genre in set(title.genres):
            rows.append(row)
            cols.append(column[genre])
            data.append(1.0 / math.sqrt(len(set(title.genres))))
        if title.year is not None:
            rows.append(row)
            cols.append(block[title.year // _YEAR_SPAN])
            data.append(_YEAR_WEIGHT)
    shape = (len(titles), len(genres) + len(years))
    return _normalised_rows(sp.csr_matrix((data, (rows, cols)), shape=shape))


def content_neighbours(titles: Sequence[TitleFeatures], k: int) -> Neighbours:
    ordered = sorted(titles, key=lambda title: title.id)
    if not ordered:
        return {}
    ids = [title.id for title in ordered]
    vectors = _vectors(ordered)
    transposed = vectors.T.tocsr()
    found: Neighbours = {}
    for start in range(0, len(ids), _CHUNK):
        product = (vectors[start : start + _CHUNK] @ transposed).tocsr()
        found.update(_top_k(product, ids, k, start))
    return found


def _matrix(watches: Iterable[Watch]) -> tuple[sp.csr_matrix, list[str], list[str]]:
    """The profile x title matrix of each pair's latest weight."""
    latest: dict[tuple[str, str], Watch] = {}
    for watch in watches:
        key = (watch.profile, watch.title)
        if key not in latest or (watch.at, watch.weight) > (latest[key].at, latest[key].weight):
            latest[key] = watch
    profiles = sorted({profile for profile, _ in latest})
    titles = sorted({title for _, title in latest})
    p_index = {p: n for n, p in enumerate(profiles)}
    t_index = {t: n for n, t in enumerate(titles)}
    keys = sorted(latest)
    data = [max(0.0, latest[key].weight) for key in keys]
    rows = [p_index[p] for p, _ in keys]
    cols = [t_index[t] for _, t in keys]
    matrix = sp.csr_matrix((data, (rows, cols)), shape=(len(profiles), len(titles)))
    matrix.eliminate_zeros()
    return matrix, profiles, titles


def item_neighbours(
    watches: Iterable[Watch], k: int, *, shrinkage: float = SHRINKAGE
) -> Neighbours:
    matrix, _, titles = _matrix(watches)
    if not titles:
        return {}
    items = matrix.T.tocsr()  # title x profile
    norms = np.sqrt(np.asarray(items.multiply(items).sum(axis=1)).ravel())
    transposed = items.T.tocsr()
    found: Neighbours = {}
    for start in range(0, len(titles), _CHUNK):
        chunk = items[start : start + _CHUNK]
        dots = (chunk @ transposed).tocoo()
        co = ((chunk > 0).astype(float) @ (transposed > 0).astype(float)).tocsr()
        rows, cols = dots.row, dots.col
        denominator = norms[rows + start] * norms[cols]
        denominator[denominator == 0] = 1.0
        together = np.asarray(co[rows, cols]).ravel()
        values = dots.data / denominator * (together / (together + shrinkage))
        similar = sp.csr_matrix((values, (rows, cols)), shape=dots.shape)
        found.update(_top_k(similar, titles, k, start))
    return found


def decayed_popularity(
    watches: Iterable[Watch], now: float, half_life_s: float
) -> dict[str, float]:
    scores: dict[str, float] = {}
    for watch in watches:
        if watch.at <= now:
            decay = 2.0 ** (-(now - watch.at) / half_life_s)
            scores[watch.title] = scores.get(watch.title, 0.0) + watch.weight * decay
    return scores


def forward_decay(at: float, landmark: float, half_life_s: float) -> float:
    return float(2.0 ** ((at - landmark) / half_life_s))


def rebased(landmark: float, new_landmark: float, half_life_s: float) -> float:
    """The factor that moves stored forward-decayed scores to a later landmark."""
    return float(2.0 ** (-(new_landmark - landmark) / half_life_s))


def _scaled(values: dict[str, float]) -> dict[str, float]:
    top = max(values.values(), default=0.0)
    return {key: value / top for key, value in values.items()} if top > 0 else {}


def _recency(history: Sequence[Watch]) -> dict[str, float]:
    """The profile's own history, its latest watches counting most (halving every 20)."""
    ordered = sorted(history, key=lambda watch: (-watch.at, watch.title))
    return {watch.title: 0.5 ** (n / 20) for n, watch in enumerate(ordered)}


def _spread(
    history: Sequence[Watch], lists: Neighbours, recency: Mapping[str, float]
) -> tuple[dict[str, float], dict[str, tuple[float, str]]]:
    scores: dict[str, float] = {}
    best: dict[str, tuple[float, str]] = {}
    for watch in history:
        weight = max(0.0, watch.weight) * recency.get(watch.title, 1.0)
        for other, similarity in lists.get(watch.title, []):
            gain = weight * similarity
            scores[other] = scores.get(other, 0.0) + gain
            if other not in best or (gain, watch.title) > best[other]:
                best[other] = (gain, watch.title)
    return scores, best


def _genre_match(titles: Mapping[str, TitleFeatures], seed: Collection[str]) -> dict[str, float]:
    if not seed:
        return {}
    wanted = set(seed)
    scores = {}
    for title_id, title in titles.items():
        mine = set(title.genres)
        if mine & wanted:
            scores[title_id] = len(mine & wanted) / math.sqrt(len(mine) * len(wanted))
    return scores


def rank(
    history: Sequence[Watch],
    *,
    content: Neighbours,
    collaborative: Neighbours,
    trending: Mapping[str, float],
    titles: Mapping[str, TitleFeatures],
    weights: Weights,
    seed_genres: Sequence[str] = (),
    exclude: Collection[str] = (),
    limit: int = 20,
) -> list[Candidate]:
    recency = _recency(history)
    collab, collab_best = _spread(history, collaborative, recency)
    if history:
        similar, content_best = _spread(history, content, recency)
    else:
        similar, content_best = _genre_match(titles, seed_genres), {}
    popular = {title: score for title, score in trending.items() if title in titles}
    banned = set(exclude) | {watch.title for watch in history}
    components = {
        "content": _scaled({t: s for t, s in similar.items() if t not in banned}),
        "collaborative": _scaled({t: s for t, s in collab.items() if t not in banned}),
        "trending": _scaled({t: s for t, s in popular.items() if t not in banned}),
    }
    candidates = set().union(*components.values()) & set(titles)
    scored = []
    for title in candidates:
        parts = {name: float(values.get(title, 0.0)) for name, values in components.items()}
        score = (weights.content * parts["content"]
                 + weights.collaborative * parts["collaborative"]
                 + weights.trending * parts["trending"])  # fmt: skip
        if score <= 0:
            continue
        because = (collab_best.get(title) or content_best.get(title) or (0.0, None))[1]
        if because is not None and because in titles:
            shared = set(titles[title].genres) & set(titles[because].genres)
        else:
            shared = set(titles[title].genres) & set(seed_genres)
        scored.append(Candidate(title, float(score), parts, because, tuple(sorted(shared))))
    scored.sort(key=lambda candidate: (-candidate.score, candidate.title))
    return scored[:limit]
