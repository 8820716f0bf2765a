-- Callers: API keys (only a SHA-256 digest of each high-entropy key is kept; the key itself is shown
-- once, when it is created), the caller who asked for each logged decision and each commit, and an
-- index for the decision log's retention. Idempotent: a database adopted from the per-domain
-- migrations (see store/migrate.go) may already hold these.
CREATE TABLE IF NOT EXISTS api_keys (
    id text PRIMARY KEY,
    name text NOT NULL,
    key_sha256 text NOT NULL,
    scopes text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

ALTER TABLE decision_log ADD COLUMN IF NOT EXISTS caller text;
ALTER TABLE commits ADD COLUMN IF NOT EXISTS caller text;

-- Retention deletes the log's oldest records by the time they were recorded.
CREATE INDEX IF NOT EXISTS decision_log_recorded_at_idx ON decision_log (recorded_at);

---- create above / drop below ----

DROP INDEX decision_log_recorded_at_idx;
ALTER TABLE commits DROP COLUMN caller;
ALTER TABLE decision_log DROP COLUMN caller;
DROP TABLE api_keys;
