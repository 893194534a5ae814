-- One schema per service (streamcore/db/schemas.py): each service's pools set search_path to
-- its own schema only, so that no service reads another's tables; they talk over HTTP.
-- schema_migrations stays in public, outside every service.
--
-- Not compatible with the previous release, whose pools look for these tables in public: the
-- services of this release are deployed together with it (stop, migrate, start).

CREATE SCHEMA catalog;
CREATE SCHEMA streaming;

-- The catalog's: assets (with their processing jobs, 0002, and heartbeats, 0006), titles and
-- the links between them. Indexes, constraints and owned sequences move with their tables;
-- the pg_trgm extension stays in public (its operator classes are bound to the indexes).
ALTER TABLE assets SET SCHEMA catalog;
ALTER TABLE titles SET SCHEMA catalog;
ALTER TABLE title_assets SET SCHEMA catalog;

-- The streaming service's. Watch progress no longer references the catalog's assets: a
-- foreign key across services would tie their tables together. The rows of a deleted asset
-- stay behind, unread: playing it again fails at the catalog first.
ALTER TABLE watch_progress DROP CONSTRAINT watch_progress_asset_id_fkey;
ALTER TABLE watch_progress SET SCHEMA streaming;
ALTER TABLE playback_events SET SCHEMA streaming;

-- Watch sessions (the Session Manager): one per playback a viewer starts. A session is active
-- until it is ended (ended_at) or goes without a heartbeat for streaming.session_timeout_s.
CREATE TABLE streaming.watch_sessions (
    id            uuid PRIMARY KEY,
    viewer_id     uuid NOT NULL,
    asset_id      uuid NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    position_s    double precision CHECK (position_s >= 0),
    ended_at      timestamptz
);
-- A viewer's active sessions: the open ones, by their last heartbeat.
CREATE INDEX watch_sessions_viewer_open_idx ON streaming.watch_sessions (viewer_id, heartbeat_at)
    WHERE ended_at IS NULL;
