//! The audit report, the nonconformity register and the review minutes as
//! documents, rendered off the async runtime.

use isms_reports::internal_audit::{
    AuditDocument, ChecklistLine, FindingLine, NcLine, NcRegister, ReviewDocument, ReviewSection,
};
use isms_store::{Audit, ManagementReview, NcFilter, Org, Store, StoreError};

use crate::isms_reports::Format;

/// The clause or Annex A theme a requirement of ISO/IEC 27001:2022 belongs to.
pub fn group_of(framework: &str, ref_id: &str) -> String {
    if framework != isms_domain::internal_audit::ISO27001 {
        return framework.to_owned();
    }
    match ref_id.strip_prefix("A.") {
        Some(rest) => format!("Annex A {}", rest.split('.').next().unwrap_or("")),
        None => format!("Clause {}", ref_id.split('.').next().unwrap_or("")),
    }
}

/// An audit as a report document.
pub fn audit_document(org: &Org, a: &Audit) -> AuditDocument {
    let date = a
        .findings()
        .map(|f| f.created_at.as_str())
        .chain([a.updated_at.as_str()])
        .max()
        .unwrap_or("")
        .to_owned();
    AuditDocument {
        organisation: org.name.clone(),
        title: a.title.clone(),
        framework: a.framework.clone(),
        criteria: a.criteria.clone(),
        status: a.status.label().to_owned(),
        start_date: a.start_date.clone(),
        end_date: a.end_date.clone(),
        lead_auditor: a.lead_auditor.clone().unwrap_or_default(),
        auditors: a.auditors.clone(),
        summary: a.summary.clone(),
        date,
        items: a
            .checklist
            .iter()
            .map(|i| ChecklistLine {
                requirement: i.requirement.clone(),
                title: i.title.clone(),
                group: group_of(&a.framework, &i.ref_id),
                findings: i
                    .findings
                    .iter()
                    .map(|f| FindingLine {
                        result: f.result.label().to_owned(),
                        notes: f.notes.clone(),
                        evidence: f
                            .evidence
                            .iter()
                            .cloned()
                            .chain(f.evidence_items.iter().map(|e| {
                                match (&e.file_name, &e.sha256) {
                                    (Some(name), Some(sha)) => format!("{name} (sha256 {sha})"),
                                    _ if e.title == e.url => e.url.clone(),
                                    _ => format!("{}: {}", e.title, e.url),
                                }
                            }))
                            .collect(),
                        nonconformity: f
                            .nonconformity_id
                            .map(|n| format!("NC-{n}"))
                            .unwrap_or_default(),
                        recorded: format!("{} {}", f.created_at, f.created_by),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The audit report in `format` (PDF or XLSX).
pub async fn audit_export(
    store: &Store,
    org: &Org,
    audit_id: i64,
    format: Format,
) -> Result<Vec<u8>, String> {
    if format == Format::Csv {
        return Err("unknown format 'csv': the audit report is pdf or xlsx".into());
    }
    let a = store
        .internal_audit(org.id, audit_id)
        .await
        .map_err(|e| e.to_string())?;
    let doc = audit_document(org, &a);
    tokio::task::spawn_blocking(move || match format {
        Format::Xlsx => isms_reports::internal_audit::audit_xlsx(&doc).map_err(|e| e.to_string()),
        _ => Ok(isms_reports::internal_audit::audit_pdf(&doc)),
    })
    .await
    .map_err(|e| e.to_string())?
}

/// The register (filtered) as a document.
pub async fn nc_register(store: &Store, org: &Org, f: &NcFilter) -> Result<NcRegister, StoreError> {
    let rows = store.nonconformities(org.id, f).await?;
    let date = rows
        .iter()
        .map(|r| r.raised_at.as_str().max(r.closed_at.as_str()))
        .max()
        .unwrap_or("")
        .to_owned();
    Ok(NcRegister {
        organisation: org.name.clone(),
        date,
        rows: rows
            .into_iter()
            .map(|r| NcLine {
                key: format!("NC-{}", r.id),
                title: r.title,
                severity: r.severity,
                source: r.source,
                status: r.status,
                requirement: r.requirement,
                owner: r.owner.unwrap_or_default(),
                raised: r.raised_at,
                closed: r.closed_at,
                actions: r.actions.to_string(),
                overdue_actions: r.overdue_actions.to_string(),
                next_due: r.next_due.unwrap_or_default(),
            })
            .collect(),
    })
}

/// The register in CSV or XLSX.
pub async fn nc_export(
    store: &Store,
    org: &Org,
    f: &NcFilter,
    format: Format,
) -> Result<Vec<u8>, String> {
    if format == Format::Pdf {
        return Err("the register is exported as csv or xlsx".into());
    }
    let doc = nc_register(store, org, f)
        .await
        .map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || match format {
        Format::Csv => isms_reports::internal_audit::nc_csv(&doc),
        _ => isms_reports::internal_audit::nc_xlsx(&doc),
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())
}

/// A review as its minutes.
pub fn review_document(org: &Org, r: &ManagementReview) -> ReviewDocument {
    ReviewDocument {
        organisation: org.name.clone(),
        title: r.title.clone(),
        review_date: r.date.clone(),
        attendees: r.attendees.clone(),
        minutes: r.minutes.clone(),
        inputs: std::iter::once(ReviewSection {
            clause: "9.3.2".into(),
            title: "About these inputs".into(),
            summary: if r.inputs_frozen_at.is_empty() {
                format!(
                    "Compiled from the data as of {}; not frozen, so they follow the data until they are.",
                    r.date
                )
            } else {
                format!(
                    "Frozen on {} by {}: the inputs as the meeting saw them.",
                    r.inputs_frozen_at, r.inputs_frozen_by
                )
            },
            lines: Vec::new(),
        })
        .chain(r.inputs.iter().map(|s| ReviewSection {
            clause: s.clause.clone(),
            title: s.title.clone(),
            summary: s.summary.clone(),
            lines: s.lines.iter().map(|l| l.text.clone()).collect(),
        }))
        .collect(),
        decisions: r
            .decisions
            .iter()
            .map(|d| (d.kind.clone(), d.text.clone()))
            .collect(),
        actions: r
            .actions
            .iter()
            .map(|a| {
                (
                    a.title.clone(),
                    a.owner.clone().unwrap_or_default(),
                    a.due_date.clone(),
                    a.status.clone(),
                )
            })
            .collect(),
        date: r.updated_at.clone(),
    }
}

/// The minutes as PDF.
pub async fn review_export(
    store: &Store,
    org: &Org,
    review_id: i64,
    format: Format,
) -> Result<Vec<u8>, String> {
    if format != Format::Pdf {
        return Err("the management review minutes are exported as pdf".into());
    }
    let r = store
        .management_review(org.id, review_id)
        .await
        .map_err(|e| e.to_string())?;
    let doc = review_document(org, &r);
    tokio::task::spawn_blocking(move || isms_reports::internal_audit::review_pdf(&doc))
        .await
        .map_err(|e| e.to_string())
}
