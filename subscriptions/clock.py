"""The lifecycle's clock, injectable: real time, or (``subscriptions.test_clock``, test config
only) real time plus an offset kept in Redis, so that tests move time instead of sleeping.

Every process of the service (instances, the worker pool) reads the same offset, so an
advance made through ``POST /v1/admin/subscriptions/clock`` is seen by the scheduler too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

import redis.asyncio as aioredis

from streamcore.settings import Settings

OFFSET_KEY = "streamcore:subscriptions:clock_offset_s"


def real_now() -> datetime:
    return datetime.now(UTC)


class Clock(Protocol):
    async def now(self) -> datetime: ...


class RealClock:
    def __init__(self, source: Callable[[], datetime] = real_now) -> None:
        self._source = source

    async def now(self) -> datetime:
        return self._source()


class OffsetClock:
    """Real time plus the offset in Redis (tests only)."""

    def __init__(self, redis: aioredis.Redis, source: Callable[[], datetime] = real_now) -> None:
        self._redis, self._source = redis, source

    async def offset_s(self) -> float:
        raw = await self._redis.get(OFFSET_KEY)
        return float(raw) if raw is not None else 0.0

    async def now(self) -> datetime:
        return self._source() + timedelta(seconds=await self.offset_s())

    async def advance(self, seconds: float) -> float:
        """Moves the clock forward (never back); the new offset."""
        return float(await self._redis.incrbyfloat(OFFSET_KEY, seconds))


def clock_for(settings: Settings, redis: aioredis.Redis) -> Clock:
    return OffsetClock(redis) if settings.subscriptions.test_clock else RealClock()
