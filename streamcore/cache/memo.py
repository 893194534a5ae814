"""A bounded in-process memo for what is the same every time it is made from the same key.

Used where a cache hit would otherwise redo work whose result depends on nothing but its key:
a response body rendered from a cached value (the key: the value's raw bytes and the caller's
variant, catalog_api/titles/handlers.py), an image URL signed for its validity window (the
key: the path and the expiry, cdn_adapters/playback.py). Such a key names its result
completely, so nothing here needs invalidating: a new value (after a write) or a new expiry
is another key, and what older keys made ages out of the LRU unread.

Hand-written (a dozen lines): `functools.lru_cache` is per function, not per app instance,
and would key on the `make` callable too.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    def __init__(self, max_entries: int) -> None:
        """``max_entries`` 0 keeps nothing (every call makes)."""
        self.max_entries = max_entries
        self._entries: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """What ``make()`` returns for ``key``, made at most once while kept. ``make`` must
        depend on nothing the key does not name; an exception is not kept."""
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        made = make()
        if self.max_entries > 0:
            self._entries[key] = made
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return made
