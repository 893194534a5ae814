"""Telling every origin process to forget published paths: one Redis stream they all read.

The origins cache published files in memory and on disk (origin/memory_cache.py,
origin/disk_cache.py). A version's bytes never change, so the only thing that must reach those
caches is a deletion: an asset deleted, a replaced version removed. Whoever deletes published
files (the workers: workers/processing.py) publishes the paths here after the deletion, and
every origin process follows the stream (origin/purge_feed.py) and drops what it holds below
them. A stream, not pub/sub: an origin whose connection blips reads on from its last id.

    key     origin:purges          a stream, trimmed to about MAX_LEN entries
    fields  paths                  JSON list of URL paths; a path ending in "/" is a folder

This module names the stream alone; it imports no component.
"""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aioredis

from streamcore.cache.redis_client import create_redis
from streamcore.settings import Settings

STREAM = "origin:purges"
MAX_LEN = 10_000


async def publish(settings: Settings, paths: list[str]) -> None:
    """Append one purge. Redis errors propagate: they are transient, and the task retries."""
    client = create_redis(settings)
    try:
        await client.xadd(STREAM, {"paths": json.dumps(paths)}, maxlen=MAX_LEN, approximate=True)
    finally:
        await client.aclose()


async def latest_id(client: aioredis.Redis) -> str:
    """The id of the newest entry ("0-0" for none): where a reader that holds nothing starts."""
    newest = await client.xrevrange(STREAM, count=1)
    if not newest:
        return "0-0"
    entry_id = newest[0][0]
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


async def read(client: aioredis.Redis, after: str, block_ms: int) -> tuple[str, list[list[str]]]:
    """The purges after id `after` (waiting up to `block_ms` for one), and the last id read."""
    answer: Any = await client.xread({STREAM: after}, block=block_ms, count=100)
    purges: list[list[str]] = []
    for _, entries in answer or []:
        for entry_id, fields in entries:
            after = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            raw = fields.get(b"paths", fields.get("paths", "[]"))
            paths = json.loads(raw)
            purges.append([p for p in paths if isinstance(p, str)])
    return after, purges
