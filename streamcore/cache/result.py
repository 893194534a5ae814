"""What the cache returns, and what it calls on a miss."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import orjson

Tier = Literal["local", "redis", "database", "stale"]
# Returns a JSON-able value (dicts, lists, strings, numbers, booleans, None).
Loader = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class CacheResult:
    raw: bytes  # the value as compact JSON: a handler can send it as it is
    stale: bool  # True: the database was unavailable and this is the last-known value
    tier: Tier  # where it came from

    @cached_property
    def value(self) -> Any:
        """The value, decoded for this result alone (callers may change it freely). By orjson:
        the same values as `json.loads` from what `envelope.encode_value` writes."""
        return orjson.loads(self.raw)
