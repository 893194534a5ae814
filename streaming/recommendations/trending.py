"""Trending: decayed popularity, kept in a Redis sorted set by forward decay.

A watch adds ``weight * 2 ** ((at - L) / h)`` to its title's score, L being a landmark time
and h ``recommendations.trending_half_life_s``; a score divided by ``2 ** ((now - L) / h)`` is
then the sum of every watch's weight halved once per half-life since it happened (Cormode et
al., "Forward decay", ICDE 2009): one ZINCRBY per watch, no rewriting of old scores as time
passes. The batch job rewrites the set from PostgreSQL with a fresh landmark (so the
exponent stays small), and the flusher adds to it between two rebuilds.
"""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio as aioredis

from streaming.recommendations import engine, keys


async def landmark(client: aioredis.Redis) -> float:
    """The set's landmark; set to now if there is none yet (the first watch ever)."""
    raw = await client.get(keys.TRENDING_LANDMARK)
    if raw is not None:
        return float(raw)
    now = time.time()
    await client.set(keys.TRENDING_LANDMARK, repr(now), nx=True)
    return float(await client.get(keys.TRENDING_LANDMARK) or now)


async def add(
    client: aioredis.Redis, watches: list[tuple[str, float, float]], half_life_s: float
) -> None:
    """Add (title, weight, at) watches to the set."""
    if not watches:
        return
    mark = await landmark(client)
    async with client.pipeline(transaction=False) as pipe:
        for title, weight, at in watches:
            pipe.zincrby(keys.TRENDING, weight * engine.forward_decay(at, mark, half_life_s), title)
        await pipe.execute()


async def replace(client: aioredis.Redis, scores: dict[str, float], now: float) -> None:
    """Rewrite the set from decayed popularity as of `now` (the batch job), `now` its landmark."""
    async with client.pipeline(transaction=True) as pipe:
        pipe.delete(keys.TRENDING)
        if scores:
            pipe.zadd(keys.TRENDING, {title: score for title, score in scores.items()})
        pipe.set(keys.TRENDING_LANDMARK, repr(now))
        await pipe.execute()


async def top(client: aioredis.Redis, count: int, half_life_s: float) -> dict[str, float]:
    """The `count` most popular titles now, with their decayed popularity."""
    found: Any = await client.zrevrange(keys.TRENDING, 0, count - 1, withscores=True)
    if not found:
        return {}
    scale = engine.forward_decay(time.time(), await landmark(client), half_life_s)
    return {
        (title.decode() if isinstance(title, bytes) else title): float(score) / scale
        for title, score in found
    }
