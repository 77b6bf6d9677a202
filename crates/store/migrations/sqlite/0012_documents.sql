-- Documented information (5.2, 7.3, 7.5; Annex A 5.1, 5.37): documents, their
-- versions and workflow, the requirements they address, who must acknowledge
-- a published version and who did. Rows name their organisation and
-- reference (org_id, id), so nothing crosses tenants.

-- Per organisation; absent means four-eyes on (the default).
CREATE TABLE document_settings (
    org_id INTEGER PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    four_eyes BOOLEAN NOT NULL DEFAULT TRUE,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
);

CREATE TABLE documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    doc_type TEXT NOT NULL CHECK (doc_type IN ('policy', 'procedure', 'standard', 'record', 'plan', 'statement')),
    template TEXT NOT NULL DEFAULT '',
    owner_user_id INTEGER REFERENCES users(id),
    classification TEXT NOT NULL DEFAULT 'internal' CHECK (classification IN ('public', 'internal', 'confidential', 'restricted')),
    review_months INTEGER NOT NULL DEFAULT 12 CHECK (review_months BETWEEN 1 AND 60),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
    -- The last publication or confirmed review (RFC 3339), '' before the first.
    reviewed_at TEXT NOT NULL DEFAULT '',
    -- Lower-cased title, what the register's text filter reads.
    search_text TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, id)
);

-- The clauses and Annex A controls a document addresses (ref ids of the
-- iso27001-2022 framework: '5.2', 'A.5.1').
CREATE TABLE document_requirements (
    org_id INTEGER NOT NULL,
    document_id INTEGER NOT NULL,
    ref_id TEXT NOT NULL CHECK (length(ref_id) BETWEEN 3 AND 8),
    PRIMARY KEY (org_id, document_id, ref_id),
    FOREIGN KEY (org_id, document_id) REFERENCES documents(org_id, id) ON DELETE CASCADE
);
CREATE INDEX document_requirements_ref ON document_requirements(org_id, ref_id);

-- Versions are never deleted: a published one is superseded by the next.
CREATE TABLE document_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL,
    document_id INTEGER NOT NULL,
    major INTEGER NOT NULL CHECK (major >= 1),
    minor INTEGER NOT NULL CHECK (minor >= 0),
    state TEXT NOT NULL CHECK (state IN ('draft', 'in_review', 'approved', 'published', 'superseded')),
    body TEXT NOT NULL DEFAULT '' CHECK (length(body) <= 200000),
    change_note TEXT NOT NULL DEFAULT '',
    author_user_id INTEGER REFERENCES users(id),
    author TEXT NOT NULL DEFAULT '',
    editor_user_id INTEGER REFERENCES users(id),
    -- JSON array of the reviewers' e-mail addresses.
    reviewers TEXT NOT NULL DEFAULT '[]',
    submitted_at TEXT NOT NULL DEFAULT '',
    approved_by_user_id INTEGER REFERENCES users(id),
    approved_by TEXT NOT NULL DEFAULT '',
    approved_at TEXT NOT NULL DEFAULT '',
    published_by TEXT NOT NULL DEFAULT '',
    published_at TEXT NOT NULL DEFAULT '',
    -- JSON of who must acknowledge ("all", "employees", a role, a list of addresses); '' for nobody.
    acknowledge TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (org_id, id),
    UNIQUE (org_id, document_id, major, minor),
    FOREIGN KEY (org_id, document_id) REFERENCES documents(org_id, id) ON DELETE CASCADE
);

-- Who must acknowledge a published version (fixed when it is published).
CREATE TABLE document_ack_requests (
    org_id INTEGER NOT NULL,
    document_id INTEGER NOT NULL,
    version_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    requested_at TEXT NOT NULL,
    PRIMARY KEY (org_id, version_id, user_id),
    FOREIGN KEY (org_id, version_id) REFERENCES document_versions(org_id, id) ON DELETE CASCADE
);
CREATE INDEX document_ack_requests_user ON document_ack_requests(org_id, user_id);

-- Who acknowledged which version when. One per person and major version:
-- a minor version does not ask again, a new major version does.
CREATE TABLE document_acks (
    org_id INTEGER NOT NULL,
    document_id INTEGER NOT NULL,
    major INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    version_id INTEGER NOT NULL,
    acknowledged_at TEXT NOT NULL,
    PRIMARY KEY (org_id, document_id, major, user_id),
    FOREIGN KEY (org_id, version_id) REFERENCES document_versions(org_id, id) ON DELETE CASCADE
);
