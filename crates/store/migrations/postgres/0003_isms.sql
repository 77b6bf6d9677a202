-- The ISMS itself: Statement of Applicability (with approved versions), context and scope.
-- Timestamps are RFC 3339 UTC text on both engines, as in 0001.

-- The 93 Annex A controls of ISO/IEC 27001:2022, by id only (titles and guidance come from
-- isms-catalog): the SoA of every organisation has exactly one entry for each.
CREATE TABLE annex_a_controls (
    control_id TEXT PRIMARY KEY,
    ord BIGINT NOT NULL UNIQUE
);
INSERT INTO annex_a_controls (control_id, ord) VALUES
('5.1', 1),
('5.2', 2),
('5.3', 3),
('5.4', 4),
('5.5', 5),
('5.6', 6),
('5.7', 7),
('5.8', 8),
('5.9', 9),
('5.10', 10),
('5.11', 11),
('5.12', 12),
('5.13', 13),
('5.14', 14),
('5.15', 15),
('5.16', 16),
('5.17', 17),
('5.18', 18),
('5.19', 19),
('5.20', 20),
('5.21', 21),
('5.22', 22),
('5.23', 23),
('5.24', 24),
('5.25', 25),
('5.26', 26),
('5.27', 27),
('5.28', 28),
('5.29', 29),
('5.30', 30),
('5.31', 31),
('5.32', 32),
('5.33', 33),
('5.34', 34),
('5.35', 35),
('5.36', 36),
('5.37', 37),
('6.1', 38),
('6.2', 39),
('6.3', 40),
('6.4', 41),
('6.5', 42),
('6.6', 43),
('6.7', 44),
('6.8', 45),
('7.1', 46),
('7.2', 47),
('7.3', 48),
('7.4', 49),
('7.5', 50),
('7.6', 51),
('7.7', 52),
('7.8', 53),
('7.9', 54),
('7.10', 55),
('7.11', 56),
('7.12', 57),
('7.13', 58),
('7.14', 59),
('8.1', 60),
('8.2', 61),
('8.3', 62),
('8.4', 63),
('8.5', 64),
('8.6', 65),
('8.7', 66),
('8.8', 67),
('8.9', 68),
('8.10', 69),
('8.11', 70),
('8.12', 71),
('8.13', 72),
('8.14', 73),
('8.15', 74),
('8.16', 75),
('8.17', 76),
('8.18', 77),
('8.19', 78),
('8.20', 79),
('8.21', 80),
('8.22', 81),
('8.23', 82),
('8.24', 83),
('8.25', 84),
('8.26', 85),
('8.27', 86),
('8.28', 87),
('8.29', 88),
('8.30', 89),
('8.31', 90),
('8.32', 91),
('8.33', 92),
('8.34', 93);

-- The working draft of an organisation's SoA: one row per control, created lazily.
CREATE TABLE soa_entries (
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    control_id TEXT NOT NULL REFERENCES annex_a_controls(control_id),
    applicable BOOLEAN NOT NULL DEFAULT TRUE,
    justification TEXT NOT NULL DEFAULT '',
    reasons TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'not_implemented',
    owner_user_id BIGINT REFERENCES users(id),
    notes TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, control_id)
);

-- Approved, immutable versions: the whole SoA frozen as JSON, numbered per organisation.
CREATE TABLE soa_versions (
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    approved_at TEXT NOT NULL,
    approved_by_user_id BIGINT,
    approved_by TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    digest TEXT NOT NULL,
    entries_json TEXT NOT NULL,
    PRIMARY KEY (org_id, number)
);

-- Clause 4.3: the scope statement, one per organisation.
CREATE TABLE isms_scope (
    org_id BIGINT PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    statement TEXT NOT NULL DEFAULT '',
    units TEXT NOT NULL DEFAULT '',
    locations TEXT NOT NULL DEFAULT '',
    processes TEXT NOT NULL DEFAULT '',
    systems_in TEXT NOT NULL DEFAULT '',
    systems_out TEXT NOT NULL DEFAULT '',
    interfaces TEXT NOT NULL DEFAULT '',
    exclusions TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
);

-- Clauses 4.1, 4.2, 5.3 and 6.2: issues, interested parties, RACI and objectives, as
-- typed items of one table (the fields each kind uses are checked in the store).
CREATE TABLE isms_context_items (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    effect TEXT NOT NULL DEFAULT '',
    addressed BOOLEAN NOT NULL DEFAULT FALSE,
    measure TEXT NOT NULL DEFAULT '',
    target TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    due_date TEXT NOT NULL DEFAULT '',
    responsible TEXT NOT NULL DEFAULT '',
    accountable TEXT NOT NULL DEFAULT '',
    consulted TEXT NOT NULL DEFAULT '',
    informed TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX isms_context_items_org ON isms_context_items(org_id, kind);

-- Gap assessments against ISO/IEC 27001:2022 (clauses 4-10 and Annex A): one row per
-- assessable requirement of each assessment, created with the assessment.
CREATE TABLE gap_assessments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    framework_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX gap_assessments_org ON gap_assessments(org_id);

CREATE TABLE gap_entries (
    assessment_id BIGINT NOT NULL REFERENCES gap_assessments(id) ON DELETE CASCADE,
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    ref_id TEXT NOT NULL,
    ord BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'not_started',
    maturity BIGINT NOT NULL DEFAULT 0,
    notes TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    target_date TEXT NOT NULL DEFAULT '',
    actions TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (assessment_id, ref_id)
);
