-- Coupon (marketplace merchant voucher) facts: coupons, payments, their orders and lines
-- (rules-marketplace.md §7.4, §7.5). Redemptions, releases and activations are ledger entries
-- (ledger_entries) written by the coupon.redeem, coupon.release and coupon.activate commits.
CREATE TABLE coupons (
    id text PRIMARY KEY,
    owner_account_id text,
    issuer_merchant_id text,
    kind text NOT NULL DEFAULT 'marketplace_activity',
    acquisition text NOT NULL DEFAULT 'self_claimed',
    activated boolean NOT NULL DEFAULT false,
    activation_code text,
    claimed_at timestamptz,
    applicable_category text NOT NULL DEFAULT 'general',
    applicable_product_ids text[] NOT NULL DEFAULT '{}',
    applicable_sku_ids text[] NOT NULL DEFAULT '{}',
    excluded_product_ids text[] NOT NULL DEFAULT '{}',
    billing_modes text[] NOT NULL DEFAULT '{}',
    order_types text[] NOT NULL DEFAULT '{}',
    regions text[] NOT NULL DEFAULT '{}',
    threshold_amount numeric(20, 2) NOT NULL DEFAULT 0,
    -- NULL means the rule table's threshold_inclusive (AMB-01); true/false overrides it for this coupon.
    threshold_inclusive boolean,
    face_value numeric(20, 2),
    valid_from timestamptz,
    valid_to timestamptz,
    flags text[] NOT NULL DEFAULT '{}',
    status text NOT NULL DEFAULT 'available',
    used_in_payment_id text
);
CREATE INDEX coupons_owner_idx ON coupons (owner_account_id, id);

CREATE TABLE coupon_payments (
    id text PRIMARY KEY,
    payer_account_id text,
    status text NOT NULL DEFAULT 'pending',
    discount_coupon_id text,
    selected_coupon_ids text[] NOT NULL DEFAULT '{}',
    method text,
    created_at timestamptz
);

CREATE TABLE coupon_payment_orders (
    id text PRIMARY KEY,
    payment_id text NOT NULL,
    account_id text,
    order_type text NOT NULL DEFAULT 'new',
    payer_type text NOT NULL DEFAULT 'self',
    is_combo boolean NOT NULL DEFAULT false,
    combo_id text
);
CREATE INDEX coupon_payment_orders_payment_idx ON coupon_payment_orders (payment_id, id);

-- One row per order line, carrying the product attributes the order recorded when it was placed,
-- so that one lookup by payment gives every line the coupon rules need.
CREATE TABLE coupon_payment_lines (
    id text PRIMARY KEY,
    payment_id text NOT NULL,
    order_id text NOT NULL,
    product_id text NOT NULL,
    sku_id text,
    merchant_id text NOT NULL,
    product_category text NOT NULL DEFAULT 'general',
    product_category_changed_at timestamptz,
    special_price_package boolean NOT NULL DEFAULT false,
    billing_mode text NOT NULL,
    period_months bigint,
    quantity bigint NOT NULL DEFAULT 1,
    region text,
    payable_amount numeric(20, 2) NOT NULL,
    is_marketplace_line boolean NOT NULL DEFAULT true,
    applied_discounts text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX coupon_payment_lines_payment_idx ON coupon_payment_lines (payment_id, id);
