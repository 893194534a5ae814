-- Entitlements (issue 13) in streaming: a session whose renewal is refused because the
-- account's plan no longer grants the title (Suspended, Expired, a downgrade) ends with the
-- reason `not_entitled` (streaming/entitlement.py). Only a wider CHECK: the previous release,
-- which never writes that reason, runs unchanged against this schema.
ALTER TABLE streaming.watch_sessions
    DROP CONSTRAINT watch_sessions_end_reason_check,
    ADD CONSTRAINT watch_sessions_end_reason_check
        CHECK (end_reason IN ('ended', 'stopped', 'expired', 'revoked', 'restricted',
                              'not_entitled'));
