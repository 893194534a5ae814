"""Playback events as the player reports them, stored in batches (`playback_events`)."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from catalog_api.viewing.models import EventBatch


async def record(pool: asyncpg.Pool, batch: EventBatch) -> int:
    """Store every event of the batch in one statement; how many were stored."""
    rows = [
        (batch.viewer_id, batch.session_id, batch.asset_id, event.type.value, event.position_s,
         datetime.fromtimestamp(event.at / 1000, UTC), event.detail)
        for event in batch.events
    ]  # fmt: skip
    await pool.executemany(
        """
        INSERT INTO playback_events (viewer_id, session_id, asset_id, type, position_s, at, detail)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        rows,
    )
    return len(rows)
