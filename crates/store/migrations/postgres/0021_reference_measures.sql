-- Issue 16: reference controls and metric definitions of libraries get a home (library_items
-- takes two more kinds), applied controls and metrics keep the link to the reference they
-- were created from, and a library records its provider.
ALTER TABLE library_items DROP CONSTRAINT library_items_kind_check;
ALTER TABLE library_items ADD CONSTRAINT library_items_kind_check
    CHECK (kind IN ('risk_matrix', 'threat', 'reference_control', 'metric_definition'));
CREATE INDEX library_items_kind ON library_items(kind, org_id, name);

-- The reference measure (library_items URN) an applied control was created from.
ALTER TABLE applied_controls ADD COLUMN reference_control TEXT;
-- The library metric definition (URN) a metric was created from.
ALTER TABLE metrics ADD COLUMN metric_definition TEXT;
ALTER TABLE libraries ADD COLUMN provider TEXT NOT NULL DEFAULT '';
