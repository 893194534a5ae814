"""platform_minutes' writes: one minute's samples, the latest sample of a minute winning."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import asyncpg

Sample = tuple[str, str, float]  # (metric, key, value)


async def record(conn: asyncpg.Connection, bucket: datetime, samples: Iterable[Sample]) -> int:
    rows = [(bucket, metric, key, value) for metric, key, value in samples]
    await conn.executemany(
        "INSERT INTO platform_minutes (bucket, metric, key, value) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (bucket, metric, key) DO UPDATE SET value = EXCLUDED.value",
        rows,
    )
    return len(rows)
