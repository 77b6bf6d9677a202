-- The register's text filter reads a full-text index (a GIN index over the
-- words of risks.search_text: runs of letters and digits, as SQLite's FTS5
-- splits them), so a filtered page no longer reads every risk. Words match
-- as prefixes, as on SQLite.
CREATE INDEX risks_search ON risks
    USING GIN (to_tsvector('simple', regexp_replace(search_text, '[^[:alnum:]]+', ' ', 'g')));

-- The heat map counts open risks per cell from this index alone.
CREATE INDEX risks_org_heat ON risks(org_id, status, likelihood, impact, residual_likelihood, residual_impact);

-- The applied controls (the organisation's own measures) that treat a risk.
CREATE TABLE risk_applied_controls (
    org_id BIGINT NOT NULL,
    risk_id BIGINT NOT NULL,
    applied_control_id BIGINT NOT NULL,
    PRIMARY KEY (org_id, risk_id, applied_control_id),
    FOREIGN KEY (org_id, risk_id) REFERENCES risks(org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, applied_control_id) REFERENCES applied_controls(org_id, id) ON DELETE CASCADE
);
CREATE INDEX risk_applied_controls_control ON risk_applied_controls(org_id, applied_control_id);
