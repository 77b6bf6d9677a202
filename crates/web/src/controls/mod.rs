//! Applied controls, evidence, control reviews and metrics on the web: the
//! JSON API (`api.rs`), the blob store for evidence files (`blobs.rs`), the
//! upload reader both the API and the pages use (`upload.rs`), the trend
//! chart (`chart.rs`) and the control register export (`export.rs`).

pub(crate) mod api;
pub mod blobs;
pub(crate) mod upload;

/// The control register as a file: `csv` or `xlsx` (deterministic bytes).
pub fn register_file(
    controls: Vec<isms_store::AppliedControl>,
    format: &str,
) -> Result<Vec<u8>, String> {
    let lines: Vec<isms_reports::controls::ControlLine> = controls
        .into_iter()
        .map(|c| isms_reports::controls::ControlLine {
            id: c.id,
            category: c.category.as_str().to_owned(),
            status: c.status.as_str().to_owned(),
            owner: c.owner.clone().unwrap_or_default(),
            cost: c.cost,
            effort: c.effort.clone(),
            start_date: c.start_date.clone(),
            due_date: c.due_date.clone(),
            review_schedule: c
                .review_schedule
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            next_review: c.next_review.clone(),
            requirements: c
                .requirements
                .iter()
                .map(|r| format!("{} {}", r.framework, r.ref_id))
                .collect(),
            description: c.description.clone(),
            name: c.name,
        })
        .collect();
    match format {
        "csv" => isms_reports::controls::controls_csv(&lines),
        "xlsx" => isms_reports::controls::controls_xlsx(&lines),
        other => return Err(format!("format '{other}': use csv or xlsx")),
    }
    .map_err(|e| e.to_string())
}
