"""platform_minutes' reads for the read API."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg


async def series(
    conn: asyncpg.Connection, metrics: Sequence[str], start: datetime, end: datetime
) -> list[asyncpg.Record]:
    """(bucket, metric, key, value) of `metrics` in [start, end], oldest first."""
    return await conn.fetch(
        "SELECT bucket, metric, key, value FROM platform_minutes"
        " WHERE metric = ANY($1::text[]) AND bucket BETWEEN $2 AND $3 ORDER BY bucket",
        list(metrics), start, end,
    )  # fmt: skip


async def latest(
    conn: asyncpg.Connection, metrics: Sequence[str], end: datetime
) -> list[asyncpg.Record]:
    """(metric, key, value) of the latest minute up to `end` that has any of `metrics`."""
    return await conn.fetch(
        "SELECT metric, key, value FROM platform_minutes WHERE metric = ANY($1::text[])"
        " AND bucket = (SELECT max(bucket) FROM platform_minutes"
        "               WHERE metric = ANY($1::text[]) AND bucket <= $2)",
        list(metrics), end,
    )  # fmt: skip
