"""A circuit breaker: closed, open after N consecutive failures, half-open probe.

Around Redis (the catalog's cache, streamcore/cache/guarded.py) and around the catalog (the
streaming service's asset lookups, streaming/catalog_client.py): the one breaker of the code.

Hand-written, after looking at the libraries (2026): aiobreaker's last release is from 2021;
pybreaker is synchronous (its async support goes through Tornado); circuitbreaker keeps every
breaker in a module-level registry, reads the wall clock itself and reports no transitions;
purgatory is asyncio-native but brings a factory, a unit of work and a message bus for what is
some sixty lines here, without an injectable clock. What we need is small and specific: a
caller asks ``allow()`` before each call (while open, the dependency is not called at all), one
caller at a time probes once the cool-down is over, the state and every transition are
reported for the metrics, and tests drive time.

Single event loop, no awaits inside: no lock is needed.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class BreakerState(enum.IntEnum):
    # The values are what the Prometheus gauge shows.
    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int,
        reset_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_transition: Callable[[BreakerState, BreakerState], None] | None = None,
        name: str = "Redis",
    ) -> None:
        self.failure_threshold, self.reset_s = failure_threshold, reset_s
        self.name = name  # what it guards, in its log lines
        self._clock = clock
        self._on_transition = on_transition
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_started_at: float | None = None

    @property
    def state(self) -> BreakerState:
        """The state as of now: an open breaker whose cool-down is over reads as half-open."""
        if self._state is BreakerState.OPEN and self._cooled_down():
            return BreakerState.HALF_OPEN
        return self._state

    def allow(self) -> bool:
        """May the caller call the dependency now? In half-open, True for one probe at a time."""
        if self._state is BreakerState.CLOSED:
            return True
        if self._state is BreakerState.OPEN:
            if not self._cooled_down():
                return False
            self._move(BreakerState.HALF_OPEN)
        # A probe that never reported (its task was cancelled) must not block the next forever.
        now = self._clock()
        if self._probe_started_at is not None and now - self._probe_started_at < self.reset_s:
            return False
        self._probe_started_at = now
        return True

    def record_success(self) -> None:
        self._failures = 0
        self._probe_started_at = None
        if self._state is not BreakerState.CLOSED:
            self._move(BreakerState.CLOSED)

    def record_failure(self) -> None:
        self._failures += 1
        self._probe_started_at = None
        if self._state is BreakerState.HALF_OPEN or (
            self._state is BreakerState.CLOSED and self._failures >= self.failure_threshold
        ):
            self._opened_at = self._clock()
            self._move(BreakerState.OPEN)

    def _cooled_down(self) -> bool:
        return self._clock() - self._opened_at >= self.reset_s

    def _move(self, new: BreakerState) -> None:
        old, self._state = self._state, new
        level = logging.WARNING if new is BreakerState.OPEN else logging.INFO
        log.log(
            level, "%s circuit breaker: %s -> %s", self.name, old.name.lower(), new.name.lower()
        )
        if self._on_transition is not None:
            self._on_transition(old, new)
