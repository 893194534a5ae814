"""The Continue Watching row, as the big services behave:

- titles watched past ``history.continue_min`` and not past ``history.continue_max`` of their
  duration, the most recently watched first;
- one item per series: its latest episode, or, once that episode is finished, the series'
  next one in its place (from the start); after the last episode the series leaves the row;
- a finished film leaves the row (watching it again brings it back);
- a removed item (DELETE …/continue-watching/{title}) stays away until watched again;
- only titles within the profile's maturity level; premium ones marked locked when the plan
  does not include them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from aiohttp import web

from streamcore.web.service import SETTINGS_KEY
from streaming.history import queries
from streaming.history.shown import entitlement_of, presented, visible
from streaming.history.whose import Reader
from streaming.resources import DB_POOL_KEY, TITLES_KEY
from streaming.titles import main_asset, next_episode


def _iso(value: datetime) -> str:
    return value.isoformat()


async def _item(app: web.Application, row: asyncpg.Record) -> dict[str, Any] | None:
    """The row's item: what it shows, and where to resume; None if there is nothing to show."""
    directory, high = app[TITLES_KEY], app[SETTINGS_KEY].history.continue_max
    base = {"last_watched_at": _iso(row["last_watched_at"])}
    if row["series_id"] is not None and row["completion"] > high:
        series = await directory.document(row["series_id"])
        upcoming = next_episode(series, str(row["title_id"])) if series else None
        if upcoming is None:
            return None
        episode = await directory.document(upcoming["id"])
        if episode is None:
            return None
        return {
            **base, "title": episode, "asset_id": main_asset(episode), "position_s": 0.0,
            "duration_s": None, "completion": 0.0, "next_episode": True,
        }  # fmt: skip
    title = await directory.get(row["title_id"])
    if title is None:  # deleted from the catalog since
        return None
    asset = row["asset_id"]
    if asset is None:  # imported history: the title's main asset now
        asset = main_asset(await directory.document(row["title_id"]) or {})
    return {
        **base, "title": title, "asset_id": str(asset) if asset else None,
        "position_s": row["position_s"], "duration_s": row["duration_s"],
        "completion": row["completion"], "next_episode": False,
    }  # fmt: skip


async def row(app: web.Application, reader: Reader, limit: int) -> list[dict[str, Any]]:
    section = app[SETTINGS_KEY].history
    # A few more than asked: some may be gone from the catalog, or above the maturity level.
    rows = await queries.continue_watching(
        app[DB_POOL_KEY], reader.profile_id, section.continue_min, section.continue_max,
        limit + 10,
    )  # fmt: skip
    entitlement = await entitlement_of(app, reader.account_id)
    items: list[dict[str, Any]] = []
    for found in rows:
        item = await _item(app, found)
        if item is None or not visible(app, reader.maturity, item["title"]):
            continue
        series = found["series_id"]
        item["title"] = presented(item["title"], entitlement)
        item["remove"] = (
            f"/v1/profiles/{reader.profile_id}/continue-watching/{series or found['title_id']}"
        )
        items.append(item)
        if len(items) == limit:
            break
    return items
