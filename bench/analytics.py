"""Analytics intake and rollups: events/s through the collector (HTTP through the gateway,
batches of 50) and through the processor (draining a queued backlog), beside a plain
pipelined ``XADD`` loop measured in the same run (the ratio is what to compare); and the
rollup's time per million events.

Needs a running stack (it stops and restarts the stack's analytics processor itself):

    streamcore up --detach
    .venv/bin/python bench/analytics.py [--events 50000] [--concurrency 8]
                                        [--rollup-events 1000000]

The rollup part writes rows straight into a partition of ``analytics.events`` (and sessions)
with generate_series, 20 days back (a day of its own), times one rollup over them, then
deletes what it wrote. Settings come from the environment like every command's.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics import keys, partitions, rollups
from analytics.collector import stream_events
from analytics.models import EventBatch
from devstack import control
from streamcore.cache.redis_client import create_redis
from streamcore.db.database import connect, pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings, load_settings

BATCH = 50
SCRATCH = "analytics:bench:baseline"


def _batch(i: int, asset: uuid.UUID, base_ms: int) -> dict[str, object]:
    events = [{"type": "heartbeat", "at": base_ms + k * 10,
               "detail": {"played_ms": 10_000, "bitrate_kbps": 3000, "rendition": "720p"}}
              for k in range(BATCH)]  # fmt: skip
    return {"viewer_id": str(uuid.uuid4()), "session_id": f"bench-{i}", "asset_id": str(asset),
            "events": [{**e, "id": str(uuid.uuid4())} for e in events]}  # fmt: skip


async def baseline(client: aioredis.Redis, batches: list[dict[str, object]]) -> float:
    """Events/s of pipelined XADDs of the same entries, with no HTTP and no validation."""
    now = int(time.time() * 1000)
    prepared = [stream_events(EventBatch.model_validate(b), {}, now, 30) for b in batches]
    started = time.perf_counter()
    for events in prepared:
        async with client.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.xadd(SCRATCH, {keys.FIELD: event.model_dump_json()})
            await pipe.execute()
    elapsed = time.perf_counter() - started
    await client.delete(SCRATCH)
    return len(batches) * BATCH / elapsed


async def collector(settings: Settings, batches: list[dict[str, object]], workers: int) -> float:
    """Events/s through the gateway's POST /v1/events, `workers` posting at once."""
    queue = list(batches)
    url = settings.gateway.entry_url.rstrip("/") + "/v1/events"

    async def post(session: aiohttp.ClientSession) -> None:
        while queue:
            async with session.post(url, json=queue.pop()) as response:
                assert response.status == 202, await response.text()

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(post(session) for _ in range(workers)))
    return len(batches) * BATCH / (time.perf_counter() - started)


async def processor(settings: Settings, client: aioredis.Redis) -> float:
    """Events/s the processor stores, draining the backlog queued while it was stopped: from
    when it is back and healthy (its start-up left out) until the stream is empty."""
    await asyncio.to_thread(control.restart_service, settings, "analytics-processor")
    started, backlog = time.perf_counter(), await client.xlen(keys.STREAM)
    for _ in range(12_000):
        if await client.xlen(keys.STREAM) == 0:
            break
        await asyncio.sleep(0.05)
    return backlog / (time.perf_counter() - started)


