"""The disk cache's folders: one per process, its own, removed on close; dead ones cleaned up."""

from __future__ import annotations

import fcntl
from pathlib import Path

from origin.disk_cache import DiskCache


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def test_each_cache_has_its_own_folder_and_removes_it(tmp_path: Path) -> None:
    first, second = DiskCache(tmp_path, 1000, 100), DiskCache(tmp_path, 1000, 100)
    await first.open()
    await second.open()
    assert first.folder is not None and second.folder is not None
    assert first.folder != second.folder and first.folder.parent == tmp_path
    await first.close()
    assert second.folder.exists() and len(_names(tmp_path)) == 1
    await second.close()
    assert _names(tmp_path) == []


async def test_folders_of_dead_processes_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    dead = tmp_path / "12345-deadbeef"
    dead.mkdir()
    (dead / "owner.lock").touch()
    (dead / "leftover").write_bytes(b"x" * 10)
    live = tmp_path / "999-cafecafe"
    live.mkdir()
    with (live / "owner.lock").open("a") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        cache = DiskCache(tmp_path, 1000, 100)
        await cache.open()
        assert not dead.exists() and live.exists()
        await cache.close()


async def test_an_off_cache_makes_no_folder(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "off", 0, 100)
    await cache.open()
    assert not cache.enabled and cache.folder is None and not (tmp_path / "off").exists()
    await cache.close()
