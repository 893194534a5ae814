-- Watch history and recommendations (issue 15), in the streaming service's schema
-- (docs/history.md, docs/recommendations.md).

-- One row per (profile, title): a film or an episode, as a profile watched it. Written by the
-- progress flusher (streaming/history/flusher.py) from progress reports, by the end of a
-- session, and by imports; an upsert never moves a row backwards in time: a report whose
-- client timestamp is not newer than last_watched_at changes nothing.
CREATE TABLE streaming.watch_history (
    profile_id        uuid NOT NULL,
    title_id          uuid NOT NULL,
    -- An episode's series: Continue Watching keeps one item per series, and offers the next
    -- episode once one is finished.
    series_id         uuid,
    -- The asset last played (the title's main asset then); null for imported history.
    asset_id          uuid,
    position_s        double precision NOT NULL CHECK (position_s >= 0),
    duration_s        double precision CHECK (duration_s >= 0),
    completion        double precision NOT NULL CHECK (completion BETWEEN 0 AND 1),
    first_watched_at  timestamptz NOT NULL,
    last_watched_at   timestamptz NOT NULL,
    times_completed   integer NOT NULL DEFAULT 0 CHECK (times_completed >= 0),
    -- Removed from Continue Watching at this moment: hidden until watched again after it.
    hidden_at         timestamptz,
    PRIMARY KEY (profile_id, title_id)
);
-- A profile's history, latest first, and its Continue Watching row (the same order, the
-- thresholds applied to the included columns without visiting the heap).
CREATE INDEX watch_history_recent_idx ON streaming.watch_history
    (profile_id, last_watched_at DESC, title_id) INCLUDE (completion, series_id, hidden_at);

-- The batch job's neighbour lists (streaming/recommendations/batch.py), rebuilt whole in one
-- transaction: `kind` is content (title features) or collaborative (item-based, on history).
CREATE TABLE streaming.title_neighbours (
    kind         text NOT NULL CHECK (kind IN ('content', 'collaborative')),
    title_id     uuid NOT NULL,
    rank         integer NOT NULL CHECK (rank >= 0),
    neighbour_id uuid NOT NULL,
    similarity   double precision NOT NULL,
    PRIMARY KEY (kind, title_id, rank)
);

-- What each rebuild did: when, on how much, and its output's digest (a fixed input gives the
-- same digest: the job is deterministic).
CREATE TABLE streaming.recommendation_builds (
    id            bigserial PRIMARY KEY,
    built_at      timestamptz NOT NULL DEFAULT now(),
    titles        integer NOT NULL,
    profiles      integer NOT NULL,
    interactions  integer NOT NULL,
    neighbours    integer NOT NULL,
    digest        text NOT NULL,
    seconds       double precision NOT NULL
);
