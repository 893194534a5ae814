-- Subscriptions (issue 13) in the catalog: who may play a title. `free` titles play on every
-- plan; `premium` ones only on a plan that includes premium titles (configs/plans.yaml,
-- streamcore/entitlements.py). A new column with a default, so the previous release runs
-- unchanged against this schema. An episode of a premium series is premium whatever its own.
ALTER TABLE catalog.titles ADD COLUMN access text NOT NULL DEFAULT 'free'
    CONSTRAINT titles_access_check CHECK (access IN ('free', 'premium'));
