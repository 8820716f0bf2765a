-- Published policy revisions: file contents by digest (shared by every revision that holds them),
-- trees (a content-addressed set of paths), and the revision history that points at trees.
CREATE TABLE policy_blobs (
    digest text PRIMARY KEY,
    content bytea NOT NULL
);

CREATE TABLE policy_trees (
    digest text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE policy_tree_files (
    tree text NOT NULL REFERENCES policy_trees (digest),
    path text NOT NULL,
    blob text NOT NULL REFERENCES policy_blobs (digest),
    PRIMARY KEY (tree, path)
);

CREATE TABLE policy_revisions (
    seq bigserial PRIMARY KEY,
    tree text NOT NULL REFERENCES policy_trees (digest),
    parent bigint REFERENCES policy_revisions (seq),
    author text NOT NULL,
    message text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    restored_from bigint REFERENCES policy_revisions (seq),
    diff jsonb NOT NULL
);
CREATE INDEX policy_revisions_tree_idx ON policy_revisions (tree);

CREATE TABLE policy_drafts (
    id text PRIMARY KEY,
    base bigint REFERENCES policy_revisions (seq),
    author text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    published bigint REFERENCES policy_revisions (seq)
);

-- A draft's changes: content NULL removes the path from the base tree.
CREATE TABLE policy_draft_files (
    draft text NOT NULL REFERENCES policy_drafts (id) ON DELETE CASCADE,
    path text NOT NULL,
    content bytea,
    PRIMARY KEY (draft, path)
);
-- Impact analysis reads the log in the order it was written, page by page (keyset on recorded_at, id).
CREATE INDEX decision_log_recorded_idx ON decision_log (recorded_at, id COLLATE "C");
---- create above / drop below ----
DROP INDEX decision_log_recorded_idx;
DROP TABLE policy_draft_files;
DROP TABLE policy_drafts;
DROP TABLE policy_revisions;
DROP TABLE policy_tree_files;
DROP TABLE policy_trees;
DROP TABLE policy_blobs;
