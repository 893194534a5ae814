"""Offline evaluation of the engine: a temporal split per profile, trending as of each
profile's split time, and the ranking metrics (bench/recommendations.py runs them on
MovieLens 100K). Pure: numpy only, no I/O.

- ``temporal_split``: each profile's latest `fraction` of watches (at least one) are held out;
  everything a model learns comes from the rest.
- ``popularity_as_of``: decayed popularity of the training watches at or before each
  profile's own split time (no watch from that profile's future, nor anyone else's), the way
  the service keeps it: forward decay against a landmark, moved forward with ``rebased``.
- ``ndcg`` and ``recall`` at a cut-off, binary relevance (the held-out titles).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

import numpy as np

from streaming.recommendations.engine import Watch, forward_decay, rebased

# Forward-decayed scores are rebased before their exponent passes this many halvings.
_MAX_HALVINGS = 256.0


def temporal_split(
    watches: Iterable[Watch], fraction: float
) -> tuple[list[Watch], dict[str, list[Watch]]]:
    """(training watches, held-out watches per profile): each profile's last `fraction` of
    its watches by time (ties by title), at least one, and never all but for a profile with
    a single watch."""
    by_profile: dict[str, list[Watch]] = {}
    for watch in watches:
        by_profile.setdefault(watch.profile, []).append(watch)
    train: list[Watch] = []
    held: dict[str, list[Watch]] = {}
    for profile in sorted(by_profile):
        mine = sorted(by_profile[profile], key=lambda w: (w.at, w.title, w.weight))
        count = min(max(1, int(len(mine) * fraction)), max(1, len(mine) - 1))
        train.extend(mine[: len(mine) - count])
        held[profile] = mine[len(mine) - count :]
    return train, held


def split_times(train: Iterable[Watch]) -> dict[str, float]:
    """Each profile's last training watch: the moment its recommendations are asked for."""
    times: dict[str, float] = {}
    for watch in train:
        times[watch.profile] = max(times.get(watch.profile, -math.inf), watch.at)
    return times


def popularity_as_of(
    watches: Sequence[Watch], times: Mapping[str, float], half_life_s: float, depth: int
) -> Iterator[tuple[str, dict[str, float]]]:
    """(profile, its `depth` most popular titles at its time, decayed), in time order."""
    ordered = sorted(watches, key=lambda w: (w.at, w.title, w.profile))
    titles = sorted({w.title for w in ordered})
    index = {title: n for n, title in enumerate(titles)}
    scores = np.zeros(len(titles))
    landmark = ordered[0].at if ordered else 0.0
    position = 0
    for profile, now in sorted(times.items(), key=lambda item: (item[1], item[0])):
        while position < len(ordered) and ordered[position].at <= now:
            watch = ordered[position]
            if (watch.at - landmark) / half_life_s > _MAX_HALVINGS:
                scores *= rebased(landmark, watch.at, half_life_s)
                landmark = watch.at
            scores[index[watch.title]] += watch.weight * forward_decay(
                watch.at, landmark, half_life_s
            )
            position += 1
        current = scores / forward_decay(now, landmark, half_life_s)
        top = np.flatnonzero(current > 0)
        top = top[np.lexsort((top, -current[top]))][:depth]
        yield profile, {titles[n]: float(current[n]) for n in top.tolist()}


def ndcg(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Normalised discounted cumulative gain at `k`, each relevant title worth 1."""
    gain = sum(1.0 / math.log2(n + 2) for n, title in enumerate(ranked[:k]) if title in relevant)
    ideal = sum(1.0 / math.log2(n + 2) for n in range(min(k, len(relevant))))
    return gain / ideal if ideal > 0 else 0.0


def recall(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """The share of the relevant titles found in the first `k`."""
    if not relevant:
        return 0.0
    return sum(1 for title in ranked[:k] if title in relevant) / len(relevant)
