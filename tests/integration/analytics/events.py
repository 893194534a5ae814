"""Helpers of the analytics tests: event batches as the player sends them, and waiting for the
stack's processor to have stored them."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from streamcore.db.database import connect
from streamcore.db.schemas import Schema
from streamcore.settings import Settings


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def event(kind: str, at: datetime, **detail: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "type": kind, "at": ms(at), "detail": detail}


def heartbeat(at: datetime, played_ms: int, kbps: int, rendition: str) -> dict[str, Any]:
    return event("heartbeat", at, played_ms=played_ms, bitrate_kbps=kbps, rendition=rendition)


def batch(
    session: str, asset: uuid.UUID, events: list[dict[str, Any]], **more: Any
) -> dict[str, Any]:
    return {"viewer_id": str(uuid.uuid4()), "session_id": session, "asset_id": str(asset),
            "events": events, **more}  # fmt: skip


def live_session(session: str, asset: uuid.UUID) -> dict[str, Any]:
    """A session playing now: started, first frame, a heartbeat."""
    now = datetime.now(UTC)
    return batch(session, asset, [
        event("start", now - timedelta(seconds=12)),
        event("first_frame", now - timedelta(seconds=11)),
        heartbeat(now, 10_000, 2500, "720p"),
    ])  # fmt: skip


async def stored(stack: Settings, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await connect(stack, schema=Schema.ANALYTICS)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def wait_for_events(
    stack: Settings, sessions: list[str], count: int, timeout_s: float = 60
) -> None:
    """Until the sessions' stored events number `count` (the processor is asynchronous)."""
    deadline = time.monotonic() + timeout_s
    found = -1
    while time.monotonic() < deadline:
        rows = await stored(
            stack, "SELECT count(*) AS n FROM events WHERE session_id = ANY($1)", sessions
        )
        found = rows[0]["n"]
        if found >= count:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"{found} of {count} events stored after {timeout_s} s")
