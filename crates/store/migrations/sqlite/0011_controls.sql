-- Applied controls (8.1), evidence, control reviews and measurement (9.1, ISO/IEC 27004).
-- Every row names its organisation; links reference (org_id, id) so they never cross tenants.

CREATE TABLE applied_controls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    description TEXT NOT NULL DEFAULT '',
    owner_user_id INTEGER REFERENCES users(id),
    category TEXT NOT NULL DEFAULT 'process' CHECK (category IN ('policy', 'process', 'technical', 'physical')),
    status TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'in_progress', 'implemented', 'retired')),
    cost INTEGER NOT NULL DEFAULT 0 CHECK (cost >= 0),
    effort TEXT NOT NULL DEFAULT '' CHECK (effort IN ('', 'S', 'M', 'L', 'XL')),
    start_date TEXT NOT NULL DEFAULT '',
    due_date TEXT NOT NULL DEFAULT '',
    review_schedule TEXT NOT NULL DEFAULT '' CHECK (review_schedule IN ('', 'monthly', 'quarterly', 'half_yearly', 'yearly')),
    next_review TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, id)
);
CREATE INDEX applied_controls_org ON applied_controls(org_id, name);

-- A control's links to requirements of any framework the organisation sees
-- (framework slug and requirement ref id, e.g. iso27001-2022 / A.8.5).
CREATE TABLE control_requirements (
    org_id INTEGER NOT NULL,
    applied_control_id INTEGER NOT NULL,
    framework TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    PRIMARY KEY (org_id, applied_control_id, framework, ref_id),
    FOREIGN KEY (org_id, applied_control_id) REFERENCES applied_controls(org_id, id) ON DELETE CASCADE
);
CREATE INDEX control_requirements_req ON control_requirements(org_id, framework, ref_id);

CREATE TABLE evidence (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    description TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL CHECK (kind IN ('file', 'link')),
    url TEXT NOT NULL DEFAULT '',
    collected_on TEXT NOT NULL,
    expires_on TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, id),
    CHECK (expires_on = '' OR expires_on >= collected_on),
    CHECK ((kind = 'link') = (url <> ''))
);
CREATE INDEX evidence_expiry ON evidence(org_id, expires_on);

-- Every file ever uploaded for a piece of evidence; the highest revision is current.
-- The bytes live in the blob store under their SHA-256.
CREATE TABLE evidence_revisions (
    org_id INTEGER NOT NULL,
    evidence_id INTEGER NOT NULL,
    revision INTEGER NOT NULL CHECK (revision >= 1),
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    size INTEGER NOT NULL CHECK (size > 0),
    content_type TEXT NOT NULL,
    file_name TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    uploaded_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, evidence_id, revision),
    FOREIGN KEY (org_id, evidence_id) REFERENCES evidence(org_id, id) ON DELETE CASCADE
);
CREATE INDEX evidence_revisions_blob ON evidence_revisions(sha256);

CREATE TABLE evidence_controls (
    org_id INTEGER NOT NULL,
    applied_control_id INTEGER NOT NULL,
    evidence_id INTEGER NOT NULL,
    PRIMARY KEY (org_id, applied_control_id, evidence_id),
    FOREIGN KEY (org_id, applied_control_id) REFERENCES applied_controls(org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, evidence_id) REFERENCES evidence(org_id, id) ON DELETE CASCADE
);
CREATE INDEX evidence_controls_evidence ON evidence_controls(org_id, evidence_id);

CREATE TABLE evidence_requirements (
    org_id INTEGER NOT NULL,
    evidence_id INTEGER NOT NULL,
    framework TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    PRIMARY KEY (org_id, evidence_id, framework, ref_id),
    FOREIGN KEY (org_id, evidence_id) REFERENCES evidence(org_id, id) ON DELETE CASCADE
);

CREATE TABLE control_reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL,
    applied_control_id INTEGER NOT NULL,
    reviewed_on TEXT NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('effective', 'partially_effective', 'not_effective')),
    reviewer_user_id INTEGER NOT NULL REFERENCES users(id),
    notes TEXT NOT NULL DEFAULT '',
    evidence_id INTEGER,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (org_id, applied_control_id) REFERENCES applied_controls(org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, evidence_id) REFERENCES evidence(org_id, id)
);
CREATE INDEX control_reviews_control ON control_reviews(org_id, applied_control_id, reviewed_on);

CREATE TABLE metrics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    information_need TEXT NOT NULL DEFAULT '',
    measured TEXT NOT NULL DEFAULT '',
    method TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 40),
    target DOUBLE PRECISION NOT NULL,
    -- higher: at or above target is green; lower: at or below.
    direction TEXT NOT NULL DEFAULT 'higher' CHECK (direction IN ('higher', 'lower')),
    -- Where amber ends and red begins (on the far side of the target); NULL: no amber band.
    red_threshold DOUBLE PRECISION,
    frequency TEXT NOT NULL DEFAULT 'monthly' CHECK (frequency IN ('weekly', 'monthly', 'quarterly', 'half_yearly', 'yearly')),
    collector_user_id INTEGER REFERENCES users(id),
    analyst_user_id INTEGER REFERENCES users(id),
    evaluates TEXT NOT NULL DEFAULT '',
    applied_control_id INTEGER,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, id),
    UNIQUE (org_id, name),
    FOREIGN KEY (org_id, applied_control_id) REFERENCES applied_controls(org_id, id)
);

CREATE TABLE metric_measurements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL,
    metric_id INTEGER NOT NULL,
    measured_on TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (org_id, metric_id) REFERENCES metrics(org_id, id) ON DELETE CASCADE
);
CREATE INDEX metric_measurements_metric ON metric_measurements(org_id, metric_id, measured_on);
