"""The engine's values: what it reads (titles' features, watches, neighbour lists, weights)
and what it answers (candidates). Plain frozen dataclasses; re-exported by engine.py."""

from __future__ import annotations

from dataclasses import dataclass

# title -> [(other title, similarity)], best first, at most k, never the title itself.
Neighbours = dict[str, list[tuple[str, float]]]


@dataclass(frozen=True, slots=True)
class TitleFeatures:
    id: str
    genres: tuple[str, ...] = ()
    year: int | None = None
    rating: float | None = None  # 0-10, may be None
    runtime_min: int | None = None
    kind: str = "movie"  # "movie" or "series" (the caller folds episodes into their series)


@dataclass(frozen=True, slots=True)
class Watch:
    profile: str
    title: str
    weight: float  # completion ratio in [0, 1]: implicit feedback
    at: float  # unix seconds of the (last) watch


@dataclass(frozen=True, slots=True)
class Weights:
    content: float
    collaborative: float
    trending: float


@dataclass(frozen=True, slots=True)
class Candidate:
    title: str
    score: float
    # Each signal's value in [0, 1] before weighting: content, collaborative, trending.
    components: dict[str, float]
    # The history title that contributed most (collaborative, else content); None for a pure
    # trending or genre-seed candidate.
    because: str | None
    # Genres shared with `because` (or, without it, with the seed genres), sorted.
    shared_genres: tuple[str, ...]
