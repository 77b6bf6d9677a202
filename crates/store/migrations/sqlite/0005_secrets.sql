-- Secrets of the installation (shared by every instance), created on first use:
-- e.g. the key that signs login-form tokens.
CREATE TABLE installation_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL
);
