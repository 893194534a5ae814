"""Content similarity: title vectors and their top-k cosine neighbours (numpy, scipy.sparse).

A title's vector has three blocks, each L2-normalised, the whole then normalised again:

- genres, one-hot, each weighted by its inverse document frequency when `genre_idf` (two
  film-noirs have more in common than two dramas);
- the year, as gaussian bumps on a grid of centres half `year_scale` apart: the dot product of
  two years' blocks is close to a gaussian of their distance (sigma ``year_scale * sqrt(2)``),
  scaled by `year_weight` against the genres' 1 (tuned to as much: on MovieLens, films of
  the same years are watched together);
- the kind (movie or series), one-hot, weighted KIND_WEIGHT.

Titles with the same genres, year and kind have the same vector: the product is taken over the
D distinct vectors only, and each title's list is read from its vector's row, the titles of
each vector in id order. Cost O(D^2 F) for the product (F the features per vector), O(I K)
for the lists; D <= I, and a catalogue described by genres and year has far fewer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from streaming.recommendations import topk

# Tuned on MovieLens 100K's validation split (bench/recommendations.py --tune).
YEAR_WEIGHT = 1.0
YEAR_SCALE = 3.0
GENRE_IDF = True
# Not measured (MovieLens has films only): enough to prefer a series for a series.
KIND_WEIGHT = 0.3
# Gaussian bumps beyond this many sigmas are left out (below 0.5 % of the peak).
_REACH = 3.25


@dataclass(frozen=True, slots=True)
class Described:
    id: str
    genres: tuple[str, ...]
    year: int | None
    kind: str


@dataclass(frozen=True, slots=True)
class Shape:
    year_weight: float
    year_scale: float
    genre_idf: bool


def _key(title: Described) -> tuple[tuple[str, ...], int | None, str]:
    return tuple(sorted(set(title.genres))), title.year, title.kind


def _block(columns: dict[int, float], scale: float) -> dict[int, float]:
    norm = math.sqrt(sum(value * value for value in columns.values()))
    return {column: scale * value / norm for column, value in columns.items()} if norm else {}


def _year_bumps(year: int, first: int, offset: int, shape: Shape) -> dict[int, float]:
    """Gaussians centred every `step` years, those within _REACH sigmas of `year`."""
    step, reach = shape.year_scale / 2, _REACH * shape.year_scale
    low, high = math.ceil((year - reach) / step), math.floor((year + reach) / step)
    return {
        offset + centre - first: math.exp(-0.5 * ((year - centre * step) / shape.year_scale) ** 2)
        for centre in range(low, high + 1)
    }


def _vectors(
    keys: Sequence[tuple[tuple[str, ...], int | None, str]], idf: dict[str, float], shape: Shape
) -> sp.csr_matrix:
    genre_col = {genre: n for n, genre in enumerate(sorted(idf))}
    years = [year for _, year, _ in keys if year is not None]
    step, reach = shape.year_scale / 2, _REACH * shape.year_scale
    first = math.ceil((min(years) - reach) / step) if years else 0
    n_centres = math.floor((max(years) + reach) / step) - first + 1 if years else 0
    # One kind alone would make every two titles a little alike, for nothing.
    kinds = sorted({kind for _, _, kind in keys})
    kind_col = {kind: len(genre_col) + n_centres + n for n, kind in enumerate(kinds)}
    rows, cols, data = [], [], []
    for row, (mine, year, kind) in enumerate(keys):
        vector = _block({genre_col[g]: idf[g] for g in mine}, 1.0)
        if year is not None:
            vector.update(
                _block(_year_bumps(year, first, len(genre_col), shape), shape.year_weight)
            )
        if len(kinds) > 1:
            vector[kind_col[kind]] = KIND_WEIGHT
        norm = math.sqrt(sum(value * value for value in vector.values())) or 1.0
        for column, value in sorted(vector.items()):
            rows.append(row)
            cols.append(column)
            data.append(value / norm)
    width = len(genre_col) + n_centres + len(kinds)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(keys), width))


def _idf(titles: Sequence[Described], use: bool) -> dict[str, float]:
    counts: dict[str, int] = {}
    for title in titles:
        for genre in set(title.genres):
            counts[genre] = counts.get(genre, 0) + 1
    return {g: (1.0 + math.log(len(titles) / n)) if use else 1.0 for g, n in counts.items()}


def _members(groups: list[list[int]], k: int) -> tuple[topk.Ints, topk.Ints, topk.Ints]:
    """Each vector's first k+1 titles (all a vector's titles are equally alike to another's, so
    no later one can make a list of k that leaves out one title): flat, with offsets."""
    capped = [members[: k + 1] for members in groups]
    sizes = np.array([len(members) for members in capped], dtype=np.int64)
    flat = np.array([m for members in capped for m in members], dtype=np.int64)
    return flat, np.cumsum(sizes) - sizes, sizes


def _rows_of_titles(
    rows: topk.Ints,
    cols: topk.Ints,
    vals: topk.Floats,
    k: int,
    members: tuple[topk.Ints, topk.Ints, topk.Ints],
    n_rows: int,
) -> tuple[topk.Ints, topk.Ints, topk.Floats]:
    """From vector-vector similarities, each vector's k+1 best titles (ties by id): only the
    vectors at or above the similarity where k+1 titles are reached are expanded."""
    flat, offsets, sizes = members
    if len(rows) == 0:
        return rows, cols, vals
    order = np.lexsort((-vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    counts = np.bincount(rows, minlength=n_rows)
    first = np.cumsum(counts) - counts
    reached = np.cumsum(sizes[cols])
    before = np.where(first > 0, reached[np.maximum(first - 1, 0)], 0)
    within = reached - before[rows]
    # The last value each row needs: where its running count of titles first reaches k+1.
    enough = within >= k + 1
    threshold = np.full(n_rows, -np.inf)
    np.maximum.at(threshold, rows[enough], vals[enough])
    has = np.isin(np.arange(n_rows), rows[enough])
    keep = ~has[rows] | (vals >= threshold[rows])
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    repeat = sizes[cols]
    starts = np.repeat(offsets[cols], repeat)
    step = np.arange(int(repeat.sum())) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    titles = flat[starts + step]
    return topk.best(np.repeat(rows, repeat), titles, np.repeat(vals, repeat), n_rows, k + 1)


def neighbours(
    titles: Sequence[Described], k: int, shape: Shape
) -> list[tuple[str, list[tuple[str, float]]]]:
    """Each title's k nearest (cosine), best first, ties by id; `titles` sorted by id."""
    group_of: dict[tuple[tuple[str, ...], int | None, str], int] = {}
    groups: list[list[int]] = []
    for index, title in enumerate(titles):
        group = group_of.setdefault(_key(title), len(groups))
        if group == len(groups):
            groups.append([])
        groups[group].append(index)
    vectors = _vectors(list(group_of), _idf(titles, shape.genre_idf), shape)
    members = _members(groups, k)
    found: list[tuple[str, list[tuple[str, float]]]] = []
    transposed = sp.csr_matrix(vectors.T)
    for start, end in topk.chunks(topk.row_bounds(vectors, transposed)):
        product = sp.csr_matrix(vectors[start:end] @ transposed)
        rows = np.repeat(np.arange(end - start, dtype=np.int64), np.diff(product.indptr))
        cols, vals = product.indices.astype(np.int64), product.data.astype(np.float64)
        best_rows, best_titles, best_vals = _rows_of_titles(
            rows, cols, vals, k, members, end - start
        )
        bounds = np.searchsorted(best_rows, np.arange(end - start + 1))
        for offset in range(end - start):
            lo, hi = bounds[offset], bounds[offset + 1]
            ranked = [
                (titles[t].id, v)
                for t, v in zip(best_titles[lo:hi].tolist(), best_vals[lo:hi].tolist(), strict=True)
            ]
            for index in groups[start + offset]:
                mine = titles[index].id
                found.append((mine, [pair for pair in ranked if pair[0] != mine][:k]))
    return found
