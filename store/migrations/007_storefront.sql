-- Storefront facts: what the purchase, trial, renewal, SaaS change, API package and Q&A decisions
-- read besides the shared market_* tables (rules-marketplace.md §3, §4, §6.1, §6.3, §6.4, §7).
-- Trials ordered and questions asked through arbiter are ledger entries (ledger_entries) written by
-- the trial.order and qa.ask commits; the tables below hold what other systems recorded.

-- Storefront settings of an account; an account without a row has the defaults.
CREATE TABLE store_accounts (
    account_id text PRIMARY KEY,
    -- TRIAL-08: the joint-operation (联营) organization the account's apps are bound to.
    joint_org_id text,
    -- PURCH-12: the enterprise-project feature and the delegation quick provisioning needs.
    enterprise_project_enabled boolean NOT NULL DEFAULT false,
    provisioning_delegated boolean NOT NULL DEFAULT false,
    -- APIPKG-05 / AMB-23: a valid IAM delegation lets the marketplace place repurchase orders.
    repurchase_delegation_ok boolean NOT NULL DEFAULT false
);

-- Storefront settings of a product; a product without a row has the defaults.
CREATE TABLE store_products (
    product_id text PRIMARY KEY,
    -- PURCH-01: the order page asks to use the account's contact to create the app admin account.
    requires_contact_authorization boolean NOT NULL DEFAULT false,
    -- PURCH-10: periodic resources deployed automatically (image template, License package).
    auto_deploy boolean NOT NULL DEFAULT false
);

-- Storefront attributes of a spec (SKU).
CREATE TABLE store_skus (
    sku_id text PRIMARY KEY,
    product_id text NOT NULL,
    -- TRIAL-*: a free-trial spec and how many days a trial lasts; NULL means not a trial spec.
    trial_days bigint,
    -- APIPKG-03: uses in one API package of this spec; NULL for other specs.
    api_quota bigint,
    -- APIPKG-03: a purchase-limited (限购) spec cannot be a repurchase plan.
    purchase_limited boolean NOT NULL DEFAULT false,
    -- APIPKG-06: a delisted spec cannot be repurchased.
    on_sale boolean NOT NULL DEFAULT true
);
CREATE INDEX store_skus_product_idx ON store_skus (product_id);

-- Official list prices (TRIAL-06, PURCH-10, APIPKG-06): per month, per year, per package or per use.
CREATE TABLE store_sku_prices (
    sku_id text NOT NULL,
    billing_mode text NOT NULL,
    price numeric(20, 2) NOT NULL,
    PRIMARY KEY (sku_id, billing_mode)
);

-- PURCH-03: merchant authorizations to buy a restricted spec.
CREATE TABLE store_purchase_authorizations (
    id text PRIMARY KEY,
    account_id text NOT NULL,
    sku_id text NOT NULL,
    merchant_id text,
    granted_at timestamptz,
    -- NULL: no end.
    expires_at timestamptz,
    revoked boolean NOT NULL DEFAULT false
);
CREATE INDEX store_purchase_authorizations_idx ON store_purchase_authorizations (account_id, sku_id);

-- TRIAL-02 / TRIAL-05: trials ordered before arbiter recorded them (trial history).
CREATE TABLE store_trials (
    id text PRIMARY KEY,
    account_id text NOT NULL,
    product_id text NOT NULL,
    sku_id text,
    ordered_at timestamptz NOT NULL,
    expires_at timestamptz,
    status text NOT NULL DEFAULT 'active'
);
CREATE INDEX store_trials_account_product_idx ON store_trials (account_id, product_id, id);

-- Purchased resources and their renewal settings (RENEW-*, PURCH-05, PURCH-08, SAASCHG-01).
CREATE TABLE store_subscriptions (
    id text PRIMARY KEY,
    account_id text NOT NULL,
    order_id text,
    product_id text NOT NULL,
    sku_id text,
    billing_mode text NOT NULL,
    -- Purchased length in months (a year is 12).
    period_months bigint NOT NULL DEFAULT 1,
    ordered_at timestamptz,
    provisioning_status text NOT NULL DEFAULT 'succeeded',
    provisioned_at timestamptz,
    period_start timestamptz,
    expires_at timestamptz,
    lifecycle_state text NOT NULL DEFAULT 'active',
    expiry_policy text NOT NULL DEFAULT 'manual',
    auto_renew_period_months bigint,
    auto_renew_count bigint,
    supervision_status text NOT NULL DEFAULT 'not_applicable',
    accepted_at timestamptz,
    actual_start_by_merchant timestamptz,
    license_code_activated_at timestamptz,
    -- PURCH-08: servers a periodic image may still be bound to; RENEW-07: a server runs on the image.
    unused_entitlements bigint NOT NULL DEFAULT 0,
    attached_ecs_id text,
    ecs_running boolean NOT NULL DEFAULT false
);
CREATE INDEX store_subscriptions_account_product_idx ON store_subscriptions (account_id, product_id, id);

-- PURCH-09: orders awaiting payment and the combination they belong to.
CREATE TABLE store_orders (
    id text PRIMARY KEY,
    account_id text NOT NULL,
    status text NOT NULL DEFAULT 'pending_payment',
    product_id text,
    combo_id text,
    amount numeric(20, 2) NOT NULL DEFAULT 0
);
CREATE INDEX store_orders_account_status_idx ON store_orders (account_id, status, id);

-- QA-01: questions an account asked about a product on one Beijing day, as other systems logged them.
CREATE TABLE store_question_logs (
    account_id text NOT NULL,
    product_id text NOT NULL,
    day date NOT NULL,
    count bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, product_id, day)
);

-- APIPKG-*: API packages (non-resettable on-demand packages, per-use packages, resettable ones).
CREATE TABLE store_api_packages (
    id text PRIMARY KEY,
    account_id text NOT NULL,
    product_id text NOT NULL,
    sku_id text NOT NULL,
    billing_mode text NOT NULL DEFAULT 'per_use',
    resettable text NOT NULL DEFAULT 'none',
    quota_total bigint NOT NULL,
    used bigint NOT NULL DEFAULT 0,
    purchased_at timestamptz,
    expires_at timestamptz
);
CREATE INDEX store_api_packages_account_product_idx ON store_api_packages (account_id, product_id, id);
