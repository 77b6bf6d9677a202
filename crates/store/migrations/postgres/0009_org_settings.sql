-- Organisation settings: the time zone pages show times in (an IANA name,
-- checked against the time zone database by the application) and the
-- currency of every money figure (an ISO 4217 code). An organisation
-- without a row has the defaults: UTC and EUR.
CREATE TABLE org_settings (
    org_id BIGINT PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    time_zone TEXT NOT NULL DEFAULT 'UTC' CHECK (length(time_zone) BETWEEN 1 AND 64),
    currency TEXT NOT NULL DEFAULT 'EUR' CHECK (length(currency) = 3 AND currency = upper(currency)),
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
);
