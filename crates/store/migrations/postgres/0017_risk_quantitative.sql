-- The quantitative bridge: a register risk may carry FAIR inputs (loss
-- event frequency and loss magnitude as distributions of the FAIR engine,
-- JSON); its annualised loss (mean and P90 of a fixed-seed simulation) is
-- stored beside them so lists show it without simulating again.
CREATE TABLE risk_quantitative (
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    risk_id BIGINT NOT NULL,
    input_json TEXT NOT NULL,
    ale_mean DOUBLE PRECISION NOT NULL CHECK (ale_mean >= 0),
    ale_p90 DOUBLE PRECISION NOT NULL CHECK (ale_p90 >= 0),
    iterations BIGINT NOT NULL CHECK (iterations > 0),
    computed_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (org_id, risk_id),
    FOREIGN KEY (org_id, risk_id) REFERENCES risks(org_id, id) ON DELETE CASCADE
);
