"""Events through the gateway's collector, queued in Redis while the processor is stopped, and
stored exactly once when it is back: a batch posted twice, and entries a dead consumer read
and never acknowledged (taken over with XAUTOCLAIM), count nothing twice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from analytics import keys
from analytics.processor import consumer
from devstack import control
from streamcore.cache.redis_client import create_redis
from streamcore.settings import Settings
from tests.integration.analytics.events import batch, event, heartbeat, stored, wait_for_events

pytestmark = pytest.mark.stack


def _batches(asset: uuid.UUID) -> list[dict[str, object]]:
    base = datetime.now(UTC) - timedelta(minutes=10)
    found = []
    for i in range(5):
        start = base + timedelta(seconds=i)
        found.append(batch(f"intake-{uuid.uuid4().hex[:10]}", asset, [
            event("start", start, engine="hls", autoplay=True),
            event("first_frame", start + timedelta(milliseconds=800)),
            heartbeat(start + timedelta(seconds=10), 9_200, 2500, "720p"),
            # An old player's event: no id, derived from the session, type, time, position.
            {"type": "pause", "at": int((start + timedelta(seconds=11)).timestamp() * 1000),
             "position_s": 10.0},
        ]))  # fmt: skip
    return found


async def test_events_wait_in_the_stream_and_are_stored_once(stack: Settings) -> None:
    asset = uuid.uuid4()
    batches = _batches(asset)
    sessions = [str(b["session_id"]) for b in batches]
    client = create_redis(stack)
    await asyncio.to_thread(control.stop_service, stack, "analytics-processor")
    try:
        async with httpx.AsyncClient(base_url=stack.gateway.entry_url) as http:
            for body in [*batches, batches[0]]:  # the first batch twice (a player's retry)
                response = await http.post("/v1/events", json=body)
                assert response.status_code == 202, response.text
                assert response.json() == {"accepted": 4}
        assert await client.xlen(keys.STREAM) >= 24
        assert not await stored(stack, "SELECT 1 FROM events WHERE session_id = ANY($1)", sessions)
        # A consumer reads some entries and dies before acknowledging them.
        await consumer.ensure_group(client)
        read = await client.xreadgroup(keys.GROUP, "dead-consumer", {keys.STREAM: ">"}, count=8)
        assert sum(len(entries) for _, entries in read) == 8
    finally:
        await asyncio.to_thread(control.restart_service, stack, "analytics-processor")

    await wait_for_events(stack, sessions, 20)
    # The dead consumer's entries are taken over after claim_after_s and acknowledged too.
    for _ in range(100):
        pending = await client.xpending(keys.STREAM, keys.GROUP)
        if pending["pending"] == 0:
            break
        await asyncio.sleep(0.2)
    assert pending["pending"] == 0
    rows = await stored(
        stack, "SELECT session_id, count(*) AS n, count(DISTINCT id) AS ids FROM events "
        "WHERE session_id = ANY($1) GROUP BY session_id", sessions,
    )  # fmt: skip
    assert sorted((r["session_id"], r["n"], r["ids"]) for r in rows) == sorted(
        (s, 4, 4) for s in sessions
    )
    one = (await stored(stack, "SELECT * FROM sessions WHERE session_id = $1", sessions[0]))[0]
    assert (one["events"], one["startup_ms"], one["played_ms"]) == (4, 800, 9_200)
    await client.aclose()
