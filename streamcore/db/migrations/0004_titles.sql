-- The catalog: titles (movies, series and their episodes) and the assets that play them.
-- New tables only, so the previous release runs unchanged against this schema.

-- Trigram indexes for `q` (ILIKE '%...%' on the title). pg_trgm is a trusted extension: a
-- database owner may create it without superuser rights.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE titles (
    id              uuid PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('movie', 'series', 'episode')),
    -- Episodes belong to a series (checked to be of kind 'series' by the API); deleting a
    -- series deletes its episodes.
    series_id       uuid REFERENCES titles (id) ON DELETE CASCADE,
    season_number   integer CHECK (season_number BETWEEN 0 AND 1000),
    episode_number  integer CHECK (episode_number BETWEEN 0 AND 100000),
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    description     text NOT NULL DEFAULT '',
    genres          text[] NOT NULL DEFAULT '{}',
    year            integer CHECK (year BETWEEN 1870 AND 2200),
    runtime_min     integer CHECK (runtime_min BETWEEN 1 AND 2000),
    rating          numeric(3, 1) CHECK (rating BETWEEN 0 AND 10),
    -- TMDB numbers movies, TV series and TV episodes separately: an id is unique per kind.
    tmdb_id         integer CHECK (tmdb_id > 0),
    -- URL paths (= "/" + media-bucket key) of the title's own images, under a folder named by
    -- the content's hash, so that a path never changes bytes: /titles/{id}/{sha12}/poster.jpg
    poster_path     text,
    thumbnail_path  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT titles_episode_has_series CHECK ((kind = 'episode') = (series_id IS NOT NULL)),
    CONSTRAINT titles_only_episodes_numbered
        CHECK (kind = 'episode' OR (season_number IS NULL AND episode_number IS NULL)),
    CONSTRAINT titles_tmdb_id_key UNIQUE (tmdb_id, kind),
    CONSTRAINT titles_episode_number_key UNIQUE (series_id, season_number, episode_number)
);

-- Filters: text search on the title (trigrams serve ILIKE '%q%'), genres (@>), year (=).
-- tmdb_id (=) is served by the unique index above, whose leading column it is.
-- fastupdate off: GIN's pending list makes inserts cheaper, but every search reads the whole
-- list until a vacuum merges it (after a bulk import, the whole index: searches then cost a
-- sequential scan). The catalog is read far more than it is written.
CREATE INDEX titles_title_trgm_idx ON titles USING gin (title gin_trgm_ops)
    WITH (fastupdate = off);
CREATE INDEX titles_genres_idx ON titles USING gin (genres) WITH (fastupdate = off);
CREATE INDEX titles_year_idx ON titles (year);

-- Keyset pagination: one index per sort key, ending with the id that breaks ties. A btree is
-- read backwards for the descending sorts. Missing years and ratings sort as 0 and -1, so that
-- the keys are never NULL (a row comparison with a NULL matches nothing).
CREATE INDEX titles_sort_title_idx ON titles (lower(title), id);
CREATE INDEX titles_sort_year_idx ON titles ((coalesce(year, 0)), id);
CREATE INDEX titles_sort_rating_idx ON titles ((coalesce(rating, -1)), id);
CREATE INDEX titles_sort_created_idx ON titles (created_at, id);

-- The assets that play a title: its main video, trailers, extras.
CREATE TABLE title_assets (
    title_id    uuid NOT NULL REFERENCES titles (id) ON DELETE CASCADE,
    asset_id    uuid NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('main', 'trailer', 'extra')),
    position    integer NOT NULL DEFAULT 0 CHECK (position BETWEEN 0 AND 10000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (title_id, asset_id)
);
-- At most one main asset per title (its poster stands in for a title without one).
CREATE UNIQUE INDEX title_assets_one_main_idx ON title_assets (title_id) WHERE role = 'main';
-- Deleting an asset finds its links.
CREATE INDEX title_assets_asset_idx ON title_assets (asset_id);
