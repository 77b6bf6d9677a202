//! A document as PDF or Markdown, the register and the acknowledgement
//! records as CSV or XLSX; shared by the pages, the API and the CLI
//! (`isms doc export`).

use std::fmt::Write as _;

use isms_reports::document::{AckLine, DocumentPrint, RegisterLine};
use isms_store::{DocVersion, Document, DocumentQuery, Org, Store, StoreError};

use super::markdown;

/// What a single document is exported as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocFormat {
    Pdf,
    Md,
}

impl DocFormat {
    pub fn parse(s: &str) -> Result<DocFormat, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pdf" => Ok(DocFormat::Pdf),
            "md" | "markdown" => Ok(DocFormat::Md),
            other => Err(format!("format: unknown format '{other}': use pdf or md")),
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            DocFormat::Pdf => "pdf",
            DocFormat::Md => "md",
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            DocFormat::Pdf => "application/pdf",
            DocFormat::Md => "text/markdown; charset=utf-8",
        }
    }
}

/// The key people and auditors call a document by.
pub fn key(id: i64) -> String {
    format!("DOC-{id:03}")
}

/// The version to export: the one labelled `label`, else the published
/// one, else the latest.
fn pick<'a>(
    d: &'a Document,
    versions: &'a [DocVersion],
    label: Option<&str>,
) -> Result<&'a DocVersion, StoreError> {
    match label.map(str::trim).filter(|l| !l.is_empty()) {
        Some(l) => versions.iter().find(|v| v.label == l).ok_or_else(|| {
            StoreError::NotFound(format!("version: document {} has no version {l}", d.id))
        }),
        None => d
            .published
            .as_ref()
            .and_then(|p| versions.iter().find(|v| v.id == p.id))
            .or_else(|| versions.last())
            .ok_or_else(|| StoreError::NotFound(format!("document {} has no version", d.id))),
    }
}

fn history(versions: &[DocVersion]) -> Vec<[String; 6]> {
    versions
        .iter()
        .rev()
        .map(|v| {
            [
                v.label.clone(),
                v.state.label().to_owned(),
                v.author.clone(),
                if v.approved_by.is_empty() {
                    "not approved".to_owned()
                } else {
                    format!("approved by {} on {}", v.approved_by, day(&v.approved_at))
                },
                if v.published_at.is_empty() {
                    "not published".to_owned()
                } else {
                    format!("published on {}", day(&v.published_at))
                },
                v.change_note.clone(),
            ]
        })
        .collect()
}

fn day(s: &str) -> &str {
    s.get(..10).unwrap_or(s)
}

/// A document's version ready to print, and a file name for it.
pub async fn document_file(
    store: &Store,
    org: &Org,
    id: i64,
    label: Option<&str>,
    format: DocFormat,
) -> Result<(Vec<u8>, String), StoreError> {
    let d = store.document(org.id, id).await?;
    let versions = store.document_versions(org.id, id).await?;
    let v = pick(&d, &versions, label)?.clone();
    let name = format!("{}-v{}.{}", key(id), v.label, format.extension());
    if format == DocFormat::Md {
        return Ok((markdown_file(org, &d, &v, &versions).into_bytes(), name));
    }
    let print = DocumentPrint {
        organisation: org.name.clone(),
        key: key(id),
        title: d.title.clone(),
        doc_type: d.doc_type.label().to_owned(),
        classification: d.classification.as_str().to_owned(),
        owner: d.owner.clone().unwrap_or_default(),
        version: v.label.clone(),
        state: v.state.label().to_owned(),
        approved_by: v.approved_by.clone(),
        approved_at: v.approved_at.clone(),
        published_at: v.published_at.clone(),
        review_due: d.review_due.clone(),
        requirements: d.requirements.clone(),
        sections: markdown::to_sections(&v.body, &d.title),
        history: history(&versions),
        date: v.updated_at.clone(),
    };
    let bytes = tokio::task::spawn_blocking(move || isms_reports::document::document_pdf(&print))
        .await
        .map_err(|e| StoreError::Invalid(format!("the PDF could not be made: {e}")))?;
    Ok((bytes, name))
}

