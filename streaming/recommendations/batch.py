"""The batch job: every title's neighbour lists and trending, rebuilt from scratch.

Run hourly by the stack's scheduler (``recommendations.rebuild_every_s``, the
``recommendations`` queue's worker: streaming/worker.py) and by ``streamcore
recommendations rebuild``. It reads the catalog's titles (over HTTP) and every profile's
history (episodes folded into their series), has the engine build the content and the
collaborative neighbour lists and decayed popularity, then replaces the previous output:
PostgreSQL's ``title_neighbours`` in one transaction (the record), Redis' copies (what
ranking reads) and trending's sorted set. The job is idempotent, and deterministic for a
fixed input: the same titles and history give the same lists and the same digest (recorded
in ``recommendation_builds`` with the sizes and the time it took).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

import asyncpg
import redis.asyncio as aioredis

from streamcore import notify
from streamcore.settings import Settings
from streaming.history import queries
from streaming.recommendations import engine, keys, trending
from streaming.recommendations.neighbours import KINDS
from streaming.recommendations.rows import features

log = logging.getLogger(__name__)

# Redis hash fields written per round trip.
_CHUNK = 1000


@dataclass(frozen=True)
class Build:
    build_id: int
    titles: int
    profiles: int
    interactions: int
    neighbours: int
    digest: str
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def digest(lists: dict[str, engine.Neighbours]) -> str:
    """A fingerprint of the lists, insensitive to float noise below 1e-9."""
    canonical = {
        kind: {title: [[other, round(sim, 9)] for other, sim in found]
               for title, found in sorted(neighbours.items())}
        for kind, neighbours in sorted(lists.items())
    }  # fmt: skip
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def compute(
    titles: list[dict[str, Any]], watches: list[engine.Watch], settings: Settings, now: float
) -> tuple[dict[str, engine.Neighbours], dict[str, float]]:
    """The lists and trending: pure and CPU-bound (run in a thread)."""
    section = settings.recommendations
    lists = {
        "content": engine.content_neighbours([features(t) for t in titles], section.neighbours),
        "collaborative": engine.item_neighbours(watches, section.neighbours),
    }
    popular = engine.decayed_popularity(watches, now, section.trending_half_life_s)
    return lists, popular


async def _store(
    pool: asyncpg.Pool, lists: dict[str, engine.Neighbours], sizes: dict[str, int], seconds: float,
    fingerprint: str,
) -> tuple[int, int]:  # fmt: skip
    records = [
        (kind, UUID(title), rank, UUID(other), similarity)
        for kind, neighbours in lists.items()
        for title, found in neighbours.items()
        for rank, (other, similarity) in enumerate(found)
    ]
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM title_neighbours")
        await conn.copy_records_to_table(
            "title_neighbours", records=records,
            columns=["kind", "title_id", "rank", "neighbour_id", "similarity"],
        )  # fmt: skip
        build_id = await conn.fetchval(
            """
            INSERT INTO recommendation_builds (titles, profiles, interactions, neighbours,
                                               digest, seconds)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
            """,
            sizes["titles"], sizes["profiles"], sizes["interactions"], len(records),
            fingerprint, seconds,
        )  # fmt: skip
    return int(build_id), len(records)


async def _publish(
    client: aioredis.Redis, lists: dict[str, engine.Neighbours], build_id: int
) -> None:
    for kind in KINDS:
        key = keys.neighbours(kind)
        staging = f"{key}:building"
        await client.delete(staging)
        items = [(title, json.dumps(found)) for title, found in lists.get(kind, {}).items()]
        for start in range(0, len(items), _CHUNK):
            await client.hset(staging, mapping=dict(items[start : start + _CHUNK]))
        if items:
            await client.rename(staging, key)  # atomic: readers see the old lists or the new
        else:
            await client.delete(key)
    await client.set(keys.BUILD, str(build_id))


async def rebuild(
    pool: asyncpg.Pool, client: aioredis.Redis, titles: list[dict[str, Any]], settings: Settings
) -> Build:
    """Rebuild from `titles` (the catalog's films and series) and the history in `pool`."""
    started, now = time.perf_counter(), time.time()
    rows = await queries.interactions(pool)
    watches = [
        engine.Watch(str(r["profile_id"]), str(r["item"]), float(r["weight"]), float(r["at"]))
        for r in rows
    ]
    lists, popular = await asyncio.to_thread(compute, titles, watches, settings, now)
    fingerprint = digest(lists)
    sizes = {"titles": len(titles), "profiles": len({w.profile for w in watches}),
             "interactions": len(watches)}  # fmt: skip
    seconds = time.perf_counter() - started
    build_id, stored = await _store(pool, lists, sizes, seconds, fingerprint)
    await _publish(client, lists, build_id)
    await trending.replace(client, popular, now)
    build = Build(build_id, sizes["titles"], sizes["profiles"], sizes["interactions"], stored,
                  fingerprint, round(time.perf_counter() - started, 3))  # fmt: skip
    log.info("recommendations rebuilt: %s", build.to_json())
    # Every profile's rows may have changed: one broadcast, not a message per profile.
    await notify.publish(client, notify.recommendations(), "refresh", {"build_id": build_id},
                         max_len=settings.notifications.replay_max_len)  # fmt: skip
    return build
