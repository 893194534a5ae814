"""A profile's recommendation rows, served: top picks, because you watched, trending.

Each row is ranked by the engine (streaming/recommendations/engine.py) from the profile's own
history (streaming/history/queries.py), the batch job's neighbour lists (Redis, else
PostgreSQL), trending (Redis) and the catalog's titles (streaming/titles.py):

- ``top_picks``: the hybrid score, ``recommendations.weight_*`` weighing its components;
- ``because_you_watched``: titles like the one the profile watched last (content and
  collaborative neighbours only);
- ``trending``: the most watched titles now, decayed by ``trending_half_life_s``.

Never a title the profile has watched (finished films and series it has started), never one
above its maturity level; premium titles are marked locked for accounts without them. A
profile without history (cold start) gets trending plus the genres it picked.

A row is cached ``recommendations.row_ttl_s`` per profile, under a key naming the batch
build and the profile's version (bumped when it finishes something, streaming/history/
effects.py), so that a rebuild or a finished title gives a fresh row at once. Locks are
decided at every answer (a plan changes sooner than a row expires).
"""

from __future__ import annotations

import contextlib
import enum
import json
import time
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from redis.exceptions import RedisError

from streamcore.settings import Settings
from streamcore.web.service import SETTINGS_KEY
from streaming.history import queries
from streaming.history.shown import entitlement_of, presented, visible
from streaming.history.whose import Reader
from streaming.recommendations import engine, keys, neighbours, trending
from streaming.resources import DB_POOL_KEY, METRICS_KEY, PROFILES_KEY, REDIS_KEY, TITLES_KEY

# The profile's history a row is ranked from: its latest watches.
HISTORY_DEPTH = 200
# Trending titles considered as candidates.
TRENDING_DEPTH = 200


class Row(enum.StrEnum):
    TOP_PICKS = "top_picks"
    BECAUSE_YOU_WATCHED = "because_you_watched"
    TRENDING = "trending"


def features(title: dict[str, Any]) -> engine.TitleFeatures:
    return engine.TitleFeatures(
        id=title["id"], genres=tuple(title.get("genres") or ()), year=title.get("year"),
        rating=title.get("rating"), runtime_min=title.get("runtime_min"),
        kind=title.get("kind") or "movie",
    )  # fmt: skip


def weights(settings: Settings, *, trending_too: bool = True) -> engine.Weights:
    section = settings.recommendations
    return engine.Weights(
        content=section.weight_content, collaborative=section.weight_collaborative,
        trending=section.weight_trending if trending_too else 0.0,
    )  # fmt: skip


def _top_genre(title: dict[str, Any] | None) -> str | None:
    genres = (title or {}).get("genres") or []
    return genres[0] if genres else None


def _explain(
    candidate: engine.Candidate, titles: dict[str, dict[str, Any]], seed: list[str]
) -> str:
    if candidate.because is not None and candidate.because in titles:
        because = titles[candidate.because]["title"]
        shared = f" (both {', '.join(candidate.shared_genres)})" if candidate.shared_genres else ""
        return f"because you watched {because}{shared}"
    if candidate.shared_genres and seed:
        return f"matches genres you picked: {', '.join(candidate.shared_genres)}"
    genre = _top_genre(titles.get(candidate.title))
    return f"popular in {genre} this week" if genre else "popular this week"


def _item(candidate: engine.Candidate, explanation: str) -> dict[str, Any]:
    return {
        "title_id": candidate.title, "score": round(candidate.score, 6),
        "components": {k: round(v, 6) for k, v in candidate.components.items()},
        "explanation": explanation, "because": candidate.because,
    }  # fmt: skip


