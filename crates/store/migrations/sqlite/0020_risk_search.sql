-- The register's text filter reads a full-text index (FTS5, external
-- content: the words of risks.search_text, kept in step by triggers), so
-- a filtered page no longer reads every risk. Words match as prefixes.
CREATE VIRTUAL TABLE risks_fts USING fts5(
    search_text,
    content = 'risks',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO risks_fts (risks_fts) VALUES ('rebuild');
CREATE TRIGGER risks_fts_insert AFTER INSERT ON risks BEGIN
    INSERT INTO risks_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER risks_fts_delete AFTER DELETE ON risks BEGIN
    INSERT INTO risks_fts (risks_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER risks_fts_update AFTER UPDATE OF search_text ON risks BEGIN
    INSERT INTO risks_fts (risks_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO risks_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;

-- The heat map counts open risks per cell from this index alone.
CREATE INDEX risks_org_heat ON risks(org_id, status, likelihood, impact, residual_likelihood, residual_impact);

-- The applied controls (the organisation's own measures) that treat a risk.
CREATE TABLE risk_applied_controls (
    org_id INTEGER NOT NULL,
    risk_id INTEGER NOT NULL,
    applied_control_id INTEGER NOT NULL,
    PRIMARY KEY (org_id, risk_id, applied_control_id),
    FOREIGN KEY (org_id, risk_id) REFERENCES risks(org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, applied_control_id) REFERENCES applied_controls(org_id, id) ON DELETE CASCADE
);
CREATE INDEX risk_applied_controls_control ON risk_applied_controls(org_id, applied_control_id);
