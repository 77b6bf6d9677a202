//! The training records' exports, shared by the pages, the API and the CLI
//! (`isms training report`).

use isms_reports::training::{
    CompetenceDocument, CompetenceLine, SubmissionLine, TrainingDocument, TrainingLine,
};
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

/// Competence (7.2): per role what it requires, per person the evidence held
/// for each requirement (the record that counts longest), and the gaps.
pub async fn competence_document(
    store: &Store,
    org: &Org,
) -> Result<CompetenceDocument, StoreError> {
    let requirements = store.competence_requirements(org.id).await?;
    let people = store.competence(org.id).await?;
    let label = |role: &str| {
        role.parse::<isms_domain::Role>()
            .map_or_else(|_| role.to_owned(), |r| r.label().to_owned())
    };
    let mut roles: Vec<(String, Vec<String>)> = Vec::new();
    for role in isms_domain::Role::ALL {
        let required: Vec<String> = requirements
            .iter()
            .filter(|q| q.role == role.as_str())
            .map(|q| q.title.clone())
            .collect();
        let present = people.iter().any(|p| p.role == role.as_str());
        if !required.is_empty() || present {
            roles.push((role.label().to_owned(), required));
        }
    }
    let mut lines = Vec::new();
    let mut date = String::new();
    for role in isms_domain::Role::ALL {
        for p in people.iter().filter(|p| p.role == role.as_str()) {
            for q in requirements.iter().filter(|q| q.role == p.role) {
                let gap = p.gaps.iter().any(|g| g.requirement_id == q.id);
                // The record that lasts longest ("" never expires).
                let best = p
                    .records
                    .iter()
                    .filter(|r| r.requirement_id == q.id)
                    .max_by(|a, b| {
                        let key = |r: &isms_store::CompetenceRecord| {
                            (
                                r.expires_on.is_empty(),
                                r.expires_on.clone(),
                                r.achieved_on.clone(),
                            )
                        };
                        key(a).cmp(&key(b))
                    });
                for r in p.records.iter().filter(|r| r.requirement_id == q.id) {
                    if r.updated_at > date {
                        date.clone_from(&r.updated_at);
                    }
                }
                lines.push(CompetenceLine {
                    role: label(&p.role),
                    person: p.email.clone(),
                    name: p.display_name.clone(),
                    requirement: q.title.clone(),
                    status: match (gap, best) {
                        (false, _) => "Held",
                        (true, Some(_)) => "Expired",
                        (true, None) => "Gap",
                    }
                    .to_owned(),
                    evidence: best.map(|r| r.evidence.clone()).unwrap_or_default(),
                    achieved_on: best.map(|r| r.achieved_on.clone()).unwrap_or_default(),
                    expires_on: best.map(|r| r.expires_on.clone()).unwrap_or_default(),
                });
            }
        }
    }
    Ok(CompetenceDocument {
        organisation: org.name.clone(),
        date,
        roles,
        lines,
    })
}

/// Renders the competence report (call from blocking code).
pub fn render_competence(doc: &CompetenceDocument, format: Format) -> Result<Vec<u8>, String> {
    Ok(match format {
        Format::Pdf => isms_reports::training::competence_pdf(doc),
        Format::Xlsx => isms_reports::training::competence_xlsx(doc).map_err(|e| e.to_string())?,
        Format::Csv => isms_reports::training::competence_csv(doc).map_err(|e| e.to_string())?,
    })
}

/// The competence report in one call, rendered off the async runtime; the
/// bytes and how many requirement lines they hold.
pub async fn competence_export(
    store: &Store,
    org: &Org,
    format: Format,
) -> Result<(Vec<u8>, usize), String> {
    let doc = competence_document(store, org)
        .await
        .map_err(|e| e.to_string())?;
    let n = doc.lines.len();
    let bytes = tokio::task::spawn_blocking(move || render_competence(&doc, format))
        .await
        .map_err(|e| e.to_string())??;
    Ok((bytes, n))
}

/// The file name of a competence export.
pub fn competence_file_name(org_slug: &str, format: Format) -> String {
    format!("competence-{org_slug}.{}", format.extension())
}
