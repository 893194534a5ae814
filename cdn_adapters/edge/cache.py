"""The edge's cache: whole responses keyed by path (never by token), bounded by bytes.

Freshness follows the origin's Cache-Control (s-maxage, then max-age; no-store and private are
not cached). Concurrent misses for one path are collapsed into one origin request.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from streamcore.cache.singleflight import SingleFlight

_MAX_AGE = re.compile(r"(?:^|,)\s*(s-maxage|max-age)\s*=\s*(\d+)")
# Headers of the origin's response that the edge keeps and replays.
KEPT_HEADERS = ("Content-Type", "Cache-Control", "ETag", "Last-Modified", "Vary", "Content-Length")


@dataclass(frozen=True)
class Stored:
    status: int
    headers: Mapping[str, str]
    body: bytes
    expires_at: float
    cacheable: bool = True


def freshness(cache_control: str | None) -> float | None:
    """Seconds the response may be reused, or None if it must not be stored."""
    if not cache_control:
        return None
    lowered = cache_control.lower()
    if "no-store" in lowered or "private" in lowered or "no-cache" in lowered:
        return None
    ages = dict((name, int(value)) for name, value in _MAX_AGE.findall(lowered))
    age = ages.get("s-maxage", ages.get("max-age"))
    return float(age) if age else None


@dataclass
class EdgeStats:
    hits: int = 0
    misses: int = 0
    origin_requests: int = 0
    purged: int = 0
    by_path: dict[str, int] = field(default_factory=dict)  # origin requests per path


class EdgeCache:
    def __init__(self, max_bytes: int, max_object_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes, self.max_object_bytes = max_bytes, max_object_bytes
        self._entries: OrderedDict[str, Stored] = OrderedDict()
        self._size = 0
        self._flights: SingleFlight[Stored] = SingleFlight()
        self.stats = EdgeStats()

    def lookup(self, path: str) -> Stored | None:
        entry = self._entries.get(path)
        if entry is None:
            return None
        if entry.expires_at <= time.monotonic():
            self._remove(path)
            return None
        self._entries.move_to_end(path)
        return entry

    async def fetch(self, path: str, load: Callable[[], Awaitable[Stored]]) -> tuple[Stored, bool]:
        """The cached response, or one loaded (once, however many ask at once); True if a hit."""
        if (entry := self.lookup(path)) is not None:
            self.stats.hits += 1
            return entry, True
        self.stats.misses += 1

        async def load_and_store() -> Stored:
            self.stats.origin_requests += 1
            self.stats.by_path[path] = self.stats.by_path.get(path, 0) + 1
            loaded = await load()
            if loaded.cacheable:
                self._store(path, loaded)
            return loaded

        entry, _ = await self._flights.run(path, load_and_store)
        return entry, False

    def _store(self, path: str, entry: Stored) -> None:
        if len(entry.body) > min(self.max_object_bytes, self.max_bytes):
            return
        self._remove(path)
        self._entries[path] = entry
        self._size += len(entry.body)
        while self._size > self.max_bytes:
            oldest = next(iter(self._entries))
            self._remove(oldest)

    def _remove(self, path: str) -> None:
        if (old := self._entries.pop(path, None)) is not None:
            self._size -= len(old.body)

    def purge(self, paths: list[str]) -> int:
        """Drop exact paths, and everything below paths ending in '/'."""
        doomed = {
            key
            for key in self._entries
            for path in paths
            if (key.startswith(path) if path.endswith("/") else key == path)
        }
        for key in doomed:
            self._remove(key)
        self.stats.purged += len(doomed)
        return len(doomed)
