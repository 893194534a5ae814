-- Alerts and platform metrics of the analytics service (analytics/alerts/, analytics/platform/,
-- docs/analytics.md, "Alerts").

-- One row per firing of a rule: inserted when it fires, updated once when it resolves.
CREATE TABLE analytics.alerts (
    id bigserial PRIMARY KEY,
    rule text NOT NULL,
    state text NOT NULL CHECK (state IN ('firing', 'resolved')),
    severity text NOT NULL,
    summary text NOT NULL DEFAULT '',
    metric text NOT NULL,
    -- The metric's value in the last evaluated minute when it fired (then when it resolved).
    value double precision,
    threshold double precision NOT NULL,
    service text,
    -- The last closed minute that made it fire (and that made it resolve).
    fired_bucket timestamptz NOT NULL,
    resolved_bucket timestamptz,
    fired_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    CHECK ((state = 'resolved') = (resolved_at IS NOT NULL))
);

-- A rule has at most one firing alert: a second evaluation of the same minute, or a second
-- processor racing the first, inserts nothing ("fires once").
CREATE UNIQUE INDEX alerts_one_firing_idx ON analytics.alerts (rule) WHERE state = 'firing';
CREATE INDEX alerts_fired_at_idx ON analytics.alerts (fired_at DESC);

-- Each transition's webhook delivery: written in the transaction of the transition, marked
-- delivered once the webhook answered 2xx; undelivered ones are retried at each evaluation.
-- (alert_id, status) is unique: one firing and one resolved message per alert, never two.
CREATE TABLE analytics.alert_notifications (
    alert_id bigint NOT NULL REFERENCES analytics.alerts (id) ON DELETE CASCADE,
    status text NOT NULL CHECK (status IN ('firing', 'resolved')),
    created_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    delivered_at timestamptz,
    PRIMARY KEY (alert_id, status)
);

CREATE INDEX alert_notifications_pending_idx ON analytics.alert_notifications (created_at)
    WHERE delivered_at IS NULL;

-- Platform metrics, one value per (minute, metric, key): requests per second and latency per
-- service (key: the service), instance weight and health (key: service/instance), cumulative
-- counters sampled from the services' /metrics (so rates and ratios are deltas between two
-- minutes), subscriptions by state and plan, queue depths and dead letters (key: the queue).
CREATE TABLE analytics.platform_minutes (
    bucket timestamptz NOT NULL,
    metric text NOT NULL,
    key text NOT NULL DEFAULT '',
    value double precision NOT NULL,
    PRIMARY KEY (bucket, metric, key)
);

CREATE INDEX platform_minutes_metric_idx ON analytics.platform_minutes (metric, bucket);
