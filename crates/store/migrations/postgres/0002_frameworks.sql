-- Frameworks: requirement trees shared by the whole installation, cross-framework
-- mappings imported by users (the built-in NIST mappings live in the binary), and the
-- installation's own audit chain for changes that belong to no organisation.
CREATE TABLE frameworks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    publisher TEXT NOT NULL,
    licence_note TEXT NOT NULL,
    builtin BOOLEAN NOT NULL DEFAULT FALSE,
    source_file TEXT NOT NULL,
    source_format TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    imported_at TEXT NOT NULL
);

CREATE TABLE requirements (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    framework_id BIGINT NOT NULL REFERENCES frameworks(id) ON DELETE CASCADE,
    ref_id TEXT NOT NULL,
    parent_ref_id TEXT,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    discussion TEXT,
    guidance_json TEXT,
    control_id TEXT,
    withdrawn BOOLEAN NOT NULL DEFAULT FALSE,
    position BIGINT NOT NULL,
    depth BIGINT NOT NULL,
    UNIQUE (framework_id, ref_id)
);
CREATE INDEX requirements_order ON requirements(framework_id, position);

CREATE TABLE mappings (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_framework TEXT NOT NULL,
    source_ref TEXT NOT NULL,
    target_framework TEXT NOT NULL,
    target_ref TEXT NOT NULL,
    relationship TEXT NOT NULL,
    note TEXT NOT NULL,
    origin TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (source_framework, source_ref, target_framework, target_ref, origin)
);
CREATE INDEX mappings_source ON mappings(source_framework, source_ref);
CREATE INDEX mappings_target ON mappings(target_framework, target_ref);

CREATE TABLE system_audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    actor_user_id BIGINT,
    actor TEXT NOT NULL,
    via TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE system_counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO system_counters (name, value) VALUES ('audit_seq', 0);
