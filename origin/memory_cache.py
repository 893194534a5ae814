"""A bounded in-memory cache for small, hot objects, with single-flight misses.

Hand-written because what it must do is specific: bound by bytes (not entries), expire after a
TTL (deletes must show), and coalesce concurrent misses of one key into one storage read;
async-lru and cachetools each miss one of these.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from streamcore.cache.singleflight import SingleFlight
from streamcore.storage import ObjectInfo


@dataclass(frozen=True)
class Entry:
    data: bytes
    info: ObjectInfo
    stored_at: float


class MemoryCache:
    def __init__(self, max_bytes: int, ttl_s: float, max_object_bytes: int = 2 * 1024 * 1024):
        self.max_bytes, self.ttl_s, self.max_object_bytes = max_bytes, ttl_s, max_object_bytes
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._size = 0
        self._flights: SingleFlight[Entry] = SingleFlight()
        self.hits = self.misses = 0

    async def get(self, key: str, load: Callable[[], Awaitable[tuple[bytes, ObjectInfo]]]) -> Entry:
        entry = self._entries.get(key)
        if entry is not None and time.monotonic() - entry.stored_at < self.ttl_s:
            self._entries.move_to_end(key)
            self.hits += 1
            return entry
        self.misses += 1

        async def load_and_store() -> Entry:
            data, info = await load()
            fresh = Entry(data, info, time.monotonic())
            self._store(key, fresh)
            return fresh

        entry, _ = await self._flights.run(key, load_and_store)
        return entry

    def _store(self, key: str, entry: Entry) -> None:
        if len(entry.data) > self.max_object_bytes or len(entry.data) > self.max_bytes:
            return
        if (old := self._entries.pop(key, None)) is not None:
            self._size -= len(old.data)
        self._entries[key] = entry
        self._size += len(entry.data)
        while self._size > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._size -= len(evicted.data)

    def purge(self, keys: Iterable[str]) -> int:
        """Forget exact keys, and every key below those ending in '/'; the entries dropped."""
        wanted = list(keys)
        doomed = [
            key
            for key in self._entries
            if any(key.startswith(k) if k.endswith("/") else key == k for k in wanted)
        ]
        for key in doomed:
            self._size -= len(self._entries.pop(key).data)
        return len(doomed)
