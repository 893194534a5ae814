"""Response bodies already rendered from a cached value, so that a cache hit sends bytes.

A cached value (`CacheResult.raw`) is still turned into a response on every request: decoded,
filtered for the caller, dressed (signed URLs, locks) and encoded, about a millisecond for a
title. For the same raw bytes and the same few things a rendering depends on (the caller's
variant: its maturity level, whether premium titles are locked to it, the hour signed URLs
expire on) the result is the same bytes, so they are kept here, keyed by both. A new value
(after any write, or a reload) is another bytes object with other contents, hence another key:
nothing here needs invalidating, and renderings of old values age out of the LRU unread.

Hand-written (a dozen lines): `functools.lru_cache` is per function, not per app, and would
key on the render callable too.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class Renderings(Generic[T]):
    def __init__(self, max_entries: int) -> None:
        """``max_entries`` 0 keeps nothing (every call renders)."""
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[bytes, Hashable], T] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_render(self, raw: bytes, variant: Hashable, render: Callable[[], T]) -> T:
        """What ``render()`` returns for the value ``raw`` in ``variant``; rendered at most
        once while kept. ``render`` must depend on nothing else (an exception is not kept)."""
        key = (raw, variant)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        rendered = render()
        if self.max_entries > 0:
            self._entries[key] = rendered
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return rendered
