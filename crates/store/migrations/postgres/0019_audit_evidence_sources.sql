-- Internal audit, second step: evidence files and links on audit findings
-- (through the evidence store), management review inputs frozen as the
-- meeting saw them, and where a nonconformity came from.

-- Evidence seen on a finding: a piece of evidence (file or link) of the
-- evidence store, so files are content-addressed and downloaded like any other.
CREATE TABLE finding_evidence (
    org_id BIGINT NOT NULL,
    finding_id BIGINT NOT NULL,
    evidence_id BIGINT NOT NULL,
    PRIMARY KEY (org_id, finding_id, evidence_id),
    FOREIGN KEY (org_id, finding_id) REFERENCES audit_findings(org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, evidence_id) REFERENCES evidence(org_id, id) ON DELETE CASCADE
);
CREATE INDEX finding_evidence_evidence ON finding_evidence(org_id, evidence_id);

-- The inputs compiled when the review froze them (JSON), and when and by whom;
-- empty while the inputs are still compiled from the data at every read.
ALTER TABLE management_reviews ADD COLUMN inputs_json TEXT NOT NULL DEFAULT '';
ALTER TABLE management_reviews ADD COLUMN inputs_frozen_at TEXT NOT NULL DEFAULT '';
ALTER TABLE management_reviews ADD COLUMN inputs_frozen_by TEXT NOT NULL DEFAULT '';

-- Where a nonconformity came from, beyond an audit finding: the management
-- review (source 'review' without a control review) or the control review
-- found not effective (source 'review' with control_review_id: the source
-- column keeps its four values the same on both engines), and a
-- free reference (an incident's number or address, a note for one raised by hand).
ALTER TABLE nonconformities ADD COLUMN review_id BIGINT REFERENCES management_reviews(id) ON DELETE SET NULL;
ALTER TABLE nonconformities ADD COLUMN control_review_id BIGINT REFERENCES control_reviews(id) ON DELETE SET NULL;
ALTER TABLE nonconformities ADD COLUMN source_ref TEXT NOT NULL DEFAULT '';
CREATE INDEX nonconformities_review ON nonconformities(org_id, review_id);
CREATE INDEX nonconformities_control_review ON nonconformities(org_id, control_review_id);
