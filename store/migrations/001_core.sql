-- Engine tables: the usage ledger that commits append to (read by the ledger.usage provider),
-- the committed answers by idempotency key, and the decision log.
CREATE TABLE ledger_entries (
    decision_id text NOT NULL,
    key text NOT NULL,
    amount numeric NOT NULL,
    decision text NOT NULL,
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
    answer jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (decision, idempotency_key)
);

CREATE TABLE decision_log (
    id text PRIMARY KEY,
    decision text NOT NULL,
    version text NOT NULL,
    as_of timestamptz NOT NULL,
    outcome text NOT NULL,
    envelope jsonb,
    input jsonb,
    facts jsonb,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX decision_log_decision_as_of_idx ON decision_log (decision, as_of);
