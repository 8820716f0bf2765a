-- Engine tables: the usage ledger, committed answers, and the decision log.
CREATE TABLE ledger_entries (
    decision_id text NOT NULL,
    key text NOT NULL,
    amount numeric NOT NULL,
    decision text,
    idempotency_key text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (decision_id, key)
);
CREATE INDEX ledger_entries_key_idx ON ledger_entries (key);

CREATE TABLE commits (
    decision text NOT NULL,
    idempotency_key text NOT NULL,
    request_hash text NOT NULL,
    decision_id text NOT NULL,
    answer jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (decision, idempotency_key)
);

CREATE TABLE decision_log (
    id text PRIMARY KEY,
    decision text NOT NULL,
    version text NOT NULL,
    as_of timestamptz NOT NULL,
    outcome text NOT NULL,
    envelope jsonb NOT NULL,
    input jsonb NOT NULL,
    facts jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX decision_log_decision_as_of_idx ON decision_log (decision, as_of);
CREATE INDEX decision_log_recorded_at_idx ON decision_log (recorded_at);