async def rollup_per_million(settings: Settings, events: int) -> float:
    """Seconds one rollup takes per million events (generated straight into PostgreSQL)."""
    sessions = max(events // 20, 1)
    day = (datetime.now(UTC) - timedelta(days=20)).replace(hour=1, minute=0, second=0,
                                                            microsecond=0)  # fmt: skip
    conn = await connect(settings, schema=Schema.ANALYTICS)
    async with pool_context(settings, schema=Schema.ANALYTICS, min_size=1, max_size=2) as pool:
        await partitions.ensure(pool, [day.date()])
        try:
            await conn.execute(GENERATE, day, sessions)
            await conn.execute("ANALYZE events")
            started = time.perf_counter()
            written = await rollups.rollup(
                pool, day, day + timedelta(hours=3), now=datetime.now(UTC), idle_s=120
            )
            elapsed = time.perf_counter() - started
        finally:
            await conn.execute("DELETE FROM events WHERE session_id LIKE 'rbench-%'")
            await conn.execute("DELETE FROM sessions WHERE session_id LIKE 'rbench-%'")
            await conn.execute(
                "DELETE FROM qoe_minutes WHERE bucket >= $1 AND bucket < $2",
                day, day + timedelta(hours=3),
            )  # fmt: skip
            await conn.close()
    print(f"rollup: {sessions * 20} events, {written.rows} rows in {elapsed:.2f} s")
    return elapsed * 1_000_000 / (sessions * 20)


# Sessions of 20 events each (start, first frame, 17 heartbeats, complete) over 3 minutes,
# 37 ms apart, on 100 assets; the session rows the processor would have written.
GENERATE = """
WITH s AS (
    SELECT n, $1::timestamptz + n * interval '37 ms' AS t0,
           md5('rbench-asset-' || (n % 100))::uuid AS asset, md5('rbench-start-' || n)::uuid AS sid
    FROM generate_series(0, $2 - 1) AS n
), ins AS (
    INSERT INTO events (id, at, session_id, asset_id, type, rendition, bitrate_kbps, detail)
    SELECT CASE WHEN k = 0 THEN sid ELSE gen_random_uuid() END,
           t0 + CASE k WHEN 0 THEN interval '0' WHEN 1 THEN interval '1 s'
                       ELSE k * interval '10 s' END,
           'rbench-' || n, asset,
           CASE k WHEN 0 THEN 'start' WHEN 1 THEN 'first_frame' WHEN 19 THEN 'complete'
                  ELSE 'heartbeat' END,
           CASE WHEN k BETWEEN 2 AND 18 THEN '720p' END,
           CASE WHEN k BETWEEN 2 AND 18 THEN 3000 END,
           CASE WHEN k BETWEEN 2 AND 18
                THEN '{"played_ms": 10000, "bitrate_kbps": 3000, "rendition": "720p"}'::jsonb
                ELSE '{}'::jsonb END
    FROM s, generate_series(0, 19) AS k
)
INSERT INTO sessions (session_id, asset_id, start_id, started_at, first_frame_at, startup_ms,
                      last_event_at, ended_at, played_ms, bitrate_kbps_ms, peak_bitrate_kbps,
                      completed, events)
SELECT 'rbench-' || n, asset, sid, t0, t0 + interval '1 s', 1000, t0 + interval '190 s',
       t0 + interval '190 s', 170000, 170000 * 3000, 3000, true, 20
FROM s
"""


async def main(events: int, workers: int, rollup_events: int) -> int:
    settings = load_settings()
    client = create_redis(settings)
    asset, base_ms = uuid.uuid4(), int(time.time() * 1000) - 60_000
    batches = [_batch(i, asset, base_ms) for i in range(max(events // BATCH, 1))]
    try:
        xadd = await baseline(client, batches)
        await asyncio.to_thread(control.stop_service, settings, "analytics-processor")
        try:
            http = await collector(settings, batches, workers)
        finally:
            stored = await processor(settings, client)
        print(f"XADD baseline: {xadd:,.0f} events/s")
        print(f"collector (HTTP, batches of {BATCH}, {workers} at once): {http:,.0f} events/s "
              f"= {http / xadd:.2f} x baseline")  # fmt: skip
        print(f"processor (draining the queued backlog): {stored:,.0f} events/s "
              f"= {stored / xadd:.2f} x baseline")  # fmt: skip
        per_million = await rollup_per_million(settings, rollup_events)
        print(f"rollup: {per_million:.2f} s per million events")
    finally:
        await client.aclose()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rollup-events", type=int, default=1_000_000)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.events, args.concurrency, args.rollup_events)))
