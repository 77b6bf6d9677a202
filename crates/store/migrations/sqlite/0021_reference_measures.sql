-- Issue 16: reference controls and metric definitions of libraries get a home (library_items
-- takes two more kinds), applied controls and metrics keep the link to the reference they
-- were created from, and a library records its provider.
CREATE TABLE library_items_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER REFERENCES organisations(id) ON DELETE CASCADE,
    library_urn TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('risk_matrix', 'threat', 'reference_control', 'metric_definition')),
    urn TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    body_json TEXT NOT NULL,
    translations_json TEXT,
    imported_at TEXT NOT NULL
);
INSERT INTO library_items_new (id, org_id, library_urn, kind, urn, ref_id, name, description, body_json, translations_json, imported_at)
    SELECT id, org_id, library_urn, kind, urn, ref_id, name, description, body_json, translations_json, imported_at FROM library_items;
DROP TABLE library_items;
ALTER TABLE library_items_new RENAME TO library_items;
CREATE UNIQUE INDEX library_items_urn ON library_items(kind, urn, COALESCE(org_id, 0));
CREATE INDEX library_items_library ON library_items(library_urn);
CREATE INDEX library_items_kind ON library_items(kind, org_id, name);

-- The reference measure (library_items URN) an applied control was created from.
ALTER TABLE applied_controls ADD COLUMN reference_control TEXT;
-- The library metric definition (URN) a metric was created from.
ALTER TABLE metrics ADD COLUMN metric_definition TEXT;
ALTER TABLE libraries ADD COLUMN provider TEXT NOT NULL DEFAULT '';
