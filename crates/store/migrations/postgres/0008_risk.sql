-- Risk management (6.1.2, 6.1.3, 8.2, 8.3, Annex A 5.9): the methodology, assets and their
-- dependencies, the risk register, its links to assets and Annex A controls, acceptances.
-- Links name their organisation and reference (org_id, id) so a link never crosses tenants.

-- One per organisation when it departs from the built-in 5x5 default (JSON of
-- isms_domain::risk::Methodology).
CREATE TABLE risk_methodologies (
    org_id BIGINT PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    body_json TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
);

CREATE TABLE assets (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    asset_type TEXT NOT NULL CHECK (asset_type IN ('information', 'software', 'hardware', 'service', 'people', 'site', 'supplier')),
    description TEXT NOT NULL DEFAULT '',
    owner_user_id BIGINT REFERENCES users(id),
    location TEXT NOT NULL DEFAULT '',
    classification TEXT NOT NULL DEFAULT '',
    confidentiality BIGINT NOT NULL DEFAULT 0 CHECK (confidentiality BETWEEN 0 AND 5),
    integrity BIGINT NOT NULL DEFAULT 0 CHECK (integrity BETWEEN 0 AND 5),
    availability BIGINT NOT NULL DEFAULT 0 CHECK (availability BETWEEN 0 AND 5),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, id),
    UNIQUE (org_id, name)
);

CREATE TABLE asset_dependencies (
    org_id BIGINT NOT NULL,
    asset_id BIGINT NOT NULL,
    depends_on_id BIGINT NOT NULL,
    PRIMARY KEY (org_id, asset_id, depends_on_id),
    FOREIGN KEY (org_id, asset_id) REFERENCES assets(org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, depends_on_id) REFERENCES assets(org_id, id) ON DELETE CASCADE,
    CHECK (asset_id <> depends_on_id)
);

CREATE TABLE risks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    description TEXT NOT NULL DEFAULT '',
    threat TEXT NOT NULL DEFAULT '',
    vulnerability TEXT NOT NULL DEFAULT '',
    consequence TEXT NOT NULL DEFAULT '',
    -- Lower-cased title and description, what the register's text filter reads.
    search_text TEXT NOT NULL DEFAULT '',
    owner_user_id BIGINT REFERENCES users(id),
    likelihood BIGINT NOT NULL CHECK (likelihood BETWEEN 1 AND 7),
    impact BIGINT NOT NULL CHECK (impact BETWEEN 1 AND 7),
    inherent_level BIGINT NOT NULL CHECK (inherent_level BETWEEN 0 AND 48),
    treatment TEXT NOT NULL CHECK (treatment IN ('modify', 'retain', 'avoid', 'share')),
    residual_likelihood BIGINT NOT NULL CHECK (residual_likelihood BETWEEN 1 AND 7),
    residual_impact BIGINT NOT NULL CHECK (residual_impact BETWEEN 1 AND 7),
    residual_level BIGINT NOT NULL CHECK (residual_level BETWEEN 0 AND 48),
    status TEXT NOT NULL DEFAULT 'assessed' CHECK (status IN ('identified', 'assessed', 'treating', 'accepted', 'closed')),
    next_review TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, id)
);
-- In the register's order (highest level first, then oldest), so a page is read, not sorted.
CREATE INDEX risks_org_level ON risks(org_id, inherent_level DESC, id ASC);
CREATE INDEX risks_org_residual ON risks(org_id, residual_level DESC, id ASC);

CREATE TABLE risk_assets (
    org_id BIGINT NOT NULL,
    risk_id BIGINT NOT NULL,
    asset_id BIGINT NOT NULL,
    -- Keys lead with (org_id, risk_id): every read of a risk's links is a key range.
    PRIMARY KEY (org_id, risk_id, asset_id),
    FOREIGN KEY (org_id, risk_id) REFERENCES risks(org_id, id) ON DELETE CASCADE,
    -- No cascade: an asset still linked to a risk cannot be deleted.
    FOREIGN KEY (org_id, asset_id) REFERENCES assets(org_id, id)
);
CREATE INDEX risk_assets_asset ON risk_assets(org_id, asset_id);

CREATE TABLE risk_controls (
    org_id BIGINT NOT NULL,
    risk_id BIGINT NOT NULL,
    control_id TEXT NOT NULL REFERENCES annex_a_controls(control_id),
    PRIMARY KEY (org_id, risk_id, control_id),
    FOREIGN KEY (org_id, risk_id) REFERENCES risks(org_id, id) ON DELETE CASCADE
);
CREATE INDEX risk_controls_control ON risk_controls(org_id, control_id);

-- Every acceptance of a residual risk; the latest is the one in force.
CREATE TABLE risk_acceptances (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL,
    risk_id BIGINT NOT NULL,
    residual_level BIGINT NOT NULL,
    accepted_by_user_id BIGINT REFERENCES users(id),
    accepted_by TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    comment TEXT NOT NULL CHECK (length(comment) > 0),
    valid_until TEXT NOT NULL DEFAULT '',
    is_override BOOLEAN NOT NULL DEFAULT FALSE,
    FOREIGN KEY (org_id, risk_id) REFERENCES risks(org_id, id) ON DELETE CASCADE
);
CREATE INDEX risk_acceptances_risk ON risk_acceptances(org_id, risk_id, id);

-- The treatment plan: actions per risk, each with an owner, a due date, a status and a cost.
CREATE TABLE risk_actions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL,
    risk_id BIGINT NOT NULL,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    owner_user_id BIGINT REFERENCES users(id),
    due_date TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
    cost BIGINT NOT NULL DEFAULT 0 CHECK (cost >= 0),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (org_id, risk_id) REFERENCES risks(org_id, id) ON DELETE CASCADE
);
CREATE INDEX risk_actions_risk ON risk_actions(org_id, risk_id);
CREATE INDEX risk_actions_due ON risk_actions(org_id, status, due_date);

-- Assessments at planned intervals (8.2): the register frozen as JSON, numbered per organisation.
CREATE TABLE risk_snapshots (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    taken_at TEXT NOT NULL,
    taken_by TEXT NOT NULL,
    risk_count BIGINT NOT NULL,
    risks_json TEXT NOT NULL,
    UNIQUE (org_id, id)
);
CREATE INDEX risk_snapshots_org ON risk_snapshots(org_id, id);
