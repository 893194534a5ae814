"""The read API's SQL (schema analytics) and the figures it derives from the rollups' sums.

`qoe_minutes` keeps sums and counts only; ratios are computed here, at read time, so that any
range of minutes adds up exactly (an average of averages would not).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from analytics import qoe_formulas as f
from analytics.models import Dimension
from analytics.rollups import floor_minute

_SUMS = (
    "views", "startups", "startup_ms_sum", "startup_failures", "exits_before_start",
    "playback_failures", "played_ms", "rebuffer_ms", "rebuffer_count", "bitrate_kbps_ms",
    "switches", "completions",
)  # fmt: skip


def _ratio(part: float, whole: float, scale: float = 1.0) -> float | None:
    """part / whole x scale, rounded to 3 places; None where whole is 0 (undefined)."""
    return round(part * scale / whole, 3) if whole else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def figures(row: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's figures from one minute's (or a range's) sums."""
    played, rebuffer, views = row["played_ms"], row["rebuffer_ms"], row["views"]
    return {
        "views": views,
        "concurrent": row["concurrent"],
        "video_startup_time_ms": _ratio(row["startup_ms_sum"], row["startups"]),
        "exits_before_video_start": row["exits_before_start"],
        "video_startup_failure_percentage": _rounded(
            f.start_failure_percentage(row["startup_failures"], views)
        ),
        "rebuffer_percentage": _rounded(f.rebuffer_percentage(played, rebuffer)),
        "rebuffer_frequency_per_min": _ratio(row["rebuffer_count"], played, 60_000),
        "average_bitrate_kbps": _ratio(row["bitrate_kbps_ms"], played),
        "peak_bitrate_kbps": row["peak_bitrate_kbps"] or None,
        "bitrate_switches": row["switches"],
        "playback_failure_percentage": _rounded(
            f.playback_failure_percentage(row["playback_failures"], views)
        ),
        "played_ms": played,
        "completions": row["completions"],
    }


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A range's figures: sums added up; concurrent and peak bitrate are the range's highest."""
    summed: dict[str, Any] = {name: sum(r[name] for r in rows) for name in _SUMS}
    summed["concurrent"] = max((r["concurrent"] for r in rows), default=0)
    summed["peak_bitrate_kbps"] = max((r["peak_bitrate_kbps"] for r in rows), default=0)
    return figures(summed)


async def minutes(
    pool: asyncpg.Pool, dimension: Dimension, key: str, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        """
        SELECT * FROM qoe_minutes
        WHERE dimension = $1 AND key = $2 AND bucket >= $3
              AND bucket < $4
        ORDER BY bucket
        """,
        dimension.value, key, floor_minute(since), until,
    )  # fmt: skip
    return [dict(row) for row in rows]


async def top(
    pool: asyncpg.Pool, since: datetime, until: datetime, limit: int
) -> list[dict[str, Any]]:
    """The titles with the most views in the range (then the most played time)."""
    rows = await pool.fetch(
        """
        SELECT key, sum(views)::bigint AS views, sum(played_ms)::bigint AS played_ms
        FROM qoe_minutes
        WHERE dimension = 'title' AND bucket >= $1
              AND bucket < $2
        GROUP BY key HAVING sum(views) > 0 OR sum(played_ms) > 0
        ORDER BY views DESC, played_ms DESC, key LIMIT $3
        """,
        floor_minute(since), until, limit,
    )  # fmt: skip
    return [dict(row) for row in rows]


async def title_minutes(
    pool: asyncpg.Pool, keys: list[str], since: datetime, until: datetime
) -> list[asyncpg.Record]:
    return list(await pool.fetch(
        """
        SELECT bucket, key, views, played_ms FROM qoe_minutes
        WHERE dimension = 'title' AND key = ANY($1)
              AND bucket >= $2 AND bucket < $3
        ORDER BY bucket, key
        """,
        keys, floor_minute(since), until,
    ))  # fmt: skip


async def concurrent_now(pool: asyncpg.Pool, window_s: float) -> tuple[int, datetime]:
    """Sessions playing now: past their first frame, not ended, an event within `window_s`."""
    row = await pool.fetchrow(
        """
        SELECT count(*) AS n, now() AS at FROM sessions
        WHERE ended_at IS NULL AND first_frame_at IS NOT NULL
              AND last_event_at > now() - make_interval(secs => $1)
        """,
        window_s,
    )
    assert row is not None
    return int(row["n"]), row["at"]


async def session(pool: asyncpg.Pool, session_id: str) -> dict[str, Any] | None:
    row = await pool.fetchrow("SELECT * FROM sessions WHERE session_id = $1", session_id)
    return dict(row) if row is not None else None
