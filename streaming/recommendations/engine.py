"""The recommendation engine: pure functions over titles and watches (numpy, scipy.sparse).

- ``content_neighbours``: cosine over L2-normalised title vectors (genres one-hot, a smaller
  block for the year as gaussian bumps, so that near years are alike, and a small one for the
  kind), top k per title. Titles with the same features share one vector: the product runs
  over the distinct vectors only (streaming/recommendations/content.py).
- ``item_neighbours``: item-based collaborative filtering on implicit feedback: a profile x
  title matrix of completion weights, cosine item-item with a shrinkage term in the
  denominator, top k per title by sparse products in row chunks (never a dense all-pairs
  matrix: streaming/recommendations/topk.py).
- ``decayed_popularity``, ``forward_decay``, ``rebased``: trending, exponential decay with a
  half-life, and its forward-decay form for the Redis sorted set between two rebuilds.
- ``rank``: the weighted hybrid of the three for one profile (streaming/recommendations/
  ranking.py), each component normalised to [0, 1] over that profile's candidates.

Deterministic: inputs are ordered by id before use, sums are taken in a fixed order, ties are
broken by title id; shuffling the input changes nothing. Every number returned is a float.
The defaults below were tuned on MovieLens 100K (bench/recommendations.py --tune,
docs/recommendations.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from streaming.recommendations import content, topk
from streaming.recommendations.model import Candidate, Neighbours, TitleFeatures, Watch, Weights
from streaming.recommendations.ranking import rank

__all__ = [
    "Candidate",
    "Neighbours",
    "TitleFeatures",
    "Watch",
    "Weights",
    "content_neighbours",
    "decayed_popularity",
    "forward_decay",
    "item_neighbours",
    "rank",
    "rebased",
]

# The shrinkage of item-item cosine: dot / (|i| |j| + SHRINKAGE) pulls the similarity of
# titles seen by few profiles towards 0 (a pair co-watched once is weak evidence). On
# MovieLens 100K, 0 and 2 score the same within noise and 10 is worse (--tune): 2, the safer.
SHRINKAGE = 2.0


def _lists(ids: Sequence[str], rows: topk.Ints, cols: topk.Ints, vals: topk.Floats) -> Neighbours:
    """Neighbour lists from top_k's (rows, columns, values), sorted by row; every id a key."""
    found: Neighbours = {title: [] for title in ids}
    for row, col, value in zip(rows.tolist(), cols.tolist(), vals.tolist(), strict=True):
        found[ids[row]].append((ids[col], float(value)))
    return found


def content_neighbours(
    titles: Sequence[TitleFeatures],
    k: int,
    *,
    year_weight: float = content.YEAR_WEIGHT,
    year_scale: float = content.YEAR_SCALE,
    genre_idf: bool = content.GENRE_IDF,
) -> Neighbours:
    """The k titles most alike in genres, year and kind, best first, never the title itself."""
    unique: dict[str, TitleFeatures] = {}
    for title in titles:
        held = unique.get(title.id)
        # The same id twice: one of them, whichever the input's order.
        if held is None or repr(title) > repr(held):
            unique[title.id] = title
    ordered = [unique[title_id] for title_id in sorted(unique)]
    if not ordered or k <= 0:
        return {title.id: [] for title in ordered}
    found = content.neighbours(
        [content.Described(t.id, t.genres, t.year, t.kind) for t in ordered],
        k,
        content.Shape(year_weight, year_scale, genre_idf),
    )
    return dict(found)


def _finite(weights: topk.Floats) -> topk.Floats:
    """A weight that is not a number counts as no watch: it must not spread NaN to others."""
    return np.where(np.isfinite(weights), weights, 0.0)


def _indexed(names: list[str]) -> tuple[list[str], topk.Ints]:
    """The distinct names, sorted, and each name's position among them."""
    distinct = sorted(set(names))
    position = {name: n for n, name in enumerate(distinct)}
    return distinct, np.array([position[name] for name in names], dtype=np.int64)


