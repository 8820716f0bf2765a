CREATE TABLE t_accounts (
    id text PRIMARY KEY,
    tier text NOT NULL DEFAULT 'basic',
    score bigint NOT NULL DEFAULT 0,
    active boolean NOT NULL DEFAULT true,
    balance numeric NOT NULL DEFAULT 0,
    opened_on date,
    seen_at timestamptz,
    tags text[] NOT NULL DEFAULT '{}',
    extra jsonb
);
CREATE TABLE t_orders (
    account_id text NOT NULL,
    seq bigint NOT NULL,
    amount numeric,
    placed_at timestamptz,
    note text,
    PRIMARY KEY (account_id, seq)
);
CREATE TABLE t_flags (
    id text PRIMARY KEY,
    label text DEFAULT 'none'
);
