-- Accounts (issue 12) in the catalog: a title's content certification, and who owns an asset.
-- New nullable columns and indexes only, so the previous release runs unchanged against this
-- schema (it neither reads nor writes them).

-- The content certification (G, PG-13, TV-MA, ...), distinct from the review score `rating`.
-- Which ones exist is configuration (auth.maturity_levels), checked by the API; NULL is none,
-- which counts as the most restricted content. An episode without one has its series'.
ALTER TABLE catalog.titles ADD COLUMN certification text
    CONSTRAINT titles_certification_check CHECK (length(certification) BETWEEN 1 AND 16);

-- The account that uploaded the asset (a creator manages only its own); NULL for assets from
-- before accounts, or uploaded with a service account. No foreign key: accounts are the auth
-- service's, in another schema (services do not share tables).
ALTER TABLE catalog.assets ADD COLUMN owner_account_id uuid;

-- A creator's assets, newest first (GET /v1/assets pages on (created_at, id) descending).
CREATE INDEX assets_owner_created_idx ON catalog.assets (owner_account_id, created_at, id)
    WHERE owner_account_id IS NOT NULL;
