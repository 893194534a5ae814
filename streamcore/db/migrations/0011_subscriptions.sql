-- The subscriptions service's tables (schema subscriptions, streamcore/db/schemas.py;
-- docs/subscriptions.md): subscriptions and their append-only history, invoices, payment
-- customers, the provider webhooks received, and the local billing adapter's own records.
-- New tables in a new schema only: the previous release runs unchanged against it.

CREATE SCHEMA subscriptions;

-- One per paid subscription of an account. Every change of `state` goes through one
-- compare-and-set UPDATE (... WHERE id = $1 AND state = $from AND version = $v) that also
-- bumps `version`, with the subscription_events row it produced, in one transaction
-- (subscriptions/lifecycle.py).
CREATE TABLE subscriptions.subscriptions (
    id                      uuid PRIMARY KEY,
    account_id              uuid NOT NULL,
    plan                    text NOT NULL,
    state                   text NOT NULL CHECK (state IN
                                ('Active', 'GracePeriod', 'Suspended', 'Cancelled', 'Expired')),
    version                 integer NOT NULL CHECK (version >= 1),
    -- The paid period: renewed at period_end (the due date of the next charge).
    period_start            timestamptz NOT NULL,
    period_end              timestamptz NOT NULL CHECK (period_end > period_start),
    -- A downgrade waits here until the period ends (upgrades apply at once).
    pending_plan            text,
    payment_method          text,
    customer_id             text,
    -- Dunning: failed charges of the unpaid period so far, and when the next one is due.
    retry_count             integer NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
    next_retry_at           timestamptz,
    -- GracePeriod until grace_until, then Suspended until suspended_until, then Expired.
    grace_until             timestamptz,
    suspended_until         timestamptz,
    -- The newest provider event applied (webhooks older than it change nothing).
    last_provider_event_at  timestamptz,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
-- At most one subscription per account that is not over; a new one may start after Expired.
CREATE UNIQUE INDEX subscriptions_one_live_per_account ON subscriptions.subscriptions (account_id)
    WHERE state <> 'Expired';
CREATE INDEX subscriptions_account_idx ON subscriptions.subscriptions (account_id, created_at DESC);
-- The scheduler's reads: what is due in each state.
CREATE INDEX subscriptions_due_idx ON subscriptions.subscriptions (state, period_end)
    WHERE state <> 'Expired';
-- The admin list's order and cursor: newest first.
CREATE INDEX subscriptions_created_idx ON subscriptions.subscriptions (created_at DESC, id DESC);

-- Every transition, appended in the transaction that made it: `seq` is the version it
-- produced, so a subscription's history is seq 1..version without gaps. `key` makes an
-- event idempotent (a charge's id, a webhook's): the same key twice changes nothing.
CREATE TABLE subscriptions.subscription_events (
    subscription_id  uuid NOT NULL REFERENCES subscriptions.subscriptions (id),
    seq              integer NOT NULL CHECK (seq >= 1),
    event            text NOT NULL,
    -- Null for the first event (the subscription's creation).
    from_state       text,
    to_state         text NOT NULL,
    source           text NOT NULL CHECK (source IN ('user', 'scheduler', 'webhook', 'admin')),
    at               timestamptz NOT NULL,
    detail           jsonb NOT NULL DEFAULT '{}'::jsonb,
    key              text,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subscription_id, seq)
);
CREATE UNIQUE INDEX subscription_events_key ON subscriptions.subscription_events
    (subscription_id, key) WHERE key IS NOT NULL;
CREATE INDEX subscription_events_event_idx ON subscriptions.subscription_events (event);

-- Append-only: a row, once written, is neither changed nor deleted.
CREATE FUNCTION subscriptions.subscription_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'subscriptions.subscription_events is append-only';
END;
$$;
CREATE TRIGGER subscription_events_append_only
    BEFORE UPDATE OR DELETE ON subscriptions.subscription_events
    FOR EACH ROW EXECUTE FUNCTION subscriptions.subscription_events_append_only();

-- One per charge attempt (paid or declined), keyed by the charge's idempotency key: a retried
-- charge returns the same charge and so the same invoice.
CREATE TABLE subscriptions.invoices (
    id               uuid PRIMARY KEY,
    subscription_id  uuid NOT NULL REFERENCES subscriptions.subscriptions (id),
    account_id       uuid NOT NULL,
    plan             text NOT NULL,
    amount_minor     bigint NOT NULL CHECK (amount_minor >= 0),
    currency         text NOT NULL,
    period_start     timestamptz NOT NULL,
    period_end       timestamptz NOT NULL,
    status           text NOT NULL CHECK (status IN ('paid', 'failed')),
    provider         text NOT NULL,
    charge_id        text NOT NULL,
    failure_code     text,
    key              text NOT NULL UNIQUE,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoices_account_idx ON subscriptions.invoices (account_id, created_at DESC, id DESC);

-- The provider's customer of each account (created on first use).
CREATE TABLE subscriptions.payment_customers (
    provider     text NOT NULL,
    account_id   uuid NOT NULL,
    customer_id  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, account_id)
);

-- Every provider event received and verified: deduplicated by its id, with what became of it
-- (applied, duplicate, stale, ignored, refused).
CREATE TABLE subscriptions.webhook_events (
    provider     text NOT NULL,
    event_id     text NOT NULL,
    type         text NOT NULL,
    created      timestamptz NOT NULL,
    subscription_id uuid,
    received_at  timestamptz NOT NULL DEFAULT now(),
    outcome      text NOT NULL,
    PRIMARY KEY (provider, event_id)
);

-- The local billing adapter's records (subscriptions/billing/local.py): development and tests
-- only, standing in for a provider's own storage. A charge is kept by its idempotency key.
CREATE TABLE subscriptions.local_customers (
    id          text PRIMARY KEY,
    account_id  uuid NOT NULL UNIQUE,
    email       text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE subscriptions.local_charges (
    idempotency_key  text PRIMARY KEY,
    id               text NOT NULL UNIQUE,
    customer_id      text NOT NULL,
    payment_method   text NOT NULL,
    amount_minor     bigint NOT NULL,
    currency         text NOT NULL,
    paid             boolean NOT NULL,
    failure_code     text,
    failure_message  text,
    metadata         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at       timestamptz NOT NULL DEFAULT now()
);
