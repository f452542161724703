-- Interview templates, candidates, interviews, turns, scores and the event log.
-- Candidates are anonymous: a UUID and a scrubbed skills profile, never a name or contact.

CREATE TABLE interview_templates (
    id          uuid PRIMARY KEY,
    slug        text NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    title       text NOT NULL,
    role        text NOT NULL,
    body        jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (slug, version)
);

CREATE TABLE candidates (
    id          uuid PRIMARY KEY,
    profile     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE interviews (
    id               uuid PRIMARY KEY,
    template_id      uuid NOT NULL REFERENCES interview_templates (id),
    candidate_id     uuid NOT NULL REFERENCES candidates (id),
    mode             text NOT NULL CHECK (mode IN ('real', 'practice')),
    state            text NOT NULL DEFAULT 'scheduled',
    window_start     timestamptz,
    window_end       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    ended_at         timestamptz,
    checkpoint       jsonb,
    checkpoint_seq   bigint NOT NULL DEFAULT 0
);
CREATE INDEX interviews_state_idx ON interviews (state, created_at);

CREATE TABLE turns (
    id              uuid PRIMARY KEY,
    interview_id    uuid NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    ordinal         integer NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('question', 'follow_up', 'injected')),
    question_id     text,
    question_text   text NOT NULL,
    answer_text     text,
    asked_at        timestamptz NOT NULL DEFAULT now(),
    answered_at     timestamptz,
    UNIQUE (interview_id, ordinal)
);

CREATE TABLE scores (
    id                      uuid PRIMARY KEY,
    interview_id            uuid NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    turn_id                 uuid NOT NULL REFERENCES turns (id) ON DELETE CASCADE,
    competency              text NOT NULL,
    level                   smallint CHECK (level BETWEEN 1 AND 5),
    score                   real CHECK (score BETWEEN 0 AND 1),
    confidence              real NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    insufficient_evidence   boolean NOT NULL,
    evidence                jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at              timestamptz NOT NULL DEFAULT now(),
    CHECK (insufficient_evidence OR level IS NOT NULL)
);
CREATE INDEX scores_interview_idx ON scores (interview_id);

-- The durable half of the ordered event log (the live half is a Redis Stream).
CREATE TABLE interview_events (
    interview_id  uuid NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    seq           bigint NOT NULL CHECK (seq > 0),
    type          text NOT NULL,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (interview_id, seq)
);
