-- Reading periods and retired courses. A document says how many days people
-- have to read and acknowledge a published version (`reading_days`); each
-- published version keeps its own read-by date (YYYY-MM-DD, '' for versions
-- published before this existed: their date is computed from publication).
-- A course may be retired: it takes no new assignments, its records stay.
ALTER TABLE documents ADD COLUMN reading_days BIGINT NOT NULL DEFAULT 14 CHECK (reading_days BETWEEN 0 AND 365);
ALTER TABLE document_versions ADD COLUMN read_by TEXT NOT NULL DEFAULT '' CHECK (read_by = '' OR length(read_by) = 10);
ALTER TABLE courses ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired'));
ALTER TABLE courses ADD COLUMN retired_at TEXT NOT NULL DEFAULT '';
