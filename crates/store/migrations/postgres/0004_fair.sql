-- Quantitative risk scenarios (FAIR-style inputs) saved per organisation, with the
-- result of their last simulation run.
CREATE TABLE fair_scenarios (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    input_text TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    last_report_json TEXT,
    last_run_at TEXT,
    UNIQUE (org_id, name)
);
