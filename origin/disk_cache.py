"""A bounded on-disk cache of segments, sent with sendfile, filled by single-flight reads.

Hand-written, like the memory cache beside it, because what it must do is specific: bound by
bytes, least recently used out, concurrent misses of one key coalesced into one storage read
(streamcore/cache/singleflight.py), forget published paths when told (origin/purge_feed.py),
and never block the event loop: every file operation runs in a thread, and the index (an
OrderedDict) is only touched between awaits, so no lock is held across I/O.

Keys are storage keys, which name a published version (``assets/{id}/v{n}/...``): the bytes
at a key never change, so nothing is revalidated; entries leave by eviction or by a purge.
A file is written under a temporary name and renamed into place once complete, so a
half-written file is never served.

One folder per process below ``origin.disk_cache_dir`` (``<pid>-<random>``), holding a lock
file (``flock``) for the process's life, so that several origin instances (or test apps) on
one machine never share or wipe each other's files; each keeps its own bound. The folder is
removed on a clean stop, and at start every sibling whose lock is free (its process died) is
removed too. The cache does not survive a restart, on purpose: its index is in memory, and
purges published while an instance was down are not replayed to it (purge_feed.py), so a
kept file could be one a delete should have removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from streamcore.cache.singleflight import SingleFlight
from streamcore.local_files import opened
from streamcore.storage import ObjectInfo, ObjectStream

log = logging.getLogger(__name__)

_LOCK = "owner.lock"
_HALF_MADE_S = 60.0
# Chunks from storage are gathered to this size before one write in a thread: fewer hops.
_WRITE_BATCH = 1024 * 1024


@dataclass(frozen=True)
class DiskEntry:
    path: Path
    info: ObjectInfo


def _remove_dead_siblings(root: Path) -> None:
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        try:
            with (folder / _LOCK).open("r") as handle:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live process holds it
        except FileNotFoundError:
            # No lock yet: another process may be making it right now; left half-made, it
            # goes once it is old.
            with contextlib.suppress(FileNotFoundError):
                if time.time() - folder.stat().st_mtime < _HALF_MADE_S:
                    continue
        shutil.rmtree(folder, ignore_errors=True)


def _make_folder(root: Path) -> tuple[Path, IO[str]]:
    root.mkdir(parents=True, exist_ok=True)
    _remove_dead_siblings(root)
    folder = root / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    handle = (folder / _LOCK).open("a")
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return folder, handle


def _unlink(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


class DiskCache:
    def __init__(self, root: Path, max_bytes: int, max_object_bytes: int) -> None:
        self.root, self.max_bytes = root, max_bytes
        self.max_object_bytes = min(max_object_bytes, max_bytes)
        self.folder: Path | None = None
        self._lock: IO[str] | None = None
        self._entries: OrderedDict[str, DiskEntry] = OrderedDict()
        self.size = 0
        self._flights: SingleFlight[DiskEntry | None] = SingleFlight()
        # Bumped by every purge and clear: a fill that saw one happen is not kept.
        self._epoch = 0
        # False while purges might be missed (the purge feed is down): nothing served or kept.
        self.live = False
        self.hits = self.misses = self.evictions = self.purged = self.storage_reads = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @property
    def entries(self) -> int:
        return len(self._entries)

    async def open(self) -> None:
        if self.enabled:
            self.folder, self._lock = await asyncio.to_thread(_make_folder, self.root)

    async def close(self) -> None:
        self._entries.clear()
        self.size = 0
        if self.folder is not None:
            folder, lock, self.folder, self._lock = self.folder, self._lock, None, None
            await asyncio.to_thread(shutil.rmtree, folder, True)
            if lock is not None:
                lock.close()

    def lookup(self, key: str) -> DiskEntry | None:
        if not self.live or self.folder is None:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def forget(self, key: str) -> None:
        """An entry whose file is gone (removed by a purge or eviction as it was opened)."""
        if (old := self._entries.pop(key, None)) is not None:
            self.size -= old.info.size

    async def fill(self, key: str, read: Callable[[], Awaitable[ObjectStream]]) -> DiskEntry | None:
        """The object on disk, read from storage once however many ask at once; None when it
        is not kept (too large, the cache off or not live, purged meanwhile): stream it."""
        if not self.live or self.folder is None:
            return None
        self.misses += 1
        entry, _ = await self._flights.run(key, lambda: self._fill(key, read))
        return entry

    async def _fill(
        self, key: str, read: Callable[[], Awaitable[ObjectStream]]
    ) -> DiskEntry | None:
        assert self.folder is not None
        epoch, folder = self._epoch, self.folder
        self.storage_reads += 1
        stream = await read()
        if stream.info.size > self.max_object_bytes:
            stream.close()
            return None
        final = folder / hashlib.sha256(key.encode()).hexdigest()[:40]
        temporary = folder / f"tmp-{uuid.uuid4().hex}"
        try:
            await self._write(stream, temporary)
            await asyncio.to_thread(os.replace, temporary, final)
        except BaseException:
            stream.close()
            with contextlib.suppress(OSError):
                await asyncio.shield(asyncio.to_thread(temporary.unlink, True))
            raise
        if epoch != self._epoch or not self.live or self.folder is not folder:
            await asyncio.to_thread(final.unlink, True)
            return None
        entry = DiskEntry(final, stream.info)
        self.forget(key)
        self._entries[key] = entry
        self.size += entry.info.size
        await self._evict()
        return entry

    @staticmethod
    async def _write(stream: ObjectStream, path: Path) -> None:
        async with opened(path, "wb") as handle:
            batch: list[bytes] = []
            pending = 0
            async for chunk in stream.chunks:
                batch.append(chunk)
                pending += len(chunk)
                if pending >= _WRITE_BATCH:
                    await asyncio.to_thread(handle.writelines, batch)
                    batch, pending = [], 0
            if batch:
                await asyncio.to_thread(handle.writelines, batch)

    async def _evict(self) -> None:
        doomed: list[Path] = []
        while self.size > self.max_bytes and self._entries:
            _, old = self._entries.popitem(last=False)
            self.size -= old.info.size
            self.evictions += 1
            doomed.append(old.path)
        if doomed:
            await asyncio.to_thread(_unlink, doomed)

    async def purge(self, keys: Iterable[str]) -> int:
        """Forget exact keys, and every key below those ending in '/'; the entries dropped."""
        wanted = list(keys)
        self._epoch += 1
        doomed = [
            key
            for key in self._entries
            if any(key.startswith(k) if k.endswith("/") else key == k for k in wanted)
        ]
        paths = [self._entries[key].path for key in doomed]
        for key in doomed:
            self.forget(key)
        self.purged += len(doomed)
        if paths:
            await asyncio.to_thread(_unlink, paths)
        return len(doomed)

    async def clear(self) -> None:
        """Forget everything (the purge feed may have missed purges)."""
        self._epoch += 1
        paths = [entry.path for entry in self._entries.values()]
        self._entries.clear()
        self.size = 0
        if paths:
            await asyncio.to_thread(_unlink, paths)
