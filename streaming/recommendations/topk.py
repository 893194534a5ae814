"""Top-k per row of a sparse similarity product, computed in row chunks (numpy, scipy.sparse).

The engine's neighbour lists are the k best columns of each row of ``left @ right``. The full
product is never held: rows are taken in chunks whose product has at most ``budget`` stored
entries (bounded before multiplying, from the operands' sparsity), so memory stays
O(nnz(operands) + budget + rows * k) whatever the catalogue's size. Within a row, ties are
broken by column index, and the engine orders columns by title id, so ties fall to the id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

# Entries of one chunk's product held at once (about 16 bytes each, data and indices, and as
# much again while sorting): some hundreds of MB at most.
BUDGET = 4_000_000

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
# (chunk's first row, rows, columns, values) -> values: the similarity from the raw product.
Rescale = Callable[[int, Ints, Ints, Floats], Floats]


def row_bounds(left: sp.csr_matrix, right: sp.csr_matrix) -> Ints:
    """An upper bound of each row's stored entries in ``left @ right``."""
    per_inner = np.diff(right.indptr).astype(np.float64)
    pattern = sp.csr_matrix(
        (np.ones_like(left.data, dtype=np.float64), left.indices, left.indptr), shape=left.shape
    )
    reach = pattern @ per_inner
    return np.minimum(np.asarray(reach, dtype=np.float64), right.shape[1]).astype(np.int64)


def chunks(bounds: Ints, budget: int = BUDGET) -> Iterator[tuple[int, int]]:
    """Consecutive row ranges [start, end) whose bounds sum to at most `budget` (or one row)."""
    start, total = 0, 0
    for row, bound in enumerate(bounds.tolist()):
        if row > start and total + bound > budget:
            yield start, row
            start, total = row, 0
        total += bound
    if start < len(bounds):
        yield start, len(bounds)


def best(rows: Ints, cols: Ints, vals: Floats, n_rows: int, k: int) -> tuple[Ints, Ints, Floats]:
    """Each row's k largest positive values, best first, ties by column; `rows` ascending.

    Row by row: a partition finds the k-th value, and only the entries at or above it (ties
    included, so none is dropped arbitrarily) are sorted; O(nnz + rows * k log k)."""
    keep = vals > 0
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    bounds = np.searchsorted(rows, np.arange(n_rows + 1))
    chosen = []
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        if hi == lo:
            continue
        values = vals[lo:hi]
        if hi - lo > k:
            kth = np.partition(values, hi - lo - k)[hi - lo - k]
            inside = np.flatnonzero(values >= kth)
        else:
            inside = np.arange(hi - lo)
        order = np.lexsort((cols[lo:hi][inside], -values[inside]))
        chosen.append(inside[order][:k] + lo)
    picked = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
    return rows[picked], cols[picked], vals[picked]


def top_k(
    left: sp.csr_matrix,
    right: sp.csr_matrix,
    k: int,
    *,
    rescale: Rescale | None = None,
    skip_diagonal: bool = True,
    budget: int = BUDGET,
) -> tuple[Ints, Ints, Floats]:
    """The k best columns of each row of ``left @ right`` as (rows, columns, values), by row.

    `rescale` turns a chunk's raw dot products into similarities before they are ranked;
    `skip_diagonal` leaves out column == row (a title is never its own neighbour)."""
    found_rows, found_cols, found_vals = [], [], []
    for start, end in chunks(row_bounds(left, right), budget):
        product = sp.csr_matrix(left[start:end] @ right)
        product.sum_duplicates()
        rows = np.repeat(np.arange(end - start, dtype=np.int64), np.diff(product.indptr))
        cols = product.indices.astype(np.int64)
        vals = product.data.astype(np.float64)
        if skip_diagonal:
            other = cols != rows + start
            rows, cols, vals = rows[other], cols[other], vals[other]
        if rescale is not None:
            vals = rescale(start, rows, cols, vals)
        rows, cols, vals = best(rows, cols, vals, end - start, k)
        found_rows.append(rows + start)
        found_cols.append(cols)
        found_vals.append(vals)
    if not found_rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float64)
    return np.concatenate(found_rows), np.concatenate(found_cols), np.concatenate(found_vals)
