-- Processing jobs that died with their worker (a host crash, an OOM kill) are found by their
-- heartbeat: a running job stamps it every worker.heartbeat_interval_s, from download to
-- publish; the reaper queues again, under a new job id, a job whose heartbeat is older than
-- worker.stall_after_s. A retry waiting for its back-off stamps the time it is due.
-- A new nullable column only, so the previous release runs unchanged against this schema.
ALTER TABLE assets ADD COLUMN heartbeat_at timestamptz;

-- The reaper's scan: only the (few) assets being processed.
CREATE INDEX assets_processing_heartbeat_idx ON assets (heartbeat_at) WHERE status = 'processing';
