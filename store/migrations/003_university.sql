-- University cloud-resource vouchers (rules-marketplace.md §5).
CREATE TABLE university_vouchers (
    id text PRIMARY KEY,
    student_account_id text,
    course_name text,
    course_category text NOT NULL DEFAULT 'unknown',
    amount numeric(20, 2),
    balance numeric(20, 2),
    issued_at timestamptz,
    valid_to date,
    site text NOT NULL DEFAULT 'mainland',
    activation_code_method boolean NOT NULL DEFAULT false
);
