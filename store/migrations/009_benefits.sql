-- Partner-benefit facts (rules-benefits.md §2, §A MDF, §B FH): partners with their development paths,
-- stages and programme plans; MDF budgets, applications, activities, claims with lines and invoices;
-- FH plan memberships, persons with certificates and assessments, grants, applications and evidence
-- projects. Budget consumption and FH grants decided here are ledger entries (ledger_entries) written
-- by the mdf.apply and fh.grant commits.
CREATE TABLE benefit_partners (
    id text PRIMARY KEY,
    legal_name text,
    tax_id text,
    site text NOT NULL DEFAULT 'china',
    is_overseas boolean NOT NULL DEFAULT false,
    business_info_certified boolean NOT NULL DEFAULT false,
    registered_province text,
    is_ctsp boolean NOT NULL DEFAULT false,
    si_huawei_approved_for_fh boolean NOT NULL DEFAULT false,
    -- Years (as text, e.g. '2025') in which Huawei revoked the partner's MDF eligibility (CLM-31).
    mdf_banned_years text[] NOT NULL DEFAULT '{}'
);

CREATE TABLE benefit_partner_paths (
    partner_id text NOT NULL,
    path text NOT NULL,
    stage text NOT NULL DEFAULT 'none',
    stage_since date,
    PRIMARY KEY (partner_id, path)
);

-- Programme plans that carry an MDF quota: solution_provider (level leading/core) and distribution
-- (level regional/national, contract_province for the region class of MDF-12).
CREATE TABLE benefit_partner_plans (
    partner_id text NOT NULL,
    plan text NOT NULL,
    level text,
    contract_province text,
    status text NOT NULL DEFAULT 'active',
    joined_at date,
    PRIMARY KEY (partner_id, plan)
);

CREATE TABLE benefit_solutions (
    id text PRIMARY KEY,
    partner_id text,
    name text,
    kind text NOT NULL DEFAULT 'baseline',
    built_and_released boolean NOT NULL DEFAULT false,
    special_programme text,
    tech_certified boolean NOT NULL DEFAULT false
);
CREATE INDEX benefit_solutions_partner_idx ON benefit_solutions (partner_id, id);

-- A partner's yearly MDF quota per funding basis: cap_override replaces the rule table's cap when the
-- official benefit page grants another figure; used_outside is consumption recorded before this service.
CREATE TABLE mdf_budgets (
    partner_id text NOT NULL,
    funding_basis text NOT NULL,
    year bigint NOT NULL,
    cap_override numeric(20, 2),
    used_outside numeric(20, 2) NOT NULL DEFAULT 0,
    PRIMARY KEY (partner_id, funding_basis, year)
);

CREATE TABLE mdf_applications (
    id text PRIMARY KEY,
    partner_id text,
    funding_basis text,
    budget_year bigint,
    activity_type text,
    audience text NOT NULL DEFAULT 'customers',
    includes_end_customers boolean NOT NULL DEFAULT false,
    approving_dept text,
    requested_amount numeric(20, 2),
    currency text NOT NULL DEFAULT 'CNY',
    submitted_at timestamptz,
    approval_completed_at timestamptz,
    late_reason text,
    exceeds_cost_standard boolean NOT NULL DEFAULT false,
    over_standard_reason text,
    key_info_changed boolean NOT NULL DEFAULT false,
    resubmitted_before_activity boolean NOT NULL DEFAULT false,
    status text NOT NULL DEFAULT 'approved'
);
CREATE INDEX mdf_applications_partner_idx ON mdf_applications (partner_id, id);

-- One row per session; an application with several rows is a series (MDF-21). event_ref names the
-- real-world event so that one event claimed under two applications is found (CLM-06).
CREATE TABLE mdf_activities (
    id text PRIMARY KEY,
    application_id text,
    partner_id text,
    seq bigint NOT NULL DEFAULT 1,
    event_ref text,
    activity_type text,
    audience text,
    approving_dept text,
    start_date date,
    end_date date,
    location text,
    format text,
    evidence_attached boolean NOT NULL DEFAULT false
);
CREATE INDEX mdf_activities_partner_idx ON mdf_activities (partner_id, application_id, seq, id);

