"""The in-process tier: a small LRU whose entries are fresh briefly and last-known for longer.

Hand-written (about forty lines): each entry needs two deadlines, a short one for serving it
as fresh (other processes cannot invalidate this tier, so it must not be trusted for long) and
a long one for serving it, marked stale, when the database is down; cachetools' TTLCache and
async-lru have one. The clock is injected so that tests control time.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class LocalEntry(Generic[T]):
    value: T
    fresh_until: float  # on the LRU's clock
    stale_until: float


class LocalLRU(Generic[T]):
    def __init__(self, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, LocalEntry[T]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get_fresh(self, key: str) -> T | None:
        entry = self._lookup(key)
        if entry is None or self._clock() >= entry.fresh_until:
            return None
        return entry.value

    def get_stale(self, key: str) -> T | None:
        """The last-known value, fresh or not, while its stale deadline has not passed."""
        entry = self._lookup(key)
        return entry.value if entry is not None else None

    def put(self, key: str, value: T, fresh_s: float, stale_s: float) -> None:
        if self.max_entries <= 0:
            return
        now = self._clock()
        self._entries[key] = LocalEntry(value, now + fresh_s, now + max(fresh_s, stale_s))
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def expire(self, key: str) -> None:
        """No longer fresh; still last-known (an invalidation keeps the fallback)."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries[key] = replace(entry, fresh_until=float("-inf"))

    def expire_where(self, predicate: Callable[[T], bool]) -> int:
        matching = [key for key, entry in self._entries.items() if predicate(entry.value)]
        for key in matching:
            self.expire(key)
        return len(matching)

    def _lookup(self, key: str) -> LocalEntry[T] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() >= entry.stale_until:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry
