"""The per-minute QoE rollups: ``analytics.qoe_minutes`` from raw events and session rows.

Each run recomputes whole minutes: in one transaction it deletes the range's rows and inserts
them again from ``analytics.events`` (joined to ``analytics.sessions`` for what only the whole
session knows: its view, startup, first frame, end, first fatal error). So a late or repeated
run writes the same numbers, and a late event lands in its own minute at the next run over it.
The processor's `rollup` job recomputes the last ``rollup_lookback_minutes`` closed minutes;
``POST /v1/analytics/rollups`` any range. Runs take an advisory lock: they never interleave.

Definitions (docs/analytics.md, "QoE"; the same as analytics/qoe.py's per session):
views, startups and their startup time, startup failures and exits before video start are
counted in the minute of the session's first `start`; a playback failure in its fatal error's;
played time, bitrates, rebuffers, switches and completions in their events' minutes; a minute's
`concurrent` is the number of distinct sessions with an event in it at or after their first
frame and not after their end. Dimension `title` is keyed by title id (analytics/titles.py),
or asset id where no title is known; `rendition` counts
what heartbeats and rendition switches carry (played time, bitrates, switches, concurrent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from streamcore import notify
from streamcore.settings import Settings

MINUTE = timedelta(minutes=1)

_FACTS = """
WITH facts AS (
    SELECT date_bin('1 minute', e.at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket,
           e.session_id, coalesce(e.title_id, e.asset_id)::text AS title_key, e.rendition,
           e.type, e.bitrate_kbps, s.startup_ms, s.failed_before_start,
           e.id = s.start_id AS is_view,
           s.first_frame_at IS NULL AND s.fatal_error_id IS NULL
               AND s.last_event_at < $3 AS idle_without_start,
           e.type = 'error' AND e.id = s.fatal_error_id AND NOT s.failed_before_start
               AS playback_failure,
           s.first_frame_at IS NOT NULL AND e.at >= s.first_frame_at
               AND (s.ended_at IS NULL OR e.at <= s.ended_at) AS playing,
           CASE WHEN e.type = 'heartbeat' THEN (e.detail->>'played_ms')::bigint END AS played,
           CASE WHEN e.type = 'buffering_end' AND s.first_frame_at IS NOT NULL
                     AND e.at > s.first_frame_at
                     AND coalesce(e.detail->>'cause', '') <> 'seek'
                THEN (e.detail->>'duration_ms')::bigint END AS rebuffer,
           e.type = 'rendition_switch' AND e.detail->>'reason' = 'abr' AS abr_switch
    FROM events e JOIN sessions s USING (session_id)
    WHERE e.at >= $1 AND e.at < $2
)
"""

_INSERT = (
    _FACTS
    + """
INSERT INTO qoe_minutes (bucket, dimension, key, views, concurrent, startups, startup_ms_sum,
    startup_failures, exits_before_start, playback_failures, played_ms, rebuffer_ms,
    rebuffer_count, bitrate_kbps_ms, peak_bitrate_kbps, switches, completions)
SELECT bucket,
       CASE WHEN grouping(title_key) = 0 THEN 'title'
            WHEN grouping(rendition) = 0 THEN 'rendition' ELSE 'all' END,
       CASE WHEN grouping(title_key) = 0 THEN title_key
            WHEN grouping(rendition) = 0 THEN rendition ELSE '' END,
       count(*) FILTER (WHERE is_view),
       count(DISTINCT session_id) FILTER (WHERE playing),
       count(*) FILTER (WHERE is_view AND startup_ms IS NOT NULL),
       coalesce(sum(startup_ms) FILTER (WHERE is_view), 0),
       count(*) FILTER (WHERE is_view AND failed_before_start),
       count(*) FILTER (WHERE is_view AND idle_without_start),
       count(*) FILTER (WHERE playback_failure),
       coalesce(sum(played), 0),
       coalesce(sum(rebuffer), 0),
       count(rebuffer),
       coalesce(sum(played * bitrate_kbps), 0),
       coalesce(max(bitrate_kbps) FILTER (WHERE type = 'heartbeat'), 0),
       count(*) FILTER (WHERE abr_switch),
       count(DISTINCT session_id) FILTER (WHERE type = 'complete')
FROM facts
GROUP BY GROUPING SETS ((bucket), (bucket, title_key), (bucket, rendition))
HAVING grouping(rendition) = 1 OR rendition IS NOT NULL
"""
)


@dataclass(frozen=True)
class Written:
    since: datetime
    until: datetime
    minutes: int
    rows: int


def floor_minute(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return at.replace(second=0, microsecond=0)


def ceil_minute(at: datetime) -> datetime:
    floored = floor_minute(at)
    return floored if floored == at else floored + MINUTE


async def rollup(
    pool: asyncpg.Pool, since: datetime, until: datetime, *, now: datetime, idle_s: float
) -> Written:
    """Recompute every minute that [since, until) touches; sessions idle since before
    `now - idle_s` without a first frame count as exits before video start."""
    start, end = floor_minute(since), ceil_minute(until)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('analytics:rollup'))")
        await conn.execute("DELETE FROM qoe_minutes WHERE bucket >= $1 AND bucket < $2", start, end)
        status = await conn.execute(_INSERT, start, end, now - timedelta(seconds=idle_s))
    return Written(start, end, int((end - start) / MINUTE), int(status.split()[-1]))


async def recent(pool: asyncpg.Pool, settings: Settings, now: datetime) -> Written:
    """The processor's run: the last `rollup_lookback_minutes` closed minutes."""
    section = settings.analytics
    end = floor_minute(now)
    start = end - section.rollup_lookback_minutes * MINUTE
    return await rollup(pool, start, end, now=now, idle_s=section.session_idle_s)


async def announce(publish: notify.Publish, written: Written) -> None:
    """Tell the admins' live feed (the dashboard) which minutes were just written; best
    effort, like every live notice (the tables are the record)."""
    await publish(notify.ALERTS, "rollup", {
        "since": written.since.isoformat(), "until": written.until.isoformat(),
        "minutes": written.minutes, "rows": written.rows,
    })  # fmt: skip
