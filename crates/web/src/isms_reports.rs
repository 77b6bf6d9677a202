//! The SoA and gap report exports, shared by the web downloads, the API and the CLI
//! (`isms report soa`): the store's data plus the catalog's titles, rendered
//! by isms-reports.

use isms_store::{Actor, Org, SoaEntry, Store, StoreError, soa_label};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Xlsx,
    Csv,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pdf" => Ok(Format::Pdf),
            "xlsx" => Ok(Format::Xlsx),
            "csv" => Ok(Format::Csv),
            other => Err(format!("unknown format '{other}': use pdf, xlsx or csv")),
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Xlsx => "xlsx",
            Format::Csv => "csv",
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// The title and theme of an Annex A control from the catalog.
pub fn control_title(control_id: &str) -> (String, String) {
    isms_catalog::annex_a_control(control_id).map_or_else(
        || (String::new(), String::new()),
        |c| (c.title.clone(), c.theme.as_str().to_owned()),
    )
}

fn rows(entries: &[SoaEntry]) -> Vec<isms_reports::SoaRow> {
    entries
        .iter()
        .map(|e| {
            let (title, theme) = control_title(&e.control_id);
            isms_reports::SoaRow {
                control_id: e.control_id.clone(),
                title,
                theme,
                applicable: e.applicable,
                justification: e.justification.clone(),
                reasons: e.reasons.iter().map(|r| soa_label(r).to_owned()).collect(),
                status: soa_label(&e.status).to_owned(),
                owner: e.owner.clone().unwrap_or_default(),
                notes: e.notes.clone(),
            }
        })
        .collect()
}

/// The document for `version`, or by default the latest approved version
/// (the draft when none is approved).
pub async fn soa_document(
    store: &Store,
    org: &Org,
    version: Option<i64>,
    actor: &Actor,
) -> Result<isms_reports::SoaDocument, StoreError> {
    let number = match version {
        Some(n) => Some(n),
        None => store.soa_versions(org.id).await?.first().map(|v| v.number),
    };
    if let Some(n) = number {
        let v = store.soa_version(org.id, n).await?;
        return Ok(isms_reports::SoaDocument {
            organisation: org.name.clone(),
            version: Some(n),
            approved_by: Some(v.info.approved_by),
            date: v.info.approved_at,
            rows: rows(&v.entries),
        });
    }
    let entries = store.soa_entries(org.id, actor).await?;
    let date = entries
        .iter()
        .map(|e| e.updated_at.as_str())
        .max()
        .unwrap_or("")
        .to_owned();
    Ok(isms_reports::SoaDocument {
        organisation: org.name.clone(),
        version: None,
        approved_by: None,
        date,
        rows: rows(&entries),
    })
}

/// Renders the document; returns the bytes and a file name.
pub fn render(
    doc: &isms_reports::SoaDocument,
    org_slug: &str,
    format: Format,
) -> Result<(Vec<u8>, String), String> {
    let bytes = match format {
        Format::Pdf => isms_reports::soa_pdf(doc),
        Format::Xlsx => isms_reports::soa_xlsx(doc).map_err(|e| e.to_string())?,
        Format::Csv => isms_reports::soa_csv(doc).map_err(|e| e.to_string())?,
    };
    let version = doc
        .version
        .map_or_else(|| "draft".to_owned(), |n| format!("v{n}"));
    Ok((
        bytes,
        format!("soa-{org_slug}-{version}.{}", format.extension()),
    ))
}

/// The export in one call, for the CLI.
pub async fn soa_export(
    store: &Store,
    org: &Org,
    version: Option<i64>,
    format: Format,
    actor: &Actor,
) -> Result<(Vec<u8>, isms_reports::SoaDocument), String> {
    let doc = soa_document(store, org, version, actor)
        .await
        .map_err(|e| e.to_string())?;
    let (bytes, _) = render(&doc, &org.slug, format)?;
    Ok((bytes, doc))
}

/// The gap report of one assessment (`None`: the latest).
pub async fn gap_document(
    store: &Store,
    org: &Org,
    assessment: Option<i64>,
) -> Result<isms_reports::GapDocument, StoreError> {
    let id = match assessment {
        Some(id) => id,
        None => store
            .gap_assessments(org.id)
            .await?
            .first()
            .map(|a| a.id)
            .ok_or_else(|| {
                StoreError::NotFound(
                    "this organisation has no gap assessment yet: start one on the Gap analysis page".into(),
                )
            })?,
    };
    let a = store.gap_assessment(org.id, id).await?;
    let entries = store.gap_entries(org.id, id).await?;
    let progress = isms_store::gap_progress(&entries);
    let reqs = isms_store::gap_requirements();
    let date = entries
        .iter()
        .map(|e| e.updated_at.as_str())
        .max()
        .unwrap_or(a.created_at.as_str())
        .to_owned();
    let mut groups: Vec<isms_reports::GapGroup> = progress
        .iter()
        .map(|p| isms_reports::GapGroup {
            name: p.group.clone(),
            implemented: p.implemented,
            applicable: p.applicable,
            items: Vec::new(),
        })
        .collect();
    for r in &reqs {
        let Some(e) = entries.iter().find(|e| e.ref_id == r.ref_id) else {
            continue;
        };
        if !e.is_gap() {
            continue;
        }
        if let Some(g) = groups.iter_mut().find(|g| g.name == r.group) {
            g.items.push(isms_reports::GapItem {
                ref_id: r.ref_id.clone(),
                title: r.title.clone(),
                priority: e.priority(),
                status: isms_store::gap_status_label(&e.status).to_owned(),
                maturity: e.maturity,
                owner: e.owner.clone(),
                target_date: e.target_date.clone(),
                notes: e.notes.clone(),
                actions: e.actions.clone(),
            });
        }
    }
    for g in &mut groups {
        // Highest priority first; within it the nearest target date, undated last.
        g.items.sort_by(|x, y| {
            (x.priority, x.target_date.is_empty(), &x.target_date).cmp(&(
                y.priority,
                y.target_date.is_empty(),
                &y.target_date,
            ))
        });
    }
    Ok(isms_reports::GapDocument {
        organisation: org.name.clone(),
        assessment: format!("{} (#{})", a.title, a.id),
        framework: "ISO/IEC 27001:2022".into(),
        date,
        groups,
    })
}

/// The gap report in one call: PDF or XLSX bytes and a file name.
pub async fn gap_export(
    store: &Store,
    org: &Org,
    assessment: Option<i64>,
    format: Format,
) -> Result<(Vec<u8>, String), String> {
    let doc = gap_document(store, org, assessment)
        .await
        .map_err(|e| e.to_string())?;
    let bytes = match format {
        Format::Pdf => isms_reports::gap_pdf(&doc),
        Format::Xlsx => isms_reports::gap_xlsx(&doc).map_err(|e| e.to_string())?,
        Format::Csv => return Err("the gap report is PDF or XLSX".into()),
    };
    Ok((bytes, format!("gap-{}.{}", org.slug, format.extension())))
}

/// A file download: the export's bytes with its type and file name.
pub fn attachment(bytes: Vec<u8>, name: &str, format: Format) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}
