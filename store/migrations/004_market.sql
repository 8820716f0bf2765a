-- Marketplace entities shared by the coupon, refund and storefront decisions.
CREATE TABLE market_accounts (
    id text PRIMARY KEY,
    personal_real_name_verified boolean NOT NULL DEFAULT false,
    enterprise_real_name_verified boolean NOT NULL DEFAULT false,
    is_enterprise boolean NOT NULL DEFAULT false,
    email_set boolean NOT NULL DEFAULT false,
    email_set_at timestamptz,
    on_demand_service_enabled boolean NOT NULL DEFAULT false,
    balance numeric(20, 2) NOT NULL DEFAULT 0,
    in_arrears boolean NOT NULL DEFAULT false,
    arrears_since timestamptz,
    site text NOT NULL DEFAULT 'mainland',
    is_minor boolean NOT NULL DEFAULT false,
    is_international_student boolean NOT NULL DEFAULT false
);

CREATE TABLE market_merchants (
    id text PRIMARY KEY,
    name text NOT NULL DEFAULT '',
    supports_e_invoice boolean NOT NULL DEFAULT true
);

CREATE TABLE market_products (
    id text PRIMARY KEY,
    merchant_id text,
    name text NOT NULL DEFAULT '',
    delivery_type text,
    commercial_category text NOT NULL DEFAULT 'general',
    category_changed_at timestamptz,
    supervised boolean NOT NULL DEFAULT false,
    saas_delivery text,
    is_devcloud boolean NOT NULL DEFAULT false,
    listed boolean NOT NULL DEFAULT true,
    on_sale boolean NOT NULL DEFAULT true,
    offered_billing_modes text[] NOT NULL DEFAULT '{}',
    supports_change boolean NOT NULL DEFAULT false,
    trial_requires_enterprise_verification boolean NOT NULL DEFAULT false,
    requires_account_email boolean NOT NULL DEFAULT false,
    credit_payment_enabled boolean NOT NULL DEFAULT false,
    license_flow text
);
CREATE INDEX market_products_merchant_idx ON market_products (merchant_id);

CREATE TABLE market_skus (
    id text PRIMARY KEY,
    product_id text,
    is_special_price_package boolean NOT NULL DEFAULT false,
    purchase_restricted boolean NOT NULL DEFAULT false,
    price_zero boolean NOT NULL DEFAULT false,
    resettable text NOT NULL DEFAULT 'none'
);
CREATE INDEX market_skus_product_idx ON market_skus (product_id);
