-- Tasks and reminders: hand-made tasks, the roadmap plan of each
-- organisation, the e-mail opt-outs, the calendar feeds and the record of
-- digests sent. Due items of the other modules are not copied here: the task
-- engine reads them through Store::due_items.

-- Tasks created by hand (one model with the modules' due items).
CREATE TABLE tasks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    description TEXT NOT NULL DEFAULT '',
    owner_user_id BIGINT NOT NULL REFERENCES users(id),
    due_date TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tasks_owner ON tasks(org_id, owner_user_id, status);
CREATE INDEX tasks_due ON tasks(org_id, status, due_date);

-- The roadmap as planned by the organisation: an owner and a due date per
-- step (steps are defined in the domain crate; their status is computed).
-- Certification steps, which no data can show done, are closed by hand.
CREATE TABLE roadmap_plan (
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    step TEXT NOT NULL CHECK (length(step) BETWEEN 1 AND 64),
    owner_user_id BIGINT REFERENCES users(id),
    due_date TEXT NOT NULL DEFAULT '',
    done_on TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, step)
);

-- E-mail opt-outs of a member, per category (a due item's kind).
CREATE TABLE notification_optouts (
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    category TEXT NOT NULL CHECK (length(category) BETWEEN 1 AND 64),
    PRIMARY KEY (org_id, user_id, category)
);

-- A member's calendar feed: the secret is in the URL and stored only hashed.
CREATE TABLE calendar_feeds (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX calendar_feeds_user ON calendar_feeds(org_id, user_id);

-- One row per digest sent: written in the transaction that decides to send,
-- so a restart or a second instance never sends the same day's digest twice.
CREATE TABLE digests_sent (
    org_id BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    items BIGINT NOT NULL DEFAULT 0,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id, day)
);
