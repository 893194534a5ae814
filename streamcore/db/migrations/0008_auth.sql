-- The auth service's tables (schema auth, streamcore/db/schemas.py; docs/auth.md): accounts,
-- their profiles, device sessions with their refresh tokens, failed sign-ins and the audit log.
-- New tables in a new schema only: the previous release runs unchanged against it.

CREATE SCHEMA auth;

-- One per person. `email` is stored normalised by the service (NFKC, trimmed, lower-case:
-- auth/models.py), so the unique index is on what makes two spellings the same address.
CREATE TABLE auth.accounts (
    id             uuid PRIMARY KEY,
    email          text NOT NULL CHECK (email <> '' AND email = btrim(email)),
    display_name   text NOT NULL,
    role           text NOT NULL CHECK (role IN ('viewer', 'creator', 'admin')),
    -- Null: auth.default_tier (the subscription plans set it later).
    tier           text,
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_email_key ON auth.accounts (email);
-- The admin list's order and cursor: newest first.
CREATE INDEX accounts_created_idx ON auth.accounts (created_at DESC, id DESC);

-- Who is watching: up to auth.max_profiles per account (checked by the service).
CREATE TABLE auth.profiles (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES auth.accounts (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name <> ''),
    maturity    text NOT NULL,
    language    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX profiles_account_idx ON auth.profiles (account_id, created_at, id);

-- One per sign-in (a device): the `sid` of its access tokens and the family of its refresh
-- tokens. Signed out (by the user, another device, or a reused refresh token) for good.
CREATE TABLE auth.device_sessions (
    id             uuid PRIMARY KEY,
    account_id     uuid NOT NULL REFERENCES auth.accounts (id) ON DELETE CASCADE,
    -- The profile its tokens are for (the last one selected); null once that profile is gone.
    profile_id     uuid REFERENCES auth.profiles (id) ON DELETE SET NULL,
    name           text NOT NULL,
    user_agent     text,
    ip             text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    signed_out_at  timestamptz,
    -- logout, signed_out, signed_out_others, refresh_reused
    signed_out_reason text
);
CREATE INDEX device_sessions_account_open_idx ON auth.device_sessions (account_id, created_at)
    WHERE signed_out_at IS NULL;

-- Opaque refresh tokens, stored as their SHA-256 only. Each use rotates the token: it gets a
-- `rotated_at` and a successor in the same family (device session).
CREATE TABLE auth.refresh_tokens (
    token_hash   bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    session_id   uuid NOT NULL REFERENCES auth.device_sessions (id) ON DELETE CASCADE,
    -- The token this one was rotated from (null for the family's first).
    parent_hash  bytea,
    issued_at    timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    rotated_at   timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON auth.refresh_tokens (session_id);

-- Every failed sign-in, as recorded evidence (throttling itself is in Redis).
CREATE TABLE auth.login_failures (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    email       text NOT NULL,
    account_id  uuid,
    ip          text,
    -- invalid_credentials or too_many_attempts
    reason      text NOT NULL
);
CREATE INDEX login_failures_email_idx ON auth.login_failures (email, at);

-- Security events from every service (streamcore/auth/audit.py), appended by the auth
-- service's consumer of the Redis stream; the event id makes a redelivered event a no-op.
-- No foreign keys: the record outlives what it names.
CREATE TABLE auth.audit_events (
    id           uuid PRIMARY KEY,
    at           timestamptz NOT NULL,
    kind         text NOT NULL,
    actor        text NOT NULL,
    account_id   uuid,
    profile_id   uuid,
    session_id   uuid,
    ip           text,
    detail       jsonb NOT NULL DEFAULT '{}'::jsonb,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_at_idx ON auth.audit_events (at DESC, id DESC);
CREATE INDEX audit_events_account_idx ON auth.audit_events (account_id, at DESC, id DESC);
CREATE INDEX audit_events_kind_idx ON auth.audit_events (kind, at DESC, id DESC);

-- Append-only: a row, once written, is neither changed nor deleted.
CREATE FUNCTION auth.audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'auth.audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON auth.audit_events
    FOR EACH ROW EXECUTE FUNCTION auth.audit_events_append_only();
