-- Invitations: an account joins an organisation only by accepting one.
-- The link's secret is stored only as its SHA-256.
CREATE TABLE invitations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'isms_manager', 'risk_owner', 'control_owner', 'auditor', 'employee')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    accepted_at TEXT,
    accepted_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    revoked_at TEXT,
    CHECK (accepted_at IS NULL OR revoked_at IS NULL),
    CHECK (expires_at > created_at)
);
CREATE INDEX invitations_org ON invitations(org_id, email);