def _matrix(watches: Iterable[Watch]) -> tuple[sp.csr_matrix, list[str]]:
    """The profile x title matrix of each pair's latest weight (ties: the larger weight)."""
    seen = list(watches)
    if not seen:
        return sp.csr_matrix((0, 0)), []
    profiles, p_index = _indexed([w.profile for w in seen])
    titles, t_index = _indexed([w.title for w in seen])
    at = np.array([w.at for w in seen], dtype=np.float64)
    weight = _finite(np.array([w.weight for w in seen], dtype=np.float64))
    order = np.lexsort((weight, at, t_index, p_index))
    pair = p_index[order].astype(np.int64) * len(titles) + t_index[order]
    last = np.append(pair[1:] != pair[:-1], True)
    chosen = order[last]
    matrix = sp.csr_matrix(
        (np.clip(weight[chosen], 0.0, None), (p_index[chosen], t_index[chosen])),
        shape=(len(profiles), len(titles)),
    )
    matrix.eliminate_zeros()
    return matrix, titles


def item_neighbours(
    watches: Iterable[Watch], k: int, *, shrinkage: float = SHRINKAGE
) -> Neighbours:
    """Item-item cosine over the profiles' latest completion weights, shrunk: for titles i, j
    with weight columns x_i, x_j, ``x_i . x_j / (|x_i| |x_j| + shrinkage)``; top k per title."""
    matrix, ids = _matrix(watches)
    if not ids or k <= 0:
        return {title: [] for title in ids}
    items = sp.csr_matrix(matrix.T)  # title x profile
    norms = np.sqrt(np.asarray(items.multiply(items).sum(axis=1), dtype=np.float64).ravel())

    def shrunk(start: int, rows: topk.Ints, cols: topk.Ints, dots: topk.Floats) -> topk.Floats:
        return dots / (norms[rows + start] * norms[cols] + shrinkage)

    rows, cols, vals = topk.top_k(items, sp.csr_matrix(matrix), k, rescale=shrunk)
    return _lists(ids, rows, cols, vals)


def decayed_popularity(
    watches: Iterable[Watch], now: float, half_life_s: float
) -> dict[str, float]:
    """Each title's sum of ``weight * 2 ** (-(now - at) / half_life_s)`` over its watches up
    to `now` (later ones are ignored)."""
    seen = [w for w in watches if w.at <= now]
    if not seen:
        return {}
    titles, index = _indexed([w.title for w in seen])
    at = np.array([w.at for w in seen], dtype=np.float64)
    weight = _finite(np.array([w.weight for w in seen], dtype=np.float64))
    values: npt.NDArray[np.float64] = weight * np.exp2(-(now - at) / half_life_s)
    # Summed in an order fixed by the values themselves, so the input's order cannot matter.
    order = np.lexsort((values, index))
    starts = np.flatnonzero(np.append(True, index[order][1:] != index[order][:-1]))
    sums = np.add.reduceat(values[order], starts)
    return {title: float(total) for title, total in zip(titles, sums.tolist(), strict=True)}


def forward_decay(at: float, landmark: float, half_life_s: float) -> float:
    """``2 ** ((at - landmark) / half_life_s)`` (Cormode et al., "Forward decay", ICDE 2009):
    a watch adds ``weight * forward_decay(at, L, h)`` to its title's score; the score divided
    by ``forward_decay(now, L, h)`` is the title's decayed popularity at `now`."""
    return float(2.0 ** ((at - landmark) / half_life_s))


def rebased(landmark: float, new_landmark: float, half_life_s: float) -> float:
    """The factor that moves scores stored against `landmark` to `new_landmark` (a later one
    keeps the exponent, and so the scores, from overflowing)."""
    return float(2.0 ** ((landmark - new_landmark) / half_life_s))