fn markdown_file(org: &Org, d: &Document, v: &DocVersion, versions: &[DocVersion]) -> String {
    let mut out = String::new();
    let q = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    out.push_str("---\n");
    for (k, val) in [
        ("document", key(d.id)),
        ("title", d.title.clone()),
        ("organisation", org.name.clone()),
        ("type", d.doc_type.as_str().to_owned()),
        ("classification", d.classification.as_str().to_owned()),
        ("owner", d.owner.clone().unwrap_or_default()),
        ("version", v.label.clone()),
        ("state", v.state.as_str().to_owned()),
        ("approved_by", v.approved_by.clone()),
        ("approved_at", v.approved_at.clone()),
        ("published_at", v.published_at.clone()),
        ("requirements", d.requirements.join(", ")),
    ] {
        let _ = writeln!(out, "{k}: {}", q(&val));
    }
    out.push_str("---\n\n");
    out.push_str(v.body.trim_end());
    out.push_str("\n\n## Revision history\n\n| Version | State | Written by | Approval | Publication | Note |\n|---|---|---|---|---|---|\n");
    for h in history(versions) {
        let cells: Vec<String> = h
            .iter()
            .map(|c| c.replace('|', "\\|").replace('\n', " "))
            .collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}

/// The register's rows.
pub async fn register_lines(
    store: &Store,
    org: &Org,
) -> Result<(Vec<RegisterLine>, String), StoreError> {
    let docs = store.documents(org.id, &DocumentQuery::default()).await?;
    let date = docs
        .iter()
        .map(|d| d.updated_at.as_str())
        .max()
        .unwrap_or("")
        .to_owned();
    let lines = docs
        .into_iter()
        .map(|d| RegisterLine {
            key: key(d.id),
            doc_type: d.doc_type.as_str().to_owned(),
            status: d.status.as_str().to_owned(),
            owner: d.owner.clone().unwrap_or_default(),
            classification: d.classification.as_str().to_owned(),
            published_version: d
                .published
                .as_ref()
                .map(|p| p.label.clone())
                .unwrap_or_default(),
            approved_by: d
                .published
                .as_ref()
                .map(|p| p.approved_by.clone())
                .unwrap_or_default(),
            published_at: d
                .published
                .as_ref()
                .map(|p| p.published_at.clone())
                .unwrap_or_default(),
            current_version: d
                .current
                .as_ref()
                .map(|p| p.label.clone())
                .unwrap_or_default(),
            current_state: d
                .current
                .as_ref()
                .map(|p| p.state.as_str().to_owned())
                .unwrap_or_default(),
            review_due: d.review_due.clone(),
            requirements: d.requirements.join(";"),
            acknowledged: d.acknowledged,
            required: d.required,
            title: d.title,
        })
        .collect();
    Ok((lines, date))
}

/// The acknowledgement records' rows.
pub async fn ack_lines(store: &Store, org: &Org) -> Result<(Vec<AckLine>, String), StoreError> {
    let recs = store.acknowledgement_records(org.id).await?;
    let date = recs
        .iter()
        .map(|r| r.acknowledged_at.as_str())
        .max()
        .unwrap_or("")
        .to_owned();
    Ok((
        recs.into_iter()
            .map(|r| AckLine {
                key: key(r.document_id),
                title: r.title,
                version: r.version,
                email: r.email,
                name: r.display_name,
                acknowledged_at: r.acknowledged_at,
            })
            .collect(),
        date,
    ))
}

/// The register or the acknowledgement records as CSV or XLSX (`what`:
/// "register" or "acknowledgements"), with a file name.
pub async fn table_file(
    store: &Store,
    org: &Org,
    what: &str,
    format: crate::isms_reports::Format,
) -> Result<(Vec<u8>, String), StoreError> {
    use crate::isms_reports::Format;
    let fail = |e: isms_reports::ReportError| StoreError::Invalid(e.to_string());
    let name = format!("{}-{what}.{}", org.slug, format.extension());
    let bytes = match (what, format) {
        (_, Format::Pdf) => {
            return Err(StoreError::Invalid("format: use csv or xlsx".into()));
        }
        ("register", f) => {
            let (rows, date) = register_lines(store, org).await?;
            if f == Format::Csv {
                isms_reports::document::register_csv(&rows).map_err(fail)?
            } else {
                isms_reports::document::register_xlsx(&org.name, &date, &rows).map_err(fail)?
            }
        }
        (_, f) => {
            let (rows, date) = ack_lines(store, org).await?;
            if f == Format::Csv {
                isms_reports::document::acks_csv(&rows).map_err(fail)?
            } else {
                isms_reports::document::acks_xlsx(&org.name, &date, &rows).map_err(fail)?
            }
        }
    };
    Ok((bytes, name))
}

/// A file download.
pub fn attachment(bytes: Vec<u8>, name: &str, content_type: &str) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}
