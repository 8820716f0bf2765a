-- Partner accounts and plan memberships (rules-partner.md §1.2, §1.3): path exit and account cancellation.
CREATE TABLE partner_accounts (
    id text PRIMARY KEY,
    site text NOT NULL DEFAULT 'cn',
    path text NOT NULL DEFAULT 'none',
    path_stage text NOT NULL DEFAULT 'none',
    role_certified_ever boolean NOT NULL DEFAULT false,
    differentiated_ever boolean NOT NULL DEFAULT false,
    cloud_software_solution_count bigint NOT NULL DEFAULT 0,
    advanced_cloud_software_solution_count bigint NOT NULL DEFAULT 0,
    test_voucher_count bigint NOT NULL DEFAULT 0,
    exam_voucher_count bigint NOT NULL DEFAULT 0,
    mdf_count bigint NOT NULL DEFAULT 0,
    fh_count bigint NOT NULL DEFAULT 0,
    delivery_capability_support_count bigint NOT NULL DEFAULT 0
);

CREATE TABLE partner_plans (
    account_id text NOT NULL,
    plan text NOT NULL,
    status text NOT NULL DEFAULT 'active',
    joined_at date,
    identity_invalid_since date,
    PRIMARY KEY (account_id, plan)
);
