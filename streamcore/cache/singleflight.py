"""Single-flight: concurrent callers asking for the same key share one load.

Hand-written: it is a dozen lines, and the libraries that offer it bring a cache policy we
do not want with it. Used by the origin's memory cache and the local edge's cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """The load runs in a task of its own, so that the caller who started it leaving (a
    client hanging up cancels its handler) does not fail everyone who joined: each caller
    only stops waiting; the load ends once, and its result is shared or dropped."""

    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Future[T]] = {}

    async def run(self, key: str, load: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """The load's result, and True if this caller ran it (False: it joined another's)."""
        if (pending := self._inflight.get(key)) is not None:
            return await asyncio.shield(pending), False
        task = asyncio.ensure_future(load())
        self._inflight[key] = task
        task.add_done_callback(lambda done: self._landed(key, done))
        return await asyncio.shield(task), True

    def _landed(self, key: str, done: asyncio.Future[T]) -> None:
        if self._inflight.get(key) is done:
            del self._inflight[key]
        if not done.cancelled():
            done.exception()  # retrieved: every caller may have left before it ended