CREATE TABLE mdf_claims (
    id text PRIMARY KEY,
    partner_id text,
    application_id text,
    submitted_at timestamptz,
    status text NOT NULL DEFAULT 'submitted',
    marked_incomplete_at timestamptz,
    extension_approval_email boolean NOT NULL DEFAULT false,
    payment_currency text NOT NULL DEFAULT 'CNY',
    photos_or_substitute boolean NOT NULL DEFAULT false,
    activity_summary boolean NOT NULL DEFAULT false,
    sign_in_sheet boolean NOT NULL DEFAULT false,
    sign_in_missing_reason text,
    opportunity_info_entered boolean NOT NULL DEFAULT false,
    lessons_learned boolean NOT NULL DEFAULT false,
    customer_feedback boolean NOT NULL DEFAULT false,
    media_summary boolean NOT NULL DEFAULT false,
    over_standard_reason text
);
CREATE INDEX mdf_claims_partner_idx ON mdf_claims (partner_id, submitted_at, id);

CREATE TABLE mdf_claim_lines (
    id text PRIMARY KEY,
    claim_id text,
    partner_id text,
    application_id text,
    activity_id text,
    category text,
    description text,
    amount numeric(20, 2),
    actual_category text,
    receipt_category text,
    mismatch_explained boolean NOT NULL DEFAULT false,
    mismatch_confirm_email boolean NOT NULL DEFAULT false,
    invoice_id text,
    incurred_before_approval boolean NOT NULL DEFAULT false,
    claimed_elsewhere boolean NOT NULL DEFAULT false,
    gift_routine_visit boolean NOT NULL DEFAULT false,
    gift_unrelated_to_activity boolean NOT NULL DEFAULT false,
    gift_targeted boolean NOT NULL DEFAULT false,
    gift_recipient_type text,
    gift_qty_purchased bigint,
    gift_qty_distributed bigint,
    gift_unit_value numeric(20, 2),
    gift_display_photo boolean NOT NULL DEFAULT false,
    gift_award_photo boolean NOT NULL DEFAULT false,
    is_prize boolean NOT NULL DEFAULT false,
    branded boolean NOT NULL DEFAULT false,
    sponsorship_contract_scan boolean NOT NULL DEFAULT false,
    sponsorship_benefits_listed bigint NOT NULL DEFAULT 0,
    sponsorship_benefits_evidenced bigint NOT NULL DEFAULT 0
);
CREATE INDEX mdf_claim_lines_claim_idx ON mdf_claim_lines (claim_id, id);

CREATE TABLE mdf_invoices (
    id text PRIMARY KEY,
    partner_id text,
    claim_id text,
    number text,
    title text,
    tax_id text,
    amount numeric(20, 2),
    currency text NOT NULL DEFAULT 'CNY',
    issued_on date
);
CREATE INDEX mdf_invoices_partner_idx ON mdf_invoices (partner_id, id);

-- FH plan participation per partner: invitation (svc_expert_2024), agreement (svc_capability_2025,
-- si_presales) and membership (lp_funding_head).
CREATE TABLE fh_plan_memberships (
    partner_id text NOT NULL,
    plan text NOT NULL,
    invited boolean NOT NULL DEFAULT false,
    joined_at date,
    agreement_signed boolean NOT NULL DEFAULT false,
    status text NOT NULL DEFAULT 'active',
    PRIMARY KEY (partner_id, plan)
);

