-- The heat map's counts, kept by triggers: how many open (not closed) risks
-- sit in each cell of the matrix, inherent (residual = 0) and residual
-- (residual = 1). The register page and the dashboard read these few rows
-- instead of counting 100,000 risks on every view. Derived data: backups
-- leave it out and a restore recounts it.
CREATE TABLE risk_heat (
    org_id INTEGER NOT NULL,
    residual INTEGER NOT NULL CHECK (residual IN (0, 1)),
    likelihood INTEGER NOT NULL,
    impact INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (org_id, residual, likelihood, impact)
) WITHOUT ROWID;

INSERT INTO risk_heat (org_id, residual, likelihood, impact, n)
SELECT org_id, 0, likelihood, impact, COUNT(*) FROM risks WHERE status <> 'closed'
GROUP BY org_id, likelihood, impact;
INSERT INTO risk_heat (org_id, residual, likelihood, impact, n)
SELECT org_id, 1, residual_likelihood, residual_impact, COUNT(*) FROM risks WHERE status <> 'closed'
GROUP BY org_id, residual_likelihood, residual_impact;

CREATE TRIGGER risk_heat_insert AFTER INSERT ON risks WHEN new.status <> 'closed' BEGIN
    INSERT INTO risk_heat (org_id, residual, likelihood, impact, n)
    VALUES (new.org_id, 0, new.likelihood, new.impact, 1)
    ON CONFLICT (org_id, residual, likelihood, impact) DO UPDATE SET n = n + 1;
    INSERT INTO risk_heat (org_id, residual, likelihood, impact, n)
    VALUES (new.org_id, 1, new.residual_likelihood, new.residual_impact, 1)
    ON CONFLICT (org_id, residual, likelihood, impact) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER risk_heat_delete AFTER DELETE ON risks WHEN old.status <> 'closed' BEGIN
    UPDATE risk_heat SET n = n - 1 WHERE org_id = old.org_id AND residual = 0
        AND likelihood = old.likelihood AND impact = old.impact;
    UPDATE risk_heat SET n = n - 1 WHERE org_id = old.org_id AND residual = 1
        AND likelihood = old.residual_likelihood AND impact = old.residual_impact;
END;

CREATE TRIGGER risk_heat_update_old AFTER UPDATE OF likelihood, impact, residual_likelihood, residual_impact, status ON risks
WHEN old.status <> 'closed' BEGIN
    UPDATE risk_heat SET n = n - 1 WHERE org_id = old.org_id AND residual = 0
        AND likelihood = old.likelihood AND impact = old.impact;
    UPDATE risk_heat SET n = n - 1 WHERE org_id = old.org_id AND residual = 1
        AND likelihood = old.residual_likelihood AND impact = old.residual_impact;
END;

CREATE TRIGGER risk_heat_update_new AFTER UPDATE OF likelihood, impact, residual_likelihood, residual_impact, status ON risks
WHEN new.status <> 'closed' BEGIN
    INSERT INTO risk_heat (org_id, residual, likelihood, impact, n)
    VALUES (new.org_id, 0, new.likelihood, new.impact, 1)
    ON CONFLICT (org_id, residual, likelihood, impact) DO UPDATE SET n = n + 1;
    INSERT INTO risk_heat (org_id, residual, likelihood, impact, n)
    VALUES (new.org_id, 1, new.residual_likelihood, new.residual_impact, 1)
    ON CONFLICT (org_id, residual, likelihood, impact) DO UPDATE SET n = n + 1;
END;

-- The heat map no longer counts over the register: its covering index goes
-- (one index less to keep on every write and import). Risks due for review
-- are found by date instead of by reading every risk.
DROP INDEX risks_org_heat;
CREATE INDEX risks_org_review ON risks(org_id, next_review);
