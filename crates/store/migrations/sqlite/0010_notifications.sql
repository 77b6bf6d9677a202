-- The in-app inbox: one row per message to one member of one organisation.
-- Modules write messages (a reminder, an assignment); the inbox page, the
-- unread count in the header and the e-mail digest read them. A message with
-- a dedupe key is written at most once per member and key, so a reminder
-- computed again (after a restart, on another instance) is not repeated.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    category TEXT NOT NULL CHECK (length(category) BETWEEN 1 AND 64),
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    body TEXT NOT NULL DEFAULT '',
    link TEXT NOT NULL DEFAULT '',
    dedupe_key TEXT,
    created_at TEXT NOT NULL,
    read_at TEXT
);
CREATE INDEX notifications_inbox ON notifications(org_id, user_id, id);
CREATE UNIQUE INDEX notifications_dedupe ON notifications(org_id, user_id, dedupe_key);
