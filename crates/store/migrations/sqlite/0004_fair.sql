-- Quantitative risk scenarios (FAIR-style inputs) saved per organisation, with the
-- result of their last simulation run.
CREATE TABLE fair_scenarios (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    input_text TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    last_report_json TEXT,
    last_run_at TEXT,
    UNIQUE (org_id, name)
);
