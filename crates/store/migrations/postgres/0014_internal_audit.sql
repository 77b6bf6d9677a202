-- Internal audit (9.2), nonconformities and corrective action (10.2), management review (9.3).
-- Links name their organisation and reference (org_id, id) so a link never crosses tenants.

CREATE TABLE audits (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    -- The framework whose requirements the checklist holds (slug).
    framework TEXT NOT NULL,
    criteria TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'in_progress', 'completed', 'cancelled')),
    start_date TEXT NOT NULL DEFAULT '',
    end_date TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, id)
);
CREATE INDEX audits_org_start ON audits(org_id, start_date);

-- The audit team; the lead auditor is marked.
CREATE TABLE audit_auditors (
    org_id BIGINT NOT NULL,
    audit_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    lead BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (org_id, audit_id, user_id),
    FOREIGN KEY (org_id, audit_id) REFERENCES audits(org_id, id) ON DELETE CASCADE
);

-- The checklist: one item per requirement in scope, in the framework's order.
CREATE TABLE audit_items (
    org_id BIGINT NOT NULL,
    audit_id BIGINT NOT NULL,
    ref_id TEXT NOT NULL,
    ord BIGINT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, audit_id, ref_id),
    FOREIGN KEY (org_id, audit_id) REFERENCES audits(org_id, id) ON DELETE CASCADE
);

CREATE TABLE audit_findings (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL,
    audit_id BIGINT NOT NULL,
    ref_id TEXT NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('conform', 'minor_nonconformity', 'major_nonconformity', 'observation', 'opportunity')),
    notes TEXT NOT NULL DEFAULT '',
    -- Links to evidence, one per line (files through the evidence store when it exists).
    evidence TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, audit_id, ref_id) REFERENCES audit_items(org_id, audit_id, ref_id) ON DELETE CASCADE
);
CREATE INDEX audit_findings_audit ON audit_findings(org_id, audit_id, id);

CREATE TABLE nonconformities (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    description TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL CHECK (severity IN ('minor', 'major')),
    source TEXT NOT NULL CHECK (source IN ('audit', 'incident', 'review', 'manual')),
    audit_id BIGINT,
    finding_id BIGINT,
    -- The requirement not met as shown (`8.5`, `clause 9.2`), or empty.
    requirement TEXT NOT NULL DEFAULT '',
    owner_user_id BIGINT REFERENCES users(id),
    correction TEXT NOT NULL DEFAULT '',
    root_cause_json TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'action_planned', 'verification', 'closed', 'reopened')),
    raised_at TEXT NOT NULL,
    raised_by TEXT NOT NULL DEFAULT '',
    closed_at TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, audit_id) REFERENCES audits(org_id, id),
    FOREIGN KEY (org_id, finding_id) REFERENCES audit_findings(org_id, id)
);
CREATE INDEX nonconformities_org_status ON nonconformities(org_id, status, id);

CREATE TABLE nc_actions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL,
    nc_id BIGINT NOT NULL,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    owner_user_id BIGINT REFERENCES users(id),
    due_date TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    done_at TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (org_id, nc_id) REFERENCES nonconformities(org_id, id) ON DELETE CASCADE
);
CREATE INDEX nc_actions_nc ON nc_actions(org_id, nc_id, id);
CREATE INDEX nc_actions_due ON nc_actions(org_id, status, due_date);

-- Verifications of effectiveness: who, when, the result, notes.
CREATE TABLE nc_verifications (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL,
    nc_id BIGINT NOT NULL,
    effective BOOLEAN NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    verified_by_user_id BIGINT REFERENCES users(id),
    verified_by TEXT NOT NULL,
    verified_at TEXT NOT NULL,
    FOREIGN KEY (org_id, nc_id) REFERENCES nonconformities(org_id, id) ON DELETE CASCADE
);
CREATE INDEX nc_verifications_nc ON nc_verifications(org_id, nc_id, id);

CREATE TABLE management_reviews (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    review_date TEXT NOT NULL,
    -- One attendee per line.
    attendees TEXT NOT NULL DEFAULT '',
    minutes TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, id)
);
CREATE INDEX management_reviews_org_date ON management_reviews(org_id, review_date, id);

CREATE TABLE review_decisions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL,
    review_id BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('improvement', 'change', 'resources', 'other')),
    text TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 2000),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (org_id, review_id) REFERENCES management_reviews(org_id, id) ON DELETE CASCADE
);

CREATE TABLE review_actions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL,
    review_id BIGINT NOT NULL,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    owner_user_id BIGINT REFERENCES users(id),
    due_date TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (org_id, review_id) REFERENCES management_reviews(org_id, id) ON DELETE CASCADE
);
CREATE INDEX review_actions_review ON review_actions(org_id, review_id, id);
