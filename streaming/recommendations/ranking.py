"""Ranking one profile's candidates: the weighted hybrid of content, collaborative and trending.

For each candidate c, with the profile's history H (its latest watch of each title, newest
first) and r(h) = 2 ** (-position(h) / recency_half_life) (its newest watch counting most):

    collaborative(c) = sum over h in H of weight(h) * r(h) * sim_cf(h, c)
    content(c)       = the same over the content lists; without history, the cosine of c's
                       genres with the seed genres the profile picked
    trending(c)      = c's decayed popularity

each divided by its largest value over this profile's candidates (so each lies in [0, 1]),
then ``score = w_content * content + w_collaborative * collaborative + w_trending * trending``.
Candidates are the neighbours of the history's titles, the trending titles given, and (cold
start) the titles sharing a seed genre, less the history and `exclude`, and less any title
`titles` does not describe. Ties are broken by title id.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Collection, Mapping, Sequence

from streaming.recommendations.model import Candidate, Neighbours, TitleFeatures, Watch, Weights

# Tuned on MovieLens 100K's validation split (bench/recommendations.py --tune): what was just
# watched says most about what comes next, so the third latest watch counts half the latest.
RECENCY_HALF_LIFE = 2.0

Best = dict[str, tuple[float, str]]


def _latest(history: Sequence[Watch]) -> list[Watch]:
    """One watch per title (its latest), newest first, ties by title."""
    latest: dict[str, Watch] = {}
    for watch in history:
        seen = latest.get(watch.title)
        if seen is None or (watch.at, watch.weight) > (seen.at, seen.weight):
            latest[watch.title] = watch
    return sorted(latest.values(), key=lambda watch: (-watch.at, watch.title))


def _recency(latest: Sequence[Watch], half_life: float | None) -> list[float]:
    if half_life is None or math.isinf(half_life):
        return [1.0] * len(latest)
    return [2.0 ** (-n / half_life) for n in range(len(latest))]


def _spread(
    latest: Sequence[Watch], lists: Neighbours, recency: Sequence[float], banned: Collection[str]
) -> tuple[dict[str, float], Best]:
    """Each neighbour's summed evidence, and the history title giving the most of it."""
    scores: dict[str, float] = {}
    best: Best = {}
    for watch, factor in zip(latest, recency, strict=True):
        weight = max(0.0, watch.weight) * factor
        if weight <= 0:
            continue
        for other, similarity in lists.get(watch.title, ()):
            if other in banned or not similarity > 0:
                continue
            gain = weight * similarity
            scores[other] = scores.get(other, 0.0) + gain
            held = best.get(other)
            if held is None or gain > held[0] or (gain == held[0] and watch.title < held[1]):
                best[other] = (gain, watch.title)
    return scores, best


def _genre_match(
    titles: Mapping[str, TitleFeatures], seed: Collection[str], banned: Collection[str]
) -> dict[str, float]:
    """Cosine of each title's genres with the seed genres (both as sets)."""
    wanted = set(seed)
    if not wanted:
        return {}
    scores = {}
    for title_id, title in titles.items():
        mine = set(title.genres)
        shared = len(mine & wanted)
        if shared and title_id not in banned:
            scores[title_id] = shared / math.sqrt(len(mine) * len(wanted))
    return scores


def _scaled(values: Mapping[str, float], titles: Mapping[str, TitleFeatures]) -> dict[str, float]:
    """Values divided by the largest, for described titles only; non-finite values dropped."""
    kept = {t: v for t, v in values.items() if t in titles and math.isfinite(v) and v > 0}
    top = max(kept.values(), default=0.0)
    return {title: value / top for title, value in kept.items()} if top > 0 else {}


def _shared(
    title: str, because: str | None, titles: Mapping[str, TitleFeatures], seed: Sequence[str]
) -> tuple[str, ...]:
    other = set(titles[because].genres) if because is not None and because in titles else set(seed)
    return tuple(sorted(set(titles[title].genres) & other))


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
    recency_half_life: float | None = RECENCY_HALF_LIFE,
) -> list[Candidate]:
    """The profile's best `limit` candidates, by score (desc), then id (module docstring)."""
    latest = _latest(history)
    banned = set(exclude) | {watch.title for watch in latest}
    recency = _recency(latest, recency_half_life)
    collab, collab_best = _spread(latest, collaborative, recency, banned)
    if latest:
        similar, content_best = _spread(latest, content, recency, banned)
    else:
        similar, content_best = _genre_match(titles, seed_genres, banned), {}
    popular = {t: float(s) for t, s in trending.items() if t not in banned}
    parts = {
        "content": _scaled(similar, titles),
        "collaborative": _scaled(collab, titles),
        "trending": _scaled(popular, titles),
    }
    factor = {
        "content": weights.content,
        "collaborative": weights.collaborative,
        "trending": weights.trending,
    }
    scores: dict[str, float] = {}
    for name, values in parts.items():
        if factor[name] > 0:
            for title, value in values.items():
                scores[title] = scores.get(title, 0.0) + factor[name] * value
    chosen = heapq.nsmallest(
        limit, ((-s, t) for t, s in scores.items() if s > 0 and math.isfinite(s))
    )
    ranked = []
    for negative, title in chosen:
        held = collab_best.get(title) or content_best.get(title)
        because = held[1] if held else None
        components = {name: float(values.get(title, 0.0)) for name, values in parts.items()}
        shared = _shared(title, because, titles, seed_genres)
        ranked.append(Candidate(title, float(-negative), components, because, shared))
    return ranked
