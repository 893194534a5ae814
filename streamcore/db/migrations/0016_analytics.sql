-- The analytics service's schema (analytics/, docs/analytics.md): raw playback events,
-- partitioned by day; each playback session's QoE; per-minute rollups; alerts.
CREATE SCHEMA IF NOT EXISTS analytics;

-- Every event once: the processor inserts ON CONFLICT DO NOTHING on (at, id), so a replay of
-- the stream (a processor died before XACK) counts nothing twice. Daily partitions are created
-- by the processor ahead of time (analytics/partitions.py) and dropped after retention_days.
CREATE TABLE analytics.events (
    id uuid NOT NULL,
    at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    session_id text NOT NULL,
    asset_id uuid NOT NULL,
    title_id uuid,
    viewer_id uuid,
    profile_id uuid,
    account_id uuid,
    type text NOT NULL,
    position_s double precision,
    rendition text,
    bitrate_kbps integer,
    detail jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (at, id)
) PARTITION BY RANGE (at);

CREATE INDEX events_session_idx ON analytics.events (session_id, at);

-- Per-minute QoE: one row per (minute, dimension, key), dimension 'all' (key ''), 'title'
-- (key: title id, or the asset id of an asset no title names) or 'rendition' (key: its label,
-- e.g. 720p). Sums and counts, not averages, so that any range of minutes adds up exactly;
-- each rollup run recomputes whole minutes (delete and insert in one transaction).
CREATE TABLE analytics.qoe_minutes (
    bucket timestamptz NOT NULL,
    dimension text NOT NULL CHECK (dimension IN ('all', 'title', 'rendition')),
    key text NOT NULL,
    -- views: sessions that sent `start` in this minute; concurrent: sessions playing in it
    views integer NOT NULL DEFAULT 0,
    concurrent integer NOT NULL DEFAULT 0,
    startups integer NOT NULL DEFAULT 0,
    startup_ms_sum bigint NOT NULL DEFAULT 0,
    startup_failures integer NOT NULL DEFAULT 0,
    exits_before_start integer NOT NULL DEFAULT 0,
    playback_failures integer NOT NULL DEFAULT 0,
    played_ms bigint NOT NULL DEFAULT 0,
    rebuffer_ms bigint NOT NULL DEFAULT 0,
    rebuffer_count integer NOT NULL DEFAULT 0,
    -- time-weighted bitrate: sum of kbit/s x ms played at it; peak: the highest seen
    bitrate_kbps_ms bigint NOT NULL DEFAULT 0,
    peak_bitrate_kbps integer NOT NULL DEFAULT 0,
    switches integer NOT NULL DEFAULT 0,
    completions integer NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, dimension, key)
);

-- One row per playback session (the player's session_id), recomputed by the processor from
-- the session's raw events in the transaction that stores them: processing the same events
-- again writes the same row (analytics/qoe.py has the definitions).
CREATE TABLE analytics.sessions (
    session_id text PRIMARY KEY,
    asset_id uuid NOT NULL,
    title_id uuid,
    viewer_id uuid,
    profile_id uuid,
    account_id uuid,
    -- the session's first `start` (the view), and when it was
    start_id uuid,
    started_at timestamptz,
    first_frame_at timestamptz,
    startup_ms integer,
    last_event_at timestamptz NOT NULL,
    -- a `complete`, or a fatal error: nothing plays after it
    ended_at timestamptz,
    played_ms bigint NOT NULL DEFAULT 0,
    rebuffer_ms bigint NOT NULL DEFAULT 0,
    rebuffer_count integer NOT NULL DEFAULT 0,
    bitrate_kbps_ms bigint NOT NULL DEFAULT 0,
    peak_bitrate_kbps integer NOT NULL DEFAULT 0,
    switches integer NOT NULL DEFAULT 0,
    -- the first fatal error: before the first frame a startup failure, after it a playback one
    fatal_error_id uuid,
    fatal_error_at timestamptz,
    failed_before_start boolean NOT NULL DEFAULT false,
    completed boolean NOT NULL DEFAULT false,
    events integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The live count (GET /v1/analytics/concurrent) reads sessions by their last event.
CREATE INDEX sessions_last_event_idx ON analytics.sessions (last_event_at) WHERE ended_at IS NULL;
