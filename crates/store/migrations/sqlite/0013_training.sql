-- Training and awareness (7.2, 7.3): courses with an optional quiz, assignments of a course to
-- people with a due date, completion records (attempts included), and competence: what each
-- role requires and the evidence each person holds. Links name their organisation and
-- reference (org_id, id) so a record never crosses tenants.

CREATE TABLE courses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description TEXT NOT NULL DEFAULT '',
    content TEXT NOT NULL DEFAULT '',
    link TEXT NOT NULL DEFAULT '',
    -- JSON of isms_domain::training::Quiz, or NULL for a course without a quiz.
    quiz_json TEXT,
    validity_months INTEGER NOT NULL DEFAULT 12 CHECK (validity_months BETWEEN 0 AND 120),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, id),
    UNIQUE (org_id, title)
);

CREATE TABLE course_assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL,
    course_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    due_date TEXT NOT NULL CHECK (length(due_date) = 10),
    assigned_by TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, id),
    UNIQUE (org_id, course_id, user_id),
    FOREIGN KEY (org_id, course_id) REFERENCES courses(org_id, id) ON DELETE CASCADE
);
CREATE INDEX course_assignments_user ON course_assignments(org_id, user_id);
CREATE INDEX course_assignments_due ON course_assignments(org_id, due_date);

-- Every submission: passed or not, never changed or deleted.
CREATE TABLE training_completions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL,
    assignment_id INTEGER NOT NULL,
    completed_at TEXT NOT NULL,
    completed_on TEXT NOT NULL CHECK (length(completed_on) = 10),
    -- Percent of right answers; NULL for a course without a quiz.
    score INTEGER CHECK (score BETWEEN 0 AND 100),
    passed BOOLEAN NOT NULL,
    expires_on TEXT NOT NULL DEFAULT '',
    answers_json TEXT NOT NULL DEFAULT '[]',
    FOREIGN KEY (org_id, assignment_id) REFERENCES course_assignments(org_id, id) ON DELETE CASCADE
);
CREATE INDEX training_completions_assignment ON training_completions(org_id, assignment_id, id);

CREATE TABLE competence_requirements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'isms_manager', 'risk_owner', 'control_owner', 'auditor', 'employee')),
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, id),
    UNIQUE (org_id, role, title)
);

CREATE TABLE competence_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    requirement_id INTEGER NOT NULL,
    evidence TEXT NOT NULL CHECK (length(evidence) BETWEEN 1 AND 2000),
    achieved_on TEXT NOT NULL CHECK (length(achieved_on) = 10),
    expires_on TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, requirement_id) REFERENCES competence_requirements(org_id, id) ON DELETE CASCADE
);
CREATE INDEX competence_records_user ON competence_records(org_id, user_id);
