-- The processing job an asset is waiting for or running. A task whose job id no longer matches
-- (the asset was reprocessed, or deleted) stops quietly; a duplicate delivery of the same job
-- re-enters the same state. attempts counts starts of processing, retries included.
ALTER TABLE assets ADD COLUMN job_id uuid;
ALTER TABLE assets ADD COLUMN attempts integer NOT NULL DEFAULT 0;
ALTER TABLE assets ADD COLUMN content_type text;
