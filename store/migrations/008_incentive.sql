-- Incentive facts (rules-partner.md §1.6, §1.7, §C, §D): partners as the incentive desk sees them, their
-- plan memberships, yearly growth statements and performance rows, the incentive ledger, payment
-- requests, invoices, and customer associations for performance attribution.

-- kind: solution_provider | general_distributor | cloud_reseller | other.
-- level: the partner's level in its plan (core | leading | other | unknown).
CREATE TABLE incentive_partners (
    id text PRIMARY KEY,
    name text,
    kind text NOT NULL DEFAULT 'solution_provider',
    level text NOT NULL DEFAULT 'unknown',
    -- For a cloud reseller: the general distributor its performance belongs to (PERF-03).
    gd_id text,
    business_info_certified boolean NOT NULL DEFAULT false,
    business_info_certified_on date,
    reseller_qualification_certified boolean NOT NULL DEFAULT false,
    -- The first day the reseller qualification is no longer valid; NULL: no known end.
    reseller_qualification_expires_on date,
    taxpayer_type text NOT NULL DEFAULT 'general',
    -- The day claims switch to the new contracting entity (INV-11); NULL: no change.
    contracting_entity_change_on date
);

CREATE TABLE incentive_plan_memberships (
    id text PRIMARY KEY,
    partner_id text NOT NULL,
    plan text NOT NULL,
    status text NOT NULL DEFAULT 'active',
    joined_at date,
    identity_invalid_since date,
    gd_id text
);
CREATE INDEX incentive_plan_memberships_partner_idx ON incentive_plan_memberships (partner_id, joined_at, id);

-- One growth statement per partner and policy year: the threshold and base metrics of the year and of
-- the year before, as that year's policy defines them (§1.6).
CREATE TABLE incentive_growth_metrics (
    partner_id text NOT NULL,
    policy_year bigint NOT NULL,
    threshold_metric_cur numeric NOT NULL,
    threshold_metric_prev numeric NOT NULL,
    base_metric_cur numeric NOT NULL,
    base_metric_prev numeric NOT NULL,
    PRIMARY KEY (partner_id, policy_year)
);

-- Performance lines of a policy year; the growth incentive is allocated over them (INC-07).
CREATE TABLE incentive_performance_rows (
    id text PRIMARY KEY,
    partner_id text NOT NULL,
    policy_year bigint NOT NULL,
    customer_id text,
    confirmed_month text,
    performance_amount numeric NOT NULL
);
CREATE INDEX incentive_performance_rows_partner_idx ON incentive_performance_rows (partner_id, policy_year, id);

-- The incentive ledger (§1.7). amount is signed: a negative incentive is below zero.
-- bill_status: estimated | pending_confirmation | confirmed | issued; state: valid | expired | claimed.
CREATE TABLE incentive_incentives (
    id text PRIMARY KEY,
    partner_id text NOT NULL,
    amount numeric(20, 2) NOT NULL,
    kind text NOT NULL DEFAULT 'base_rebate',
    plan text NOT NULL DEFAULT 'solution_provider',
    association_type text,
    generated_at date,
    notified_at date,
    bill_status text NOT NULL DEFAULT 'estimated',
    state text NOT NULL DEFAULT 'valid',
    output_tax_category text NOT NULL DEFAULT 'cloud_service',
    -- Set once a payout method has been chosen for this incentive (CLAIM-11).
    payout_method text,
    voucher_quota_eligible boolean NOT NULL DEFAULT false,
    payment_request_id text
);
CREATE INDEX incentive_incentives_partner_idx ON incentive_incentives (partner_id, generated_at, id);

CREATE TABLE incentive_payment_requests (
    id text PRIMARY KEY,
    partner_id text NOT NULL,
    mode text NOT NULL DEFAULT 'batch',
    payout_method text,
    amount numeric(20, 2),
    submitted_at timestamptz,
    status text NOT NULL DEFAULT 'submitted'
);
CREATE INDEX incentive_payment_requests_partner_idx ON incentive_payment_requests (partner_id, submitted_at, id);

-- Invoices a partner sends to HC for incentives (§D.3). buyer is the invoice title (the HC entity).
CREATE TABLE incentive_invoices (
    id text PRIMARY KEY,
    partner_id text NOT NULL,
    type text NOT NULL,
    content text,
    buyer text,
    tax_rate numeric(6, 4),
    amount numeric(20, 2),
    payment_request_ids text[] NOT NULL DEFAULT '{}',
    received_on date
);
CREATE INDEX incentive_invoices_partner_idx ON incentive_invoices (partner_id, id);

-- Which partner a customer was associated with, and when (PERF-11).
CREATE TABLE incentive_customer_associations (
    id text PRIMARY KEY,
    customer_id text NOT NULL,
    partner_id text NOT NULL,
    mode text,
    associated_at timestamptz NOT NULL,
    unbound_at timestamptz
);
CREATE INDEX incentive_customer_associations_customer_idx ON incentive_customer_associations (customer_id, associated_at, id);
