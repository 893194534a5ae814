"""Upload the ladder's finished segments while FFmpeg is still encoding the next ones.

Without this, every segment waited for the whole encode (and the frames and manifests)
before its upload began: upload time added to the time to playable. Which segments are
finished is transcoder.layout.finished_segments()'s rule; the folder is polled (from a
thread: globbing is blocking I/O) because the muxer gives no other signal that works for
both FFmpegs we support. Everything else (init segments, each track's last segment,
manifests, images) is uploaded by `finish()` once the build has returned.

Nothing uploaded here is visible before the version switch (repository.finish), and keys
are deterministic, so an interrupted attempt leaves only objects a retry overwrites or the
failure path deletes. An upload error never interrupts the build (cancelling the awaiting
coroutine would not stop FFmpeg's thread): it is kept and raised by `finish()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from types import TracebackType

from transcoder import layout

log = logging.getLogger(__name__)

POLL_S = 0.5

Put = Callable[[str], Awaitable[None]]  # uploads one file, named relative to the output dir


class SegmentUploads:
    """`async with SegmentUploads(...) as uploads:` build, then `await uploads.finish(files)`.

    Leaving the block with an exception cancels the uploads still running and waits for them.
    """

    def __init__(self, put: Put, output_dir: Path, *, concurrency: int) -> None:
        self._put = put
        self._output_dir = output_dir
        self._limit = asyncio.Semaphore(concurrency)
        self._started: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._error: BaseException | None = None
        self._watcher: asyncio.Task[None] | None = None
        self.early = 0  # how many files were started while the build was still running

    async def __aenter__(self) -> SegmentUploads:
        self._watcher = asyncio.create_task(self._watch(), name="segment-uploads")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._stop_watching()
        if exc is not None:
            for task in self._tasks:
                task.cancel()
        # On success finish() already awaited them; on failure, no upload outlives the job.
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def finish(self, files: Iterable[str]) -> None:
        """Upload every file of `files` not uploaded yet, wait for all; raise the first error."""
        await self._stop_watching()
        self.early = len(self._started)
        wanted = set(files)
        stray = self._started - wanted
        if stray:
            # finished_segments() named a file the build did not publish: a broken rule.
            raise RuntimeError(f"uploaded early but not part of the output: {sorted(stray)}")
        for relative in sorted(wanted - self._started):
            self._start(relative)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._error is not None:
            raise self._error

    async def _watch(self) -> None:
        try:
            while self._error is None:
                finished = await asyncio.to_thread(layout.finished_segments, self._output_dir)
                for path in finished:
                    relative = path.relative_to(self._output_dir).as_posix()
                    if relative not in self._started:
                        self._start(relative)
                await asyncio.sleep(POLL_S)
        except Exception as exc:  # as for uploads: kept for finish(), never cuts the build
            self._error = exc

    async def _stop_watching(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None

    def _start(self, relative: str) -> None:
        self._started.add(relative)
        task = asyncio.create_task(self._upload(relative))
        self._tasks.add(task)

    async def _upload(self, relative: str) -> None:
        async with self._limit:
            if self._error is not None:
                return  # the attempt has failed already: no point in more traffic
            try:
                await self._put(relative)
            except Exception as exc:  # kept for finish(): the build must run to its end
                log.warning("upload of %s failed: %s", relative, exc)
                if self._error is None:
                    self._error = exc
