-- The decision log, partitioned by month of recorded_at (UTC): retention drops a whole month at a
-- time instead of deleting rows, and a replay or an export reads the months in order. The primary key
-- includes recorded_at, as a partitioned table requires; decision ids are UUIDv7, whose first 48
-- bits are the time they were made, so that a lookup by id reads one month (see decisionlog.Get).
--
-- Fact snapshots are stored once per month by the SHA-256 digest of their JSON
-- (decision_log_facts, partitioned and dropped with the log): the records of one month that were
-- decided on the same facts share them. facts holds the facts inline instead (commit records, and
-- rows migrated from the unpartitioned table). JSON columns use lz4 compression.
--
-- decision_log_default takes a record of a month without its partition (the partitions are created
-- ahead of time by arbiter_decision_log_partition); creating that month's partition moves them.
-- Existing rows are copied in this migration.
ALTER TABLE decision_log RENAME TO decision_log_unpartitioned;
ALTER INDEX IF EXISTS decision_log_pkey RENAME TO decision_log_unpartitioned_pkey;
ALTER INDEX IF EXISTS decision_log_decision_as_of_idx RENAME TO decision_log_unpartitioned_decision_as_of_idx;
ALTER INDEX IF EXISTS decision_log_recorded_idx RENAME TO decision_log_unpartitioned_recorded_idx;
ALTER INDEX IF EXISTS decision_log_recorded_at_idx RENAME TO decision_log_unpartitioned_recorded_at_idx;

CREATE TABLE decision_log (
    id text NOT NULL,
    decision text NOT NULL,
    version text NOT NULL,
    as_of timestamptz NOT NULL,
    outcome text NOT NULL,
    envelope jsonb COMPRESSION lz4,
    input jsonb COMPRESSION lz4,
    facts jsonb COMPRESSION lz4,
    facts_digest bytea,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    caller text,
    PRIMARY KEY (id, recorded_at)
) PARTITION BY RANGE (recorded_at);
-- Replay and export read in (recorded_at, id) order, page by page.
CREATE INDEX decision_log_recorded_idx ON decision_log (recorded_at, id COLLATE "C");
CREATE INDEX decision_log_decision_as_of_idx ON decision_log (decision, as_of);
CREATE TABLE decision_log_default PARTITION OF decision_log DEFAULT;

CREATE TABLE decision_log_facts (
    month timestamptz NOT NULL,
    digest bytea NOT NULL,
    facts jsonb COMPRESSION lz4 NOT NULL,
    PRIMARY KEY (month, digest)
) PARTITION BY RANGE (month);
CREATE TABLE decision_log_facts_default PARTITION OF decision_log_facts DEFAULT;

-- arbiter_decision_log_partition creates the partitions of the month (UTC) holding at, unless they
-- exist, moving that month's records out of the default partitions; it returns whether it created them.
CREATE FUNCTION arbiter_decision_log_partition(at timestamptz) RETURNS boolean LANGUAGE plpgsql AS $fn$
DECLARE
    lo timestamptz := date_trunc('month', at, 'UTC');
    hi timestamptz := (date_trunc('month', at AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
    suffix text := to_char(at AT TIME ZONE 'UTC', 'YYYY_MM');
    strays boolean;
BEGIN
    -- One creator at a time (replicas maintain the partitions concurrently); held until commit.
    PERFORM pg_advisory_xact_lock(7021378440510980353);
    IF to_regclass(format('%I', 'decision_log_' || suffix)) IS NOT NULL THEN
        RETURN false;
    END IF;
    SELECT EXISTS (SELECT 1 FROM decision_log_default WHERE recorded_at >= lo AND recorded_at < hi)
        OR EXISTS (SELECT 1 FROM decision_log_facts_default WHERE month = lo) INTO strays;
    IF strays THEN
        CREATE TEMP TABLE arbiter_strays ON COMMIT DROP AS
            SELECT * FROM decision_log_default WHERE recorded_at >= lo AND recorded_at < hi;
        CREATE TEMP TABLE arbiter_stray_facts ON COMMIT DROP AS
            SELECT * FROM decision_log_facts_default WHERE month = lo;
        DELETE FROM decision_log_default WHERE recorded_at >= lo AND recorded_at < hi;
        DELETE FROM decision_log_facts_default WHERE month = lo;
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF decision_log FOR VALUES FROM (%L) TO (%L)', 'decision_log_' || suffix, lo, hi);
    EXECUTE format('CREATE TABLE %I PARTITION OF decision_log_facts FOR VALUES FROM (%L) TO (%L)', 'decision_log_facts_' || suffix, lo, hi);
    IF strays THEN
        INSERT INTO decision_log SELECT * FROM arbiter_strays;
        INSERT INTO decision_log_facts SELECT * FROM arbiter_stray_facts;
        DROP TABLE arbiter_strays, arbiter_stray_facts;
    END IF;
    RETURN true;
END
$fn$;

-- Each record with its facts, inline or shared: for reading the log with SQL.
CREATE VIEW decision_log_with_facts AS
SELECT l.id, l.decision, l.version, l.as_of, l.outcome, l.envelope, l.input, coalesce(l.facts, f.facts) AS facts, l.recorded_at, l.caller
FROM decision_log l
LEFT JOIN decision_log_facts f ON f.month = date_trunc('month', l.recorded_at, 'UTC') AND f.digest = l.facts_digest;

-- The months of the existing records, this month and the next two.
SELECT arbiter_decision_log_partition(m)
FROM (
    SELECT DISTINCT date_trunc('month', recorded_at, 'UTC') AS m FROM decision_log_unpartitioned
    UNION
    SELECT generate_series(date_trunc('month', now(), 'UTC'), date_trunc('month', now(), 'UTC') + interval '62 days', interval '1 month')
) months;

INSERT INTO decision_log (id, decision, version, as_of, outcome, envelope, input, facts, recorded_at, caller)
SELECT id, decision, version, as_of, outcome, envelope, input, facts, recorded_at, caller FROM decision_log_unpartitioned;
DROP TABLE decision_log_unpartitioned;

---- create above / drop below ----

DROP VIEW decision_log_with_facts;
ALTER TABLE decision_log RENAME TO decision_log_partitioned;
CREATE TABLE decision_log (
    id text PRIMARY KEY,
    decision text NOT NULL,
    version text NOT NULL,
    as_of timestamptz NOT NULL,
    outcome text NOT NULL,
    envelope jsonb,
    input jsonb,
    facts jsonb,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    caller text
);
INSERT INTO decision_log
SELECT l.id, l.decision, l.version, l.as_of, l.outcome, l.envelope, l.input, coalesce(l.facts, f.facts), l.recorded_at, l.caller
FROM decision_log_partitioned l
LEFT JOIN decision_log_facts f ON f.month = date_trunc('month', l.recorded_at, 'UTC') AND f.digest = l.facts_digest
ON CONFLICT (id) DO NOTHING;
DROP TABLE decision_log_partitioned, decision_log_facts;
DROP FUNCTION arbiter_decision_log_partition(timestamptz);
CREATE INDEX decision_log_decision_as_of_idx ON decision_log (decision, as_of);
CREATE INDEX decision_log_recorded_idx ON decision_log (recorded_at, id COLLATE "C");
CREATE INDEX decision_log_recorded_at_idx ON decision_log (recorded_at);
