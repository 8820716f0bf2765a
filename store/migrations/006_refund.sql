-- Refund (unsubscribe) facts: subscriptions and their orders, payments, invoices, milestones, campaign
-- refund terms, open refund requests and yearly self-service refund counts (rules-marketplace.md §2,
-- §7.4, §7.6, §7.7). Accounts and products are the shared market_* tables. Refunds filed through
-- arbiter are ledger entries (ledger_entries) written by the refund.request commit:
-- refund_quota:<account>:<year>, refund_subscription:<id> and refund_order:<id>.

-- One resource instance (subscription) of an account, with what the refund rules read about it.
CREATE TABLE refund_subscriptions (
    id text PRIMARY KEY,
    owner_account_id text NOT NULL,
    product_id text NOT NULL,
    -- The order that bought the instance; renewal orders point at the instance too.
    order_id text,
    billing_mode text NOT NULL,
    -- REFUND-FAIL-01: pending, succeeded or failed.
    provisioning_status text NOT NULL DEFAULT 'succeeded',
    -- REFUND-5D-01 / AMB-02: the five-day window starts here (falls back to the order's paid_at).
    provisioned_at timestamptz,
    -- REFUND-G05: end of the period in use.
    expires_at timestamptz,
    -- REFUND-NEG-*: not_applicable, in_progress (the transaction guarantee period) or completed.
    supervision_status text NOT NULL DEFAULT 'not_applicable',
    -- REFUND-NEG-04 item 1: when the buyer submitted the service requirements.
    requirement_submitted_at timestamptz,
    -- REFUND-NEG-04 items 2-5: materials_late_1m, scope_added, no_feedback_3m, user_legal_breach.
    supervision_flags text[] NOT NULL DEFAULT '{}',
    -- REFUND-NEG-03: the License authorization code has been claimed.
    license_auth_code_claimed boolean NOT NULL DEFAULT false,
    -- REFUND-5D-05: the ECS using the image, and whether the image was switched off its system disk.
    attached_ecs_id text,
    image_detached boolean NOT NULL DEFAULT false,
    -- REFUND-G07: a solution combination, small-granularity package or master-slave group this
    -- instance belongs to, and every instance of that group (this one included).
    bundle_id text,
    bundle_kind text,
    bundle_members text[] NOT NULL DEFAULT '{}',
    -- REFUND-HW-01: not_shipped, in_transit or delivered (hardware).
    shipment_status text,
    -- REFUND-IMG-01: usage fee billed for the time consumed; NULL means pro rata by time.
    usage_fee numeric(20, 2)
);

-- Orders of an instance: the purchase and its renewals (REFUND-REN-01, REFUND-G03, REFUND-G06).
CREATE TABLE refund_orders (
    id text PRIMARY KEY,
    subscription_id text NOT NULL,
    account_id text,
    -- new, renewal, change, trial or trial_to_commercial.
    order_type text NOT NULL DEFAULT 'new',
    paid_at timestamptz,
    -- The period the order pays for; a renewal takes effect at period_start.
    period_start timestamptz,
    period_end timestamptz,
    renews_order_id text,
    -- REFUND-G03: the campaign (activity) the order was bought under.
    activity_id text
);
CREATE INDEX refund_orders_subscription_idx ON refund_orders (subscription_id, id);

-- Payments of an order: cash actually paid and the coupon used (COUPON-24).
CREATE TABLE refund_payments (
    id text PRIMARY KEY,
    order_id text NOT NULL,
    paid_at timestamptz,
    cash_amount numeric(20, 2) NOT NULL DEFAULT 0,
    coupon_id text,
    coupon_amount numeric(20, 2) NOT NULL DEFAULT 0
);
CREATE INDEX refund_payments_order_idx ON refund_payments (order_id, id);

-- Invoices of an order (REFUND-G01): kind electronic, paper_normal or paper_special; status applied,
-- issued or returned; deducted for a special VAT invoice whose input tax was already deducted.
CREATE TABLE refund_invoices (
    id text PRIMARY KEY,
    order_id text NOT NULL,
    kind text NOT NULL DEFAULT 'electronic',
    status text NOT NULL DEFAULT 'applied',
    deducted boolean NOT NULL DEFAULT false,
    applied_at timestamptz
);
CREATE INDEX refund_invoices_order_idx ON refund_invoices (order_id, id);

-- Milestones (分阶段验收) of an order; completed milestone amounts are never refundable (REFUND-NEG-02).
CREATE TABLE refund_milestones (
    order_id text NOT NULL,
    seq bigint NOT NULL,
    amount numeric(20, 2) NOT NULL,
    completed boolean NOT NULL DEFAULT false,
    PRIMARY KEY (order_id, seq)
);

-- Campaign (activity) refund terms for a product, which override the general rules (REFUND-G03).
CREATE TABLE refund_campaign_terms (
    activity_id text NOT NULL,
    product_id text NOT NULL,
    refund_allowed boolean NOT NULL DEFAULT true,
    -- When not empty, the only refund paths the campaign allows.
    allowed_paths text[] NOT NULL DEFAULT '{}',
    note text NOT NULL DEFAULT '',
    PRIMARY KEY (activity_id, product_id)
);
CREATE INDEX refund_campaign_terms_product_idx ON refund_campaign_terms (product_id, activity_id);

-- Self-service (five-day) refunds an account made in a Beijing calendar year outside arbiter, by
-- source: marketplace or cloud_service (ECS and other Huawei Cloud services share the quota).
CREATE TABLE refund_quota_counts (
    account_id text NOT NULL,
    calendar_year bigint NOT NULL,
    source text NOT NULL DEFAULT 'marketplace',
    refunds bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, calendar_year, source)
);

-- Refund requests under way (REFUND-HW-02, REFUND-HW-03, REFUND-G02), as the refund desk records them.
CREATE TABLE refund_requests (
    id text PRIMARY KEY,
    owner_account_id text NOT NULL,
    subscription_id text,
    order_id text,
    path text NOT NULL,
    -- pending_merchant_review, approved, awaiting_return_shipment, return_shipped, merchant_accepted,
    -- refunded, withdrawn, failed or appealed.
    state text NOT NULL DEFAULT 'pending_merchant_review',
    amount numeric(20, 2),
    submitted_at timestamptz,
    approved_at timestamptz,
    return_info_uploaded_at timestamptz,
    merchant_accepted_at timestamptz,
    merchant_exception_at timestamptz,
    -- The merchant's last action on the request; NULL means none since it was submitted.
    merchant_last_action_at timestamptz
);