async def _ranked(
    app: web.Application, reader: Reader, row: Row, limit: int
) -> list[dict[str, Any]]:
    """The row's items before presentation: ids, scores, components and explanations."""
    settings, pool, client = app[SETTINGS_KEY], app[DB_POOL_KEY], app[REDIS_KEY]
    watched = await queries.recent_items(pool, reader.profile_id, HISTORY_DEPTH)
    history = [
        engine.Watch(str(reader.profile_id), str(w["item"]), float(w["weight"]), float(w["at"]))
        for w in watched
    ]
    half_life = settings.recommendations.trending_half_life_s
    popular = await trending.top(client, TRENDING_DEPTH, half_life)
    anchor = history[:1] if row is Row.BECAUSE_YOU_WATCHED else history
    content, collaborative = await neighbours.of(pool, client, [h.title for h in anchor])
    named = {other for lists in (content, collaborative) for found in lists.values()
             for other, _ in found}  # fmt: skip
    titles = await app[TITLES_KEY].all(expect=named | set(popular))
    exclude = {h.title for h in history} | {
        title_id for title_id, title in titles.items() if not visible(app, reader.maturity, title)
    }
    if row is Row.TRENDING:
        return _trending(popular, titles, exclude, limit)
    if row is Row.BECAUSE_YOU_WATCHED and not anchor:
        return []  # nothing watched yet: no such row
    seed: list[str] = []
    if not history:
        profile = await app[PROFILES_KEY].profile(reader.profile_id)
        seed = list(profile.genres) if profile else []
    ranked = engine.rank(
        anchor, content=content, collaborative=collaborative, trending=popular,
        titles={title_id: features(title) for title_id, title in titles.items()},
        weights=weights(settings, trending_too=row is Row.TOP_PICKS),
        seed_genres=seed, exclude=exclude, limit=limit,
    )  # fmt: skip
    return [_item(candidate, _explain(candidate, titles, seed)) for candidate in ranked]


def _trending(
    popular: dict[str, float], titles: dict[str, dict[str, Any]], exclude: set[str], limit: int
) -> list[dict[str, Any]]:
    shown = [(t, s) for t, s in popular.items() if t in titles and t not in exclude]
    shown.sort(key=lambda item: (-item[1], item[0]))
    best = shown[0][1] if shown else 1.0
    items = []
    for title_id, score in shown[:limit]:
        value = score / best if best > 0 else 0.0
        candidate = engine.Candidate(
            title=title_id, score=value, components={"trending": value}, because=None,
            shared_genres=(),
        )  # fmt: skip
        items.append(_item(candidate, _explain(candidate, titles, [])))
    return items


async def _variant(client: aioredis.Redis, reader: Reader, limit: int) -> str:
    build, version = await client.mget([keys.BUILD, keys.profile_version(reader.profile_id)])
    return f"{_text(build)}:{_text(version)}:{reader.maturity}:{limit}"


def _text(raw: bytes | str | None) -> str:
    return "0" if raw is None else raw.decode() if isinstance(raw, bytes) else raw


async def serve(
    app: web.Application, reader: Reader, row: Row, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """The row's items as shown to the profile, and whether they came from the cache."""
    client, ttl_s = app[REDIS_KEY], app[SETTINGS_KEY].recommendations.row_ttl_s
    started, cached, key = time.perf_counter(), None, None
    try:
        key = keys.row(reader.profile_id, row.value, await _variant(client, reader, limit))
        cached = await client.get(key)
    except RedisError:
        key = None  # no cache: ranked afresh (trending and neighbours fall back too)
    items = json.loads(cached) if cached else await _ranked(app, reader, row, limit)
    if cached is None and key is not None and ttl_s > 0:
        with contextlib.suppress(RedisError):
            await client.set(key, json.dumps(items), ex=max(1, int(ttl_s)))
    shown = await _presented(app, reader, items)
    app[METRICS_KEY].recommendation_seconds.labels(row.value, "hit" if cached else "miss").observe(
        time.perf_counter() - started
    )
    return shown, cached is not None


async def _presented(
    app: web.Application, reader: Reader, items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    titles = await app[TITLES_KEY].all()
    entitlement = await entitlement_of(app, reader.account_id)
    shown = []
    for item in items:
        title = titles.get(item["title_id"])
        # Gone from the catalog, or recertified above the profile since the row was cached.
        if title is None or not visible(app, reader.maturity, title):
            continue
        because = titles.get(item["because"]) if item.get("because") else None
        shown.append({
            "title": presented(title, entitlement), "score": item["score"],
            "components": item["components"], "explanation": item["explanation"],
            "because": {"id": because["id"], "title": because["title"]} if because else None,
        })  # fmt: skip
    return shown
