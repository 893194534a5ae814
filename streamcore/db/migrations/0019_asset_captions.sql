-- Captions and subtitles of an asset (issue 18): one row per language and kind, uploaded as a
-- sidecar (WebVTT or SRT, kept as sent in the uploads bucket) or extracted from the source's
-- own text tracks. The worker publishes every row of an asset as segmented WebVTT into its
-- current version and stamps `published_version`; a row newer than its stamp is waiting for
-- that. Removing an asset removes its rows.
CREATE TABLE catalog.asset_captions (
    asset_id uuid NOT NULL REFERENCES catalog.assets (id) ON DELETE CASCADE,
    language text NOT NULL,
    kind text NOT NULL CONSTRAINT asset_captions_kind_check
        CHECK (kind IN ('subtitles', 'captions')),
    label text NOT NULL,
    origin text NOT NULL CONSTRAINT asset_captions_origin_check
        CHECK (origin IN ('sidecar', 'embedded')),
    format text NOT NULL CONSTRAINT asset_captions_format_check
        CHECK (format IN ('webvtt', 'srt')),
    source_key text NOT NULL,
    cue_count integer NOT NULL,
    revision integer NOT NULL DEFAULT 1,
    published_revision integer,
    published_version integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (asset_id, language, kind)
);
