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
    def __init__(
        self,
        max_entries: int,
        *,
        max_weight: int | None = None,
        weigh: Callable[[K, V], int] | None = None,
    ) -> None:
        """``max_entries`` 0 keeps nothing (every call makes). With ``weigh``, what is kept
        also weighs at most ``max_weight`` in all (say, bytes of keys and bodies), and a
        result heavier than that on its own is made but not kept."""
        self.max_entries = max_entries
        self.max_weight, self._weigh = max_weight, weigh
        self.weight = 0
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._weights: dict[K, int] = {}

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
        weight = self._weigh(key, made) if self._weigh is not None else 0
        if self.max_entries <= 0 or (self.max_weight is not None and weight > self.max_weight):
            return made
        self._entries[key] = made
        if weight:
            self._weights[key] = weight
            self.weight += weight
        while len(self._entries) > self.max_entries or (
            self.max_weight is not None and self.weight > self.max_weight
        ):
            old, _ = self._entries.popitem(last=False)
            self.weight -= self._weights.pop(old, 0)
        return made
