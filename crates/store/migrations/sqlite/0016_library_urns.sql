-- Libraries (CISO Assistant and the like): requirement nodes identified by a key that is the
-- source's URN when it has one (ref ids may then repeat under different parents) or the ref
-- id; the label shown where a ref id repeats ("3.3 › 3"); nodes a newer library version no
-- longer has are retired, not deleted; names and descriptions in other languages kept as JSON.
-- The requirements table is rebuilt to drop its unique (framework_id, ref_id).
CREATE TABLE requirements_keyed (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    framework_id INTEGER NOT NULL REFERENCES frameworks(id) ON DELETE CASCADE,
    ref_id TEXT NOT NULL,
    parent_ref_id TEXT,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    discussion TEXT,
    guidance_json TEXT,
    control_id TEXT,
    withdrawn BOOLEAN NOT NULL DEFAULT FALSE,
    position INTEGER NOT NULL,
    depth INTEGER NOT NULL,
    node_key TEXT NOT NULL,
    parent_key TEXT,
    display_ref TEXT NOT NULL,
    retired BOOLEAN NOT NULL DEFAULT FALSE,
    translations_json TEXT
);
INSERT INTO requirements_keyed (id, framework_id, ref_id, parent_ref_id, kind, title, description, discussion,
    guidance_json, control_id, withdrawn, position, depth, node_key, parent_key, display_ref)
    SELECT id, framework_id, ref_id, parent_ref_id, kind, title, description, discussion,
    guidance_json, control_id, withdrawn, position, depth, ref_id, parent_ref_id, ref_id
    FROM requirements ORDER BY id;
DROP TABLE requirements;
ALTER TABLE requirements_keyed RENAME TO requirements;
CREATE UNIQUE INDEX requirements_key ON requirements(framework_id, node_key);
CREATE INDEX requirements_ref ON requirements(framework_id, ref_id);
CREATE INDEX requirements_parent ON requirements(framework_id, parent_key);
CREATE INDEX requirements_order ON requirements(framework_id, position);

ALTER TABLE frameworks ADD COLUMN framework_urn TEXT;
ALTER TABLE frameworks ADD COLUMN library_urn TEXT;
ALTER TABLE frameworks ADD COLUMN library_version BIGINT;
ALTER TABLE frameworks ADD COLUMN translations_json TEXT;

-- A mapping names its ends by framework and ref id, and, when the source has them, by the
-- requirements' URNs: the stable identity it resolves by once the framework is installed.
ALTER TABLE mappings ADD COLUMN source_key TEXT NOT NULL DEFAULT '';
ALTER TABLE mappings ADD COLUMN target_key TEXT NOT NULL DEFAULT '';
DROP INDEX mappings_unique;
CREATE UNIQUE INDEX mappings_unique ON mappings(source_framework, source_ref, source_key, target_framework, target_ref, target_key, origin, COALESCE(org_id, 0));
CREATE INDEX mappings_source_key ON mappings(source_key);
CREATE INDEX mappings_target_key ON mappings(target_key);

-- One row per installed library: its version decides whether a file updates it or is refused.
-- org_id NULL: installed for the whole installation by the operator.
CREATE TABLE libraries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER REFERENCES organisations(id) ON DELETE CASCADE,
    urn TEXT NOT NULL,
    name TEXT NOT NULL,
    version BIGINT,
    source_file TEXT NOT NULL,
    translations_json TEXT,
    content_json TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX libraries_urn ON libraries(urn, COALESCE(org_id, 0));

-- Objects of libraries that other modules use: risk matrices (methodology templates of the
-- risk module) and threats (its threat library).
CREATE TABLE library_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER REFERENCES organisations(id) ON DELETE CASCADE,
    library_urn TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('risk_matrix', 'threat')),
    urn TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    body_json TEXT NOT NULL,
    translations_json TEXT,
    imported_at TEXT NOT NULL
);
CREATE UNIQUE INDEX library_items_urn ON library_items(kind, urn, COALESCE(org_id, 0));
CREATE INDEX library_items_library ON library_items(library_urn);
