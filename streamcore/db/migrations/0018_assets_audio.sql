-- Every audio language of a source (issue 18). `audio`: the published audio renditions
-- (name, language, label, channels, default, ...), as the packager measured them; written
-- with the rest of a version by `finish`. `audio_languages`: the languages the uploader gave,
-- one per source audio track in its order ('' keeps that track's own tag), which the worker
-- applies over the source's tags. New columns with defaults: the previous release runs
-- unchanged against this schema.
ALTER TABLE catalog.assets
    ADD COLUMN audio jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN audio_languages text[] NOT NULL DEFAULT '{}';
