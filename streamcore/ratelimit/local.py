"""The per-process limiter reads and media fall back on while Redis cannot be reached.

Fail open, but not unlimited: each process keeps a GCRA per key in memory (the same budget,
burst = the rule's capacity), so one client still cannot flood one process while Redis is
down. It is per process, so N processes admit up to N times a budget; exactness returns
with Redis. Bounded: the least recently used keys are forgotten past `max_keys`.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from streamcore.ratelimit.algorithms import Verdict
from streamcore.ratelimit.config import RateRule


class LocalLimiter:
    def __init__(
        self, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._tats: OrderedDict[str, float] = OrderedDict()
        self._max_keys = max_keys
        self._clock = clock

    def hit(self, rule: RateRule, key: str) -> Verdict:
        now = self._clock()
        capacity = rule.capacity
        interval = rule.period_s / rule.limit
        tolerance = interval * capacity
        tat = max(self._tats.get(key, now), now)
        new_tat = tat + interval
        allow_at = new_tat - tolerance
        if now < allow_at:
            return Verdict(
                allowed=False, remaining=0, reset_s=math.ceil(tat - now),
                retry_after_s=max(1, math.ceil(allow_at - now)), limit=capacity,
            )  # fmt: skip
        self._tats[key] = new_tat
        self._tats.move_to_end(key)
        while len(self._tats) > self._max_keys:
            self._tats.popitem(last=False)
        remaining = math.floor((tolerance - (new_tat - now)) / interval)
        return Verdict(
            allowed=True, remaining=max(0, remaining), reset_s=math.ceil(new_tat - now),
            retry_after_s=0, limit=capacity,
        )  # fmt: skip
