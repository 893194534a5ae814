"""Events from the stream into PostgreSQL, once each, with their sessions' QoE rows.

One transaction per batch: the events are inserted ``ON CONFLICT DO NOTHING`` on (at, id), so
a replayed entry (a processor died before XACK; a player re-sent a batch) adds nothing; then
the row of every session the batch touches is recomputed from all its stored events
(analytics/qoe.py), so it too comes out the same however often its events arrive. Sessions are
locked (advisory, in a fixed order) first, so two processors holding events of one session
take turns and the second recomputes with the first's events in view.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from analytics.details import EventType
from analytics.models import StreamEvent
from analytics.qoe import Event, SessionQoe, session_qoe

Titles = dict[UUID, UUID | None]

# The columns a heartbeat and a rendition switch fill from their detail (for the rollups'
# rendition dimension).
_WITH_RENDITION = {EventType.HEARTBEAT, EventType.RENDITION_SWITCH}

_INSERT = """
INSERT INTO events (id, at, received_at, session_id, asset_id, viewer_id, profile_id,
                    account_id, type, position_s, rendition, bitrate_kbps, detail, title_id)
SELECT i, a, r, s, asset, v, p, acc, t, pos, ren, br, d::jsonb, title
FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::uuid[],
            $6::uuid[], $7::uuid[], $8::uuid[], $9::text[], $10::float8[], $11::text[],
            $12::int[], $13::text[], $14::uuid[])
     AS u(i, a, r, s, asset, v, p, acc, t, pos, ren, br, d, title)
ON CONFLICT DO NOTHING
RETURNING id
"""

_UPSERT_SESSION = """
INSERT INTO sessions (session_id, asset_id, viewer_id, profile_id, account_id, start_id,
    started_at, first_frame_at, startup_ms, last_event_at, ended_at, played_ms, rebuffer_ms,
    rebuffer_count, bitrate_kbps_ms, peak_bitrate_kbps, switches, fatal_error_id,
    fatal_error_at, failed_before_start, completed, events, title_id, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
        $20, $21, $22, $23, now())
ON CONFLICT (session_id) DO UPDATE SET
    title_id = coalesce($23, sessions.title_id),
    start_id = $6, started_at = $7, first_frame_at = $8, startup_ms = $9, last_event_at = $10,
    ended_at = $11, played_ms = $12, rebuffer_ms = $13, rebuffer_count = $14,
    bitrate_kbps_ms = $15, peak_bitrate_kbps = $16, switches = $17, fatal_error_id = $18,
    fatal_error_at = $19, failed_before_start = $20, completed = $21, events = $22,
    updated_at = now()
"""


def _columns(events: Sequence[StreamEvent], titles: Titles) -> list[list[Any]]:
    """The batch as the insert's 14 arrays."""
    rows = []
    for e in events:
        rendition = e.detail.get("rendition") if e.type in _WITH_RENDITION else None
        bitrate = e.detail.get("bitrate_kbps") if e.type in _WITH_RENDITION else None
        rows.append((
            e.id, e.at_time, datetime.fromtimestamp(e.received_at / 1000, UTC), e.session_id,
            e.asset_id, e.viewer_id, e.profile_id, e.account_id, e.type.value, e.position_s,
            rendition, bitrate, json.dumps(e.detail), titles.get(e.asset_id),
        ))  # fmt: skip
    return [list(column) for column in zip(*rows, strict=True)]


async def _recompute(
    conn: asyncpg.Connection, latest: dict[str, StreamEvent], titles: Titles
) -> None:
    """Every session of `latest` recomputed from all its stored events."""
    rows = await conn.fetch(
        "SELECT session_id, id, at, type, detail FROM events WHERE session_id = ANY($1)",
        list(latest),
    )
    by_session: dict[str, list[Event]] = {name: [] for name in latest}
    for row in rows:
        by_session[row["session_id"]].append(
            Event(row["id"], row["at"], EventType(row["type"]), row["detail"])
        )
    await conn.executemany(_UPSERT_SESSION, [
        (*_session_row(latest[name], session_qoe(found)), titles.get(latest[name].asset_id))
        for name, found in by_session.items()
    ])  # fmt: skip


def _session_row(owner: StreamEvent, q: SessionQoe) -> tuple[Any, ...]:
    return (
        owner.session_id, owner.asset_id, owner.viewer_id, owner.profile_id, owner.account_id,
        q.start_id, q.started_at, q.first_frame_at, q.startup_ms, q.last_event_at, q.ended_at,
        q.played_ms, q.rebuffer_ms, q.rebuffer_count, q.bitrate_kbps_ms, q.peak_bitrate_kbps,
        q.switches, q.fatal_error_id, q.fatal_error_at, q.failed_before_start, q.completed,
        q.events,
    )  # fmt: skip


async def store(
    pool: asyncpg.Pool, events: Sequence[StreamEvent], titles: Titles | None = None
) -> int:
    """Insert `events` (their days' partitions must exist) and recompute their sessions, in
    one transaction; how many events were new. `titles`: each asset's title id, where the
    catalog said (analytics/titles.py)."""
    titles = titles or {}
    if not events:
        return 0
    latest = {e.session_id: e for e in events}
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('analytics:session:' || s)) "
            "FROM unnest($1::text[]) AS s ORDER BY s",
            sorted(latest),
        )
        inserted = await conn.fetch(_INSERT, *_columns(events, titles))
        await _recompute(conn, latest, titles)
    return len(inserted)
