-- Outbound webhooks (Standard Webhooks): subscriptions and the durable delivery queue, which is
-- also the delivery log. Plus the links between ATS applications and interviews.

CREATE TABLE webhook_subscriptions (
    id           uuid PRIMARY KEY,
    url          text NOT NULL CHECK (url ~* '^https?://'),
    -- `whsec_<base64>` as the spec defines it; needed in clear to sign.
    secret       text NOT NULL CHECK (secret LIKE 'whsec\_%'),
    event_types  text[] NOT NULL CHECK (cardinality(event_types) > 0),
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    -- Sent as `webhook-id`: the same on every retry and replay, so receivers can deduplicate.
    id                uuid PRIMARY KEY,
    subscription_id   uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    -- No foreign key: the delivery log outlives the interviews it reports on.
    interview_id      uuid,
    event_type        text NOT NULL,
    payload           jsonb NOT NULL,
    seq               bigserial NOT NULL UNIQUE,
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts          integer NOT NULL DEFAULT 0,
    -- When pending: the next attempt; while a dispatcher holds it: the end of its lease.
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    -- The claim of the dispatcher sending it now; a result under a stale lease is ignored.
    lease_id          uuid,
    last_status_code  integer,
    last_error        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    delivered_at      timestamptz
);
-- The dispatcher's scan: due pending deliveries in global order.
CREATE INDEX webhook_deliveries_due_idx
    ON webhook_deliveries (next_attempt_at, seq) WHERE status = 'pending';
-- Per-interview order: is an earlier delivery of the same interview still pending?
CREATE INDEX webhook_deliveries_order_idx
    ON webhook_deliveries (subscription_id, interview_id, seq) WHERE status = 'pending';
-- The delivery log, newest first, and replay by time.
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (subscription_id, seq DESC);
-- Each interview event type happens once per interview: enqueueing it again is a no-op.
CREATE UNIQUE INDEX webhook_deliveries_once_idx
    ON webhook_deliveries (subscription_id, interview_id, event_type)
    WHERE interview_id IS NOT NULL;

CREATE TABLE ats_links (
    interview_id         uuid PRIMARY KEY REFERENCES interviews (id) ON DELETE CASCADE,
    ats                  text NOT NULL,
    application_id       text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    scorecard_status     text NOT NULL DEFAULT 'pending'
                         CHECK (scorecard_status IN ('pending', 'posted', 'skipped')),
    scorecard_attempts   integer NOT NULL DEFAULT 0,
    scorecard_retry_at   timestamptz,
    scorecard_error      text,
    scorecard_posted_at  timestamptz,
    UNIQUE (ats, application_id)
);
CREATE INDEX ats_links_scorecards_idx ON ats_links (ats, created_at)
    WHERE scorecard_status = 'pending';
