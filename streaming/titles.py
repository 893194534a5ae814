"""What streaming knows of the catalog's titles: asked over HTTP (streaming/catalog_client.py),
kept a little while.

Recommendations and watch history show titles: every film and series at once (`all`: the
catalog's whole list, refreshed after ``DIRECTORY_TTL_S``, or sooner when it lacks a title
that is asked about, by one caller while the others use the previous copy), and any one
title, an episode included, by id (`get`: the list, else the catalog's document of it,
cached by the client).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from typing import Any
from uuid import UUID

from streaming.catalog_client import CatalogClient

DIRECTORY_TTL_S = 60.0
# A copy that lacks a title asked about is loaded again, at most this often.
RELOAD_AFTER_S = 2.0
# What a title shows of itself in history and recommendation items.
SUMMARY_FIELDS = (
    "id", "kind", "title", "year", "genres", "runtime_min", "rating", "certification",
    "access", "tmdb_id", "series_id", "season_number", "episode_number", "images",
)  # fmt: skip


def summary(title: dict[str, Any]) -> dict[str, Any]:
    return {field: title.get(field) for field in SUMMARY_FIELDS}


class TitleDirectory:
    def __init__(self, catalog: CatalogClient, ttl_s: float = DIRECTORY_TTL_S) -> None:
        self._catalog = catalog
        self._ttl_s = ttl_s
        self._titles: dict[str, dict[str, Any]] | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def all(self, expect: Collection[str] = ()) -> dict[str, dict[str, Any]]:
        """Every film and series, by id. Loaded again when older than the TTL, or when it
        lacks an id in `expect` (titles added since: a neighbour list names them) and it is
        older than `RELOAD_AFTER_S`."""
        age = time.monotonic() - self._loaded_at
        stale = age >= self._ttl_s or (
            age >= RELOAD_AFTER_S
            and self._titles is not None
            and any(title not in self._titles for title in expect)
        )
        if self._titles is not None and (not stale or self._lock.locked()):
            return self._titles
        async with self._lock:
            if self._titles is None or self._loaded_at == 0 or stale:
                listed = await self._catalog.titles()
                self._titles = {title["id"]: title for title in listed}
                self._loaded_at = time.monotonic()
        return self._titles

    async def get(self, title_id: UUID | str) -> dict[str, Any] | None:
        """A title (an episode too), or None if the catalog has none by that id."""
        listed = (await self.all()).get(str(title_id))
        if listed is not None:
            return listed
        return await self._catalog.title(UUID(str(title_id)))

    async def document(self, title_id: UUID | str) -> dict[str, Any] | None:
        """The catalog's full document: a series with its episodes, a title with its assets."""
        return await self._catalog.title(UUID(str(title_id)))


def main_asset(document: dict[str, Any]) -> str | None:
    """The id of a title document's main asset, if it has one."""
    for asset in document.get("assets") or []:
        if asset.get("role") == "main":
            return str(asset["id"])
    return None


def next_episode(series: dict[str, Any], episode_id: str) -> dict[str, Any] | None:
    """The episode after `episode_id` in the series' order (season, then episode), if any."""
    episodes = series.get("episodes") or []
    ids = [str(e["id"]) for e in episodes]
    if episode_id not in ids:
        return None
    position = ids.index(episode_id)
    return episodes[position + 1] if position + 1 < len(episodes) else None
