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
