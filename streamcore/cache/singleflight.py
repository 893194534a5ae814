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
    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Future[T]] = {}

    async def run(self, key: str, load: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """The load's result, and True if this caller ran it (False: it joined another's)."""
        if (pending := self._inflight.get(key)) is not None:
            return await asyncio.shield(pending), False
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await load()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # joiners get the error; nobody else must retrieve it
            raise
        finally:
            del self._inflight[key]
        future.set_result(value)
        return value, True
