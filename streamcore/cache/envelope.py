"""What an entry holds besides its value, how it is written to Redis, and the TTL arithmetic.

Values are JSON, never pickle: an entry can be read by any process and any version of the code,
and a poisoned cache cannot execute anything. The envelope's times are Unix seconds (wall
clock), since they are compared across processes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Field names of the Redis hash (short: they are stored in every entry).
VALUE, CREATED, FRESH_UNTIL, GENERATIONS = b"v", b"c", b"f", b"g"
FIELDS = (VALUE, CREATED, FRESH_UNTIL, GENERATIONS)


def encode_value(value: Any) -> bytes:
    """Compact, strict JSON (no NaN); a value JSON cannot hold is the caller's bug: TypeError."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


@dataclass(frozen=True)
class Envelope:
    value: bytes  # the value as JSON
    created: float
    fresh_until: float
    # The generation of each namespace the value depends on, as read before it was loaded.
    generations: Mapping[str, str]

    def is_fresh(self, now: float, current: Mapping[str, str]) -> bool:
        return now < self.fresh_until and dict(self.generations) == dict(current)

    def refresh_due(self, now: float, fraction: float) -> bool:
        """In the last ``fraction`` of its fresh life: serve it, and reload in the background."""
        if fraction <= 0:
            return False
        return now >= self.fresh_until - fraction * (self.fresh_until - self.created)

    def to_fields(self) -> dict[bytes, bytes]:
        return {
            VALUE: self.value,
            CREATED: repr(self.created).encode(),
            FRESH_UNTIL: repr(self.fresh_until).encode(),
            GENERATIONS: json.dumps(dict(self.generations), separators=(",", ":")).encode(),
        }

    @classmethod
    def from_fields(cls, fields: list[bytes | None]) -> Envelope | None:
        """From the hash's fields in FIELDS order; None if absent or not ours (never an error)."""
        value, created, fresh_until, generations = fields
        if value is None or created is None or fresh_until is None or generations is None:
            return None
        try:
            gens = json.loads(generations)
            return cls(value, float(created), float(fresh_until), gens)
        except ValueError:
            return None


def jittered_ttl(ttl_s: float, jitter: float, uniform: Callable[[float, float], float]) -> float:
    """The TTL stretched by a random fraction up to ``jitter``, so entries written together
    (after a deploy, a flush or a generation bump) do not all expire together."""
    return ttl_s * (1 + uniform(0.0, jitter))
