-- Frameworks and mappings imported on the web or the API belong to the
-- importing organisation (visible and changeable only there); NULL marks what
-- the operator installed for the whole installation (built in, or the CLI).
ALTER TABLE frameworks ADD COLUMN org_id INTEGER REFERENCES organisations(id) ON DELETE CASCADE;
CREATE INDEX frameworks_org ON frameworks(org_id);

-- The mappings table is rebuilt: its unique key gains the owner, so that two
-- organisations may import files of the same name without touching each other's.
CREATE TABLE mappings_owned (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER REFERENCES organisations(id) ON DELETE CASCADE,
    source_framework TEXT NOT NULL,
    source_ref TEXT NOT NULL,
    target_framework TEXT NOT NULL,
    target_ref TEXT NOT NULL,
    relationship TEXT NOT NULL,
    note TEXT NOT NULL,
    origin TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
INSERT INTO mappings_owned (source_framework, source_ref, target_framework, target_ref, relationship, note, origin, imported_at)
    SELECT source_framework, source_ref, target_framework, target_ref, relationship, note, origin, imported_at
    FROM mappings ORDER BY id;
DROP TABLE mappings;
ALTER TABLE mappings_owned RENAME TO mappings;
CREATE UNIQUE INDEX mappings_unique ON mappings(source_framework, source_ref, target_framework, target_ref, origin, COALESCE(org_id, 0));
CREATE INDEX mappings_source ON mappings(source_framework, source_ref);
CREATE INDEX mappings_target ON mappings(target_framework, target_ref);
CREATE INDEX mappings_origin ON mappings(org_id, origin);
