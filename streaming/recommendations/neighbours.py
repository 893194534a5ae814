"""The batch job's neighbour lists, read for ranking: Redis first (one HMGET per kind), then
PostgreSQL for what Redis lacks (a Redis restarted since the last build)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from uuid import UUID

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from streaming.recommendations import engine, keys

log = logging.getLogger(__name__)

KINDS = ("content", "collaborative")


async def _from_redis(
    client: aioredis.Redis, kind: str, titles: Sequence[str]
) -> engine.Neighbours:
    found: engine.Neighbours = {}
    for title, raw in zip(titles, await client.hmget(keys.neighbours(kind), titles), strict=True):
        if raw is not None:
            found[title] = [
                (str(other), float(similarity)) for other, similarity in json.loads(raw)
            ]
    return found


async def _from_postgres(pool: asyncpg.Pool, kind: str, titles: Sequence[str]) -> engine.Neighbours:
    rows = await pool.fetch(
        "SELECT title_id, neighbour_id, similarity FROM title_neighbours "
        "WHERE kind = $1 AND title_id = ANY($2::uuid[]) ORDER BY title_id, rank",
        kind, [UUID(title) for title in titles],
    )  # fmt: skip
    found: engine.Neighbours = {}
    for row in rows:
        found.setdefault(str(row["title_id"]), []).append(
            (str(row["neighbour_id"]), float(row["similarity"]))
        )
    return found


async def of(
    pool: asyncpg.Pool, client: aioredis.Redis, titles: Sequence[str]
) -> tuple[engine.Neighbours, engine.Neighbours]:
    """The content and collaborative neighbours of these titles."""
    if not titles:
        return {}, {}
    lists: list[engine.Neighbours] = []
    for kind in KINDS:
        try:
            found = await _from_redis(client, kind, titles)
            built = await client.exists(keys.BUILD)
        except RedisError as exc:
            log.warning("neighbours: Redis unavailable (%s); reading PostgreSQL", exc)
            found, built = {}, 0
        # A title without a list in a built Redis has none; without a build there, ask.
        if not built:
            found = await _from_postgres(pool, kind, titles)
        lists.append(found)
    return lists[0], lists[1]
