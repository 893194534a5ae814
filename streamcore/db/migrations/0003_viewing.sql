-- What a viewer watched, and the published images of an asset.

-- Relative paths of the posters and the storyboard of the published version.
ALTER TABLE assets ADD COLUMN images jsonb NOT NULL DEFAULT '{}'::jsonb;

-- The last position per viewer and asset. Redis holds the hot copy; this table is written
-- when a session pauses for long, ends or is hidden, and periodically while it plays.
CREATE TABLE watch_progress (
    viewer_id   uuid NOT NULL,
    asset_id    uuid NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    position_s  double precision NOT NULL CHECK (position_s >= 0),
    duration_s  double precision CHECK (duration_s >= 0),
    session_id  text,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (viewer_id, asset_id)
);

-- Playback events as the player reports them, in small batches.
CREATE TABLE playback_events (
    id          bigserial PRIMARY KEY,
    viewer_id   uuid NOT NULL,
    session_id  text NOT NULL,
    asset_id    uuid NOT NULL,
    type        text NOT NULL CHECK (type IN ('start', 'pause', 'resume', 'seek',
                  'buffering_start', 'buffering_end', 'rendition_switch', 'error', 'complete')),
    position_s  double precision,
    at          timestamptz NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX playback_events_asset_at_idx ON playback_events (asset_id, at);
CREATE INDEX playback_events_session_idx ON playback_events (session_id);
