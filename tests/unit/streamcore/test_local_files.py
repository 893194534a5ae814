"""Files opened off the event loop are closed even when the opening task is cancelled."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from streamcore.local_files import opened


def _descriptors_on(path: Path) -> int:
    fds = Path("/proc/self/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            count += fd.readlink() == path
        except OSError:
            continue
    return count


async def test_a_task_cancelled_while_the_thread_opens_leaks_no_handle(tmp_path: Path) -> None:
    # Opening a FIFO for reading blocks until a writer comes: the task is cancelled while
    # the thread is still inside open(), as a handler is when its client hangs up.
    fifo = tmp_path / "slow"
    os.mkfifo(fifo)
    entered = asyncio.Event()

    async def reader() -> None:
        entered.set()
        async with opened(fifo, "rb"):
            raise AssertionError("the block must not run: the task was cancelled")

    task = asyncio.create_task(reader())
    await entered.wait()
    await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    writer = await asyncio.to_thread(fifo.open, "wb")  # lets the thread's open() return
    try:
        for _ in range(100):
            await asyncio.sleep(0.01)
            if _descriptors_on(fifo) == 1:  # the writer's own only
                break
        assert _descriptors_on(fifo) == 1
    finally:
        writer.close()


async def test_the_block_sees_an_open_file_that_is_closed_after(tmp_path: Path) -> None:
    path = tmp_path / "data"
    async with opened(path, "wb") as handle:
        await asyncio.to_thread(handle.write, b"abc")
    assert handle.closed and path.read_bytes() == b"abc"
