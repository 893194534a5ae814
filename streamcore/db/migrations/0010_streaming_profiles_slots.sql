-- Watching as a profile (issue 12): progress, events and sessions belong to a signed-in
-- profile (and its account), or, where auth.allow_anonymous_playback allows it, to an
-- anonymous viewer id as before. The account and profile ids are the auth service's; no
-- foreign key crosses schemas.
--
-- Compatible with the previous release: its rows (viewer_id set) satisfy every new CHECK, and
-- its upsert ON CONFLICT (viewer_id, asset_id) still finds a unique index on those columns.

-- Watch progress: one row per viewer or profile and asset.
ALTER TABLE streaming.watch_progress
    ADD COLUMN profile_id uuid,
    ADD COLUMN account_id uuid;
ALTER TABLE streaming.watch_progress DROP CONSTRAINT watch_progress_pkey;
ALTER TABLE streaming.watch_progress ALTER COLUMN viewer_id DROP NOT NULL;
ALTER TABLE streaming.watch_progress
    ADD CONSTRAINT watch_progress_viewer_asset_key UNIQUE (viewer_id, asset_id),
    ADD CONSTRAINT watch_progress_profile_asset_key UNIQUE (profile_id, asset_id),
    ADD CONSTRAINT watch_progress_one_owner
        CHECK ((viewer_id IS NULL) <> (profile_id IS NULL)),
    ADD CONSTRAINT watch_progress_profile_account
        CHECK ((profile_id IS NULL) = (account_id IS NULL));

-- Playback events: a claimed viewer's events keep their viewer_id (where they came from) and
-- gain the profile that claimed them.
ALTER TABLE streaming.playback_events
    ADD COLUMN profile_id uuid,
    ADD COLUMN account_id uuid,
    ALTER COLUMN viewer_id DROP NOT NULL,
    ADD CONSTRAINT playback_events_some_owner
        CHECK (viewer_id IS NOT NULL OR profile_id IS NOT NULL);
CREATE INDEX playback_events_profile_at_idx ON streaming.playback_events (profile_id, at)
    WHERE profile_id IS NOT NULL;
CREATE INDEX playback_events_viewer_idx ON streaming.playback_events (viewer_id)
    WHERE viewer_id IS NOT NULL;

-- Watch sessions. A signed-in session holds one of its account's stream slots (Redis has the
-- live set, streaming/slots.py); its row is the slot's history: who (account, profile,
-- device = the auth service's device session), on what (user agent), started, last
-- heartbeat, ended and why (ended by its device, stopped from another, expired, revoked).
ALTER TABLE streaming.watch_sessions
    ADD COLUMN account_id uuid,
    ADD COLUMN profile_id uuid,
    ADD COLUMN device_id uuid,
    ADD COLUMN user_agent text,
    ADD COLUMN end_reason text
        CHECK (end_reason IN ('ended', 'stopped', 'expired', 'revoked', 'restricted')),
    ALTER COLUMN viewer_id DROP NOT NULL,
    ADD CONSTRAINT watch_sessions_one_owner
        CHECK ((viewer_id IS NULL) <> (account_id IS NULL));
CREATE INDEX watch_sessions_account_open_idx
    ON streaming.watch_sessions (account_id, heartbeat_at)
    WHERE ended_at IS NULL AND account_id IS NOT NULL;
CREATE INDEX watch_sessions_account_started_idx
    ON streaming.watch_sessions (account_id, started_at)
    WHERE account_id IS NOT NULL;

-- Anonymous viewer ids claimed by a signed-in profile (POST /v1/viewers/{id}/claim): a
-- viewer id is claimed once, by one profile; claiming it again moves what came since.
CREATE TABLE streaming.viewer_claims (
    viewer_id   uuid PRIMARY KEY,
    account_id  uuid NOT NULL,
    profile_id  uuid NOT NULL,
    claimed_at  timestamptz NOT NULL DEFAULT now()
);
