//! The training records' exports, shared by the pages, the API and the CLI
//! (`isms training report`).

use isms_reports::training::{SubmissionLine, TrainingDocument, TrainingLine};
use isms_store::{AssignmentFilter, Org, Store, StoreError};

use crate::isms_reports::Format;

/// Every assignment with its status, and every submission.
pub async fn training_document(store: &Store, org: &Org) -> Result<TrainingDocument, StoreError> {
    let mut assignments = store
        .assignments(org.id, &AssignmentFilter::default())
        .await?;
    assignments.sort_by(|a, b| {
        a.course_title
            .cmp(&b.course_title)
            .then(a.course_id.cmp(&b.course_id))
            .then(a.email.cmp(&b.email))
    });
    let records = store.training_records(org.id).await?;
    let date = records
        .iter()
        .map(|r| r.completed_at.as_str())
        .max()
        .unwrap_or("")
        .to_owned();
    Ok(TrainingDocument {
        organisation: org.name.clone(),
        date,
        lines: assignments
            .into_iter()
            .map(|a| TrainingLine {
                course: a.course_title,
                person: a.email,
                name: a.display_name,
                due_date: a.due_date,
                status: a.status.label().to_owned(),
                completed_on: a.completed_on.unwrap_or_default(),
                score: a.score.map(|s| s.to_string()).unwrap_or_default(),
                expires_on: a.expires_on.unwrap_or_default(),
                attempts: a.attempts,
            })
            .collect(),
        submissions: records
            .into_iter()
            .map(|r| SubmissionLine {
                course: r.course_title,
                person: r.email,
                completed_at: r.completed_at,
                score: r.score.map(|s| s.to_string()).unwrap_or_default(),
                passed: r.passed,
                expires_on: r.expires_on,
            })
            .collect(),
    })
}

/// Renders the records (call from blocking code).
pub fn render(doc: &TrainingDocument, format: Format) -> Result<Vec<u8>, String> {
    Ok(match format {
        Format::Pdf => isms_reports::training::training_pdf(doc),
        Format::Xlsx => isms_reports::training::training_xlsx(doc).map_err(|e| e.to_string())?,
        Format::Csv => isms_reports::training::training_csv(doc).map_err(|e| e.to_string())?,
    })
}

/// The export in one call, rendered off the async runtime; the bytes and
/// how many assignments they hold.
pub async fn training_export(
    store: &Store,
    org: &Org,
    format: Format,
) -> Result<(Vec<u8>, usize), String> {
    let doc = training_document(store, org)
        .await
        .map_err(|e| e.to_string())?;
    let n = doc.lines.len();
    let bytes = tokio::task::spawn_blocking(move || render(&doc, format))
        .await
        .map_err(|e| e.to_string())??;
    Ok((bytes, n))
}

/// The file name of an export.
pub fn file_name(org_slug: &str, format: Format) -> String {
    format!("training-{org_slug}.{}", format.extension())
}
