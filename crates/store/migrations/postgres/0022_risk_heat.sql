-- The heat map's counts, kept by a trigger: how many open (not closed) risks
-- sit in each cell of the matrix, inherent (residual = 0) and residual
-- (residual = 1). The register page and the dashboard read these few rows
-- instead of counting 100,000 risks on every view. Derived data: backups
-- leave it out and a restore recounts it.
CREATE TABLE risk_heat (
    org_id BIGINT NOT NULL,
    residual BIGINT NOT NULL CHECK (residual IN (0, 1)),
    likelihood BIGINT NOT NULL,
    impact BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (org_id, residual, likelihood, impact)
);

INSERT INTO risk_heat (org_id, residual, likelihood, impact, n)
SELECT org_id, 0, likelihood, impact, COUNT(*) FROM risks WHERE status <> 'closed'
GROUP BY org_id, likelihood, impact;
INSERT INTO risk_heat (org_id, residual, likelihood, impact, n)
SELECT org_id, 1, residual_likelihood, residual_impact, COUNT(*) FROM risks WHERE status <> 'closed'
GROUP BY org_id, residual_likelihood, residual_impact;

-- Statement-level triggers over transition tables: one aggregated change
-- per statement, however many rows it touched. (Row-level triggers updated
-- the same few counter rows thousands of times in one import transaction,
-- and each update walked the row's growing chain of versions: an import of
-- 100,000 risks took minutes.) An UPDATE counts only the rows whose cell or
-- open/closed state changed, so most updates (title, owner, review date)
-- touch no counter and take no lock on one.
CREATE FUNCTION risk_heat_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO risk_heat (org_id, residual, likelihood, impact, n)
        SELECT org_id, residual, l, i, SUM(d) FROM (
            SELECT org_id, 0 AS residual, likelihood AS l, impact AS i, 1 AS d
            FROM new_rows WHERE status <> 'closed'
            UNION ALL
            SELECT org_id, 1, residual_likelihood, residual_impact, 1
            FROM new_rows WHERE status <> 'closed'
        ) delta GROUP BY org_id, residual, l, i
        ON CONFLICT (org_id, residual, likelihood, impact) DO UPDATE SET n = risk_heat.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO risk_heat (org_id, residual, likelihood, impact, n)
        SELECT org_id, residual, l, i, SUM(d) FROM (
            SELECT org_id, 0 AS residual, likelihood AS l, impact AS i, -1 AS d
            FROM old_rows WHERE status <> 'closed'
            UNION ALL
            SELECT org_id, 1, residual_likelihood, residual_impact, -1
            FROM old_rows WHERE status <> 'closed'
        ) delta GROUP BY org_id, residual, l, i
        ON CONFLICT (org_id, residual, likelihood, impact) DO UPDATE SET n = risk_heat.n + EXCLUDED.n;
    ELSE
        INSERT INTO risk_heat (org_id, residual, likelihood, impact, n)
        SELECT org_id, residual, l, i, SUM(d) FROM (
            SELECT o.org_id, 0 AS residual, o.likelihood AS l, o.impact AS i, -1 AS d
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.status <> 'closed' AND (o.likelihood, o.impact, o.residual_likelihood, o.residual_impact, o.status <> 'closed')
                IS DISTINCT FROM (n.likelihood, n.impact, n.residual_likelihood, n.residual_impact, n.status <> 'closed')
            UNION ALL
            SELECT o.org_id, 1, o.residual_likelihood, o.residual_impact, -1
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.status <> 'closed' AND (o.likelihood, o.impact, o.residual_likelihood, o.residual_impact, o.status <> 'closed')
                IS DISTINCT FROM (n.likelihood, n.impact, n.residual_likelihood, n.residual_impact, n.status <> 'closed')
            UNION ALL
            SELECT n.org_id, 0, n.likelihood, n.impact, 1
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE n.status <> 'closed' AND (o.likelihood, o.impact, o.residual_likelihood, o.residual_impact, o.status <> 'closed')
                IS DISTINCT FROM (n.likelihood, n.impact, n.residual_likelihood, n.residual_impact, n.status <> 'closed')
            UNION ALL
            SELECT n.org_id, 1, n.residual_likelihood, n.residual_impact, 1
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE n.status <> 'closed' AND (o.likelihood, o.impact, o.residual_likelihood, o.residual_impact, o.status <> 'closed')
                IS DISTINCT FROM (n.likelihood, n.impact, n.residual_likelihood, n.residual_impact, n.status <> 'closed')
        ) delta GROUP BY org_id, residual, l, i HAVING SUM(d) <> 0
        ON CONFLICT (org_id, residual, likelihood, impact) DO UPDATE SET n = risk_heat.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER risk_heat_insert AFTER INSERT ON risks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION risk_heat_count();
CREATE TRIGGER risk_heat_delete AFTER DELETE ON risks
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION risk_heat_count();
CREATE TRIGGER risk_heat_update AFTER UPDATE ON risks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION risk_heat_count();

-- The heat map no longer counts over the register: its covering index goes
-- (one index less to keep on every write and import). Risks due for review
-- are found by date instead of by reading every risk.
DROP INDEX risks_org_heat;
CREATE INDEX risks_org_review ON risks(org_id, next_review);

-- The register's text filter matches each typed word as the start of a word
-- of the risk. A GIN prefix search (`word:*`) gathers every matching entry
-- into a bitmap and took 3 to 6 ms over 100,000 risks; indexing every
-- prefix of every word makes each typed word an exact lookup (about 1 ms).
CREATE FUNCTION risk_word_prefixes(t text) RETURNS tsvector IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
    SELECT COALESCE(array_to_tsvector(array_agg(DISTINCT left(w, n))), ''::tsvector)
    FROM unnest(tsvector_to_array(to_tsvector('simple', regexp_replace(t, '[^[:alnum:]]+', ' ', 'g')))) w,
         generate_series(1, length(w)) n
$$;
DROP INDEX risks_search;
CREATE INDEX risks_search ON risks USING GIN (risk_word_prefixes(search_text));
