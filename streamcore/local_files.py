"""Local files opened and closed off the event loop, and never leaked by a cancelled task.

`asyncio.to_thread(path.open)` alone leaks: a task cancelled while the thread opens the file
(a client hanging up on the origin, say) never sees the handle the thread goes on to return,
and the garbage collector closes it later with a ResourceWarning. Here the thread's result is
closed by whoever is left to see it. Opening and closing (which flushes) are file I/O, so
both run in a thread, as reads and writes do; aiofiles would do the same with a dependency.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any


def _close_result(opening: asyncio.Future[IO[Any]]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


async def open_file(path: Path, mode: str) -> IO[Any]:
    """`path` opened in `mode` in a thread; closed there if the caller is cancelled meanwhile."""
    opening = asyncio.ensure_future(asyncio.to_thread(path.open, mode))
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        opening.add_done_callback(_close_result)
        raise


async def close_file(handle: IO[Any]) -> None:
    """`handle` closed in a thread, which finishes the close even if the caller is cancelled;
    here, if the loop's executor is already shut down (a server stopping)."""
    try:
        closing = asyncio.get_running_loop().run_in_executor(None, handle.close)
    except RuntimeError:
        handle.close()
        return
    await asyncio.shield(closing)


@asynccontextmanager
async def opened(path: Path, mode: str) -> AsyncIterator[IO[Any]]:
    """`path` open in `mode` for the block, opened and closed off the event loop."""
    handle = await open_file(path, mode)
    try:
        yield handle
    finally:
        await close_file(handle)