CREATE TABLE fh_persons (
    id text PRIMARY KEY,
    partner_id text,
    name text,
    project_specialist_path text,
    project_specialist_since date,
    formal_labour_contract boolean NOT NULL DEFAULT false,
    dispatched boolean NOT NULL DEFAULT false,
    employment_valid_from date,
    employment_valid_to date,
    social_security_country text NOT NULL DEFAULT 'CN',
    social_security_city text,
    work_city text,
    -- Months ('YYYY-MM') for which social security was paid (FH-43).
    social_security_months text[] NOT NULL DEFAULT '{}',
    payroll_records boolean NOT NULL DEFAULT false,
    stamped_employment_cert boolean NOT NULL DEFAULT false,
    ict_years bigint NOT NULL DEFAULT 0,
    integration_delivery_years bigint NOT NULL DEFAULT 0,
    transformation_projects_key_role bigint NOT NULL DEFAULT 0,
    pmp boolean NOT NULL DEFAULT false,
    industry_domain_capability boolean NOT NULL DEFAULT false,
    passed_expert_group_assessment boolean NOT NULL DEFAULT false,
    written_exams_passed text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX fh_persons_partner_idx ON fh_persons (partner_id, id);

CREATE TABLE fh_certificates (
    id text PRIMARY KEY,
    person_id text,
    partner_id text,
    code text,
    kind text NOT NULL DEFAULT 'cert',
    obtained_on date,
    valid_until date
);
CREATE INDEX fh_certificates_partner_idx ON fh_certificates (partner_id, person_id, id);

CREATE TABLE fh_assessments (
    id text PRIMARY KEY,
    person_id text,
    partner_id text,
    scenario text,
    standard text,
    passed_on date
);
CREATE INDEX fh_assessments_partner_idx ON fh_assessments (partner_id, person_id, id);

-- FH grants and pending FH applications per person, with their coverage months ('YYYY-MM', inclusive).
CREATE TABLE fh_grants (
    id text PRIMARY KEY,
    person_id text,
    partner_id text,
    application_id text,
    programme text,
    scenario text,
    standards text[] NOT NULL DEFAULT '{}',
    coverage_from text,
    coverage_to text,
    project_ids text[] NOT NULL DEFAULT '{}',
    level text,
    amount numeric(20, 2),
    status text NOT NULL DEFAULT 'approved',
    granted_on date
);
CREATE INDEX fh_grants_person_idx ON fh_grants (person_id, coverage_from, id);
CREATE INDEX fh_grants_partner_idx ON fh_grants (partner_id, coverage_from, id);

CREATE TABLE fh_applications (
    id text PRIMARY KEY,
    partner_id text,
    programme text,
    month text,
    status text NOT NULL DEFAULT 'submitted',
    submitted_at timestamptz
);
CREATE INDEX fh_applications_partner_idx ON fh_applications (partner_id, month, id);

CREATE TABLE fh_projects (
    id text PRIMARY KEY,
    partner_id text,
    name text,
    is_public_cloud boolean NOT NULL DEFAULT false,
    currency text NOT NULL DEFAULT 'CNY',
    cash_paid numeric(20, 2) NOT NULL DEFAULT 0,
    start_month text,
    rep_office_recognized boolean NOT NULL DEFAULT false
);
CREATE INDEX fh_projects_partner_idx ON fh_projects (partner_id, id);

-- Monthly customer payments of a public-cloud evidence project; only cash counts (GEN-09).
CREATE TABLE fh_project_cash (
    project_id text NOT NULL,
    partner_id text,
    month text NOT NULL,
    cash_amount numeric(20, 2) NOT NULL DEFAULT 0,
    voucher_amount numeric(20, 2) NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, month)
);
CREATE INDEX fh_project_cash_partner_idx ON fh_project_cash (partner_id, project_id, month);

-- Monthly incentives of the 2024 expert-service plan, paid per natural quarter (FH-16).
CREATE TABLE fh_monthly_incentives (
    partner_id text NOT NULL,
    programme text NOT NULL DEFAULT 'svc_expert_2024',
    month text NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    amount numeric(20, 2),
    PRIMARY KEY (partner_id, programme, month)
);
