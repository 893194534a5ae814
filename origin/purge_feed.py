"""Following the purge stream (streamcore/origin_purges.py): deletions reach this process.

The disk cache is live only while the feed is: when Redis cannot be read, the cache is neither
served nor filled (requests read storage, as without a cache), and when the feed is back it
starts again from an empty cache, since purges published meanwhile may have been missed. The
memory cache is purged as well; between its TTL and the purges, deletes show there too.

It stops when told (`stopping`), between reads, never by cancelling one: a task cancelled in
redis-py's blocking XREAD was seen never to finish (the app's shutdown then hung), so each read
blocks at most BLOCK_MS and the loop looks at `stopping` after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from origin.disk_cache import DiskCache
from origin.memory_cache import MemoryCache
from origin.paths import storage_key
from streamcore import origin_purges
from streamcore.cache.redis_client import create_redis
from streamcore.settings import Settings

log = logging.getLogger(__name__)

BLOCK_MS = 1000
RETRY_S = 1.0


async def follow(
    settings: Settings, disk: DiskCache, memory: MemoryCache, stopping: asyncio.Event
) -> None:
    """Apply every purge to both caches until `stopping` is set."""
    client = create_redis(settings, socket_timeout_s=BLOCK_MS / 1000 + 2)
    last: str | None = None
    try:
        while not stopping.is_set():
            try:
                if last is None:
                    last = await origin_purges.latest_id(client)
                    await disk.clear()
                    disk.live = True
                last, purges = await origin_purges.read(client, last, BLOCK_MS)
                for paths in purges:
                    keys = [storage_key(p) for p in paths if p.startswith("/")]
                    dropped = await disk.purge(keys) + memory.purge(keys)
                    log.info("purged %s: %d cached file(s) dropped", paths, dropped)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis down or a bad entry: stop serving from disk
                if disk.live:
                    log.warning("purge feed lost (%s): the disk cache is off until it is back", exc)
                disk.live, last = False, None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), RETRY_S)
    finally:
        await client.aclose()
