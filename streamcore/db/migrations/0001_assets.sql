-- Assets: one uploaded source and the published renditions made from it.
-- The lifecycle (uploaded -> processing -> ready | failed) is enforced by streamcore code;
-- the CHECK keeps a stray UPDATE from inventing a state.
CREATE TABLE assets (
    id                  uuid PRIMARY KEY,
    title               text NOT NULL DEFAULT '',
    status              text NOT NULL
                        CHECK (status IN ('uploading', 'uploaded', 'processing', 'ready', 'failed')),
    progress            smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    error               text,
    source_key          text NOT NULL,
    source_filename     text NOT NULL,
    source_size         bigint,
    source_probe        jsonb,
    renditions          jsonb NOT NULL DEFAULT '[]'::jsonb,
    -- The published version under assets/{id}/v{n}/; 0 until the first publish.
    version             integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    processing_started_at timestamptz,
    ready_at            timestamptz,
    failed_at           timestamptz
);

CREATE INDEX assets_status_idx ON assets (status);
CREATE INDEX assets_created_at_idx ON assets (created_at DESC);
