"""Every read of watch history (schema ``streaming``), each on ``watch_history_recent_idx``:
(profile_id, last_watched_at DESC, title_id), which a test's EXPLAIN checks."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

HISTORY_COLUMNS = (
    "title_id, series_id, asset_id, position_s, duration_s, completion, first_watched_at, "
    "last_watched_at, times_completed"
)

HISTORY_SQL = f"""
    SELECT {HISTORY_COLUMNS} FROM watch_history
    WHERE profile_id = $1
      AND ($2::timestamptz IS NULL OR (last_watched_at, title_id) < ($2, $3::uuid))
    ORDER BY last_watched_at DESC, title_id DESC
    LIMIT $4
"""
# The latest row of each film and each series (its episodes share one item), then the row's
# rules: not removed since, and started; finished films leave (a finished episode stays, for
# its next episode to take its place).
CONTINUE_SQL = f"""
    SELECT * FROM (
        SELECT DISTINCT ON (coalesce(series_id, title_id)) {HISTORY_COLUMNS}, hidden_at
        FROM watch_history WHERE profile_id = $1
        ORDER BY coalesce(series_id, title_id), last_watched_at DESC
    ) latest
    WHERE (hidden_at IS NULL OR hidden_at < last_watched_at)
      AND completion >= $2 AND (completion <= $3 OR series_id IS NOT NULL)
    ORDER BY last_watched_at DESC
    LIMIT $4
"""


async def history(
    pool: asyncpg.Pool, profile_id: UUID, limit: int,
    after: tuple[datetime, UUID] | None = None,
) -> list[asyncpg.Record]:  # fmt: skip
    """The profile's rows, latest first; `after` is the previous page's last (time, title)."""
    at, title = after if after else (None, None)
    rows: list[asyncpg.Record] = await pool.fetch(HISTORY_SQL, profile_id, at, title, limit)
    return rows


async def continue_watching(
    pool: asyncpg.Pool, profile_id: UUID, low: float, high: float, limit: int
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await pool.fetch(CONTINUE_SQL, profile_id, low, high, limit)
    return rows


async def interactions(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    """Every profile's watches for the batch job, episodes folded into their series: the most
    of each item it saw (a finished title counts as 1), and when it last watched it."""
    rows: list[asyncpg.Record] = await pool.fetch(
        """
        SELECT profile_id, coalesce(series_id, title_id) AS item,
               max(CASE WHEN times_completed > 0 THEN 1 ELSE completion END) AS weight,
               extract(epoch FROM max(last_watched_at))::float8 AS at
        FROM watch_history GROUP BY profile_id, coalesce(series_id, title_id)
        ORDER BY profile_id, item
        """
    )
    return rows


async def recent_items(pool: asyncpg.Pool, profile_id: UUID, limit: int) -> list[asyncpg.Record]:
    """The profile's watches as recommendations use them: latest first, episodes as series."""
    rows: list[asyncpg.Record] = await pool.fetch(
        """
        SELECT coalesce(series_id, title_id) AS item,
               max(CASE WHEN times_completed > 0 THEN 1 ELSE completion END) AS weight,
               extract(epoch FROM max(last_watched_at))::float8 AS at,
               bool_or(times_completed > 0) AS finished
        FROM (SELECT series_id, title_id, completion, times_completed, last_watched_at
              FROM watch_history WHERE profile_id = $1
              ORDER BY last_watched_at DESC LIMIT $2) recent
        GROUP BY coalesce(series_id, title_id)
        ORDER BY at DESC
        """,
        profile_id, limit,
    )  # fmt: skip
    return rows
