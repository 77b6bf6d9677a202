//! Bulk import of risks and assets from a CSV or XLSX file on the web: the
//! same reader and the same all-or-nothing store call as `isms risk import`
//! and `isms asset import`. A dry run checks every row and stores nothing;
//! a file with any bad row stores nothing and names every bad row.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use isms_domain::Permission;
use isms_store::RowError;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;
use crate::risk::import::{
    ASSET_COLUMNS, MAX_IMPORT_BYTES, RISK_COLUMNS, parse_assets, parse_risks,
};

/// Bad rows listed on the page at most (the count says how many in all).
const SHOWN_ERRORS: usize = 200;

#[derive(Template)]
#[template(path = "page_risk_import.html")]
struct ImportPage {
    chrome: Option<Chrome>,
    risk_columns: &'static [&'static str],
    asset_columns: &'static [&'static str],
    kind: String,
    dry_run: bool,
    file_name: String,
    notice: Option<String>,
    error: Option<String>,
    errors: Vec<RowError>,
    error_count: usize,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    fill: impl FnOnce(&mut ImportPage),
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, &user.0, "risks")
        .await?
        .detail(&[("Risk register", "/risks")], "Import");
    let mut p = ImportPage {
        chrome: Some(chrome),
        risk_columns: &RISK_COLUMNS,
        asset_columns: &ASSET_COLUMNS,
        kind: "risks".into(),
        dry_run: true,
        file_name: String::new(),
        notice: None,
        error: None,
        errors: Vec::new(),
        error_count: 0,
    };
    fill(&mut p);
    Ok((status, render(&p)?).into_response())
}

/// The import form, with the columns each file needs.
pub async fn form(State(state): State<AppState>, user: CurrentUser) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    page(&state, &user, StatusCode::OK, |_| {}).await
}

/// Reads the upload, checks every row, and stores all rows or none.
pub async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let (mut kind, mut dry_run, mut file) = (String::from("risks"), false, None);
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| WebError::invalid(format!("The upload could not be read: {e}")))?
    {
        match field.name() {
            Some("kind") => kind = field.text().await.unwrap_or_default(),
            Some("dry_run") => dry_run = field.text().await.unwrap_or_default() == "yes",
            Some("file") => {
                let name = field.file_name().unwrap_or("upload").to_owned();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| WebError::invalid(format!("The upload could not be read: {e}")))?;
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    let kind = if kind == "assets" { "assets" } else { "risks" }.to_owned();
    let refuse = |status: StatusCode, msg: String, kind: String, name: String| {
        let (state, user) = (&state, &user);
        async move {
            page(state, user, status, |p| {
                p.error = Some(msg);
                p.kind = kind;
                p.dry_run = dry_run;
                p.file_name = name;
            })
            .await
        }
    };
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose a CSV or XLSX file to import: nothing was stored.".into(),
            kind,
            String::new(),
        )
        .await;
    };
    if bytes.len() > MAX_IMPORT_BYTES {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "{name} is larger than the {} MB an import takes: split it. Nothing was stored.",
                MAX_IMPORT_BYTES / 1024 / 1024
            ),
            kind,
            name,
        )
        .await;
    }
    let org = user.0.org_id;
    let actor = user.actor();
    let k = kind.clone();
    // Parsing a large file is CPU work: off the async threads.
    let parsed = tokio::task::spawn_blocking(move || {
        if k == "assets" {
            parse_assets(&bytes).map(either_assets)
        } else {
            parse_risks(&bytes).map(either_risks)
        }
    })
    .await
    .map_err(|_| WebError::internal())?;
    let outcome = match parsed {
        Err(errors) => Err(errors),
        Ok(Rows::Risks(rows)) => {
            let o = state
                .store
                .import_risks(org, &rows, dry_run, &actor)
                .await?;
            if o.errors.is_empty() {
                Ok(format!(
                    "{} risk(s) and {} new asset(s)",
                    o.risks,
                    o.new_assets.len()
                ))
            } else {
                Err(o.errors)
            }
        }
        Ok(Rows::Assets(rows)) => {
            let o = state
                .store
                .import_assets(org, &rows, dry_run, &actor)
                .await?;
            if o.errors.is_empty() {
                Ok(format!("{} asset(s)", o.new_assets.len()))
            } else {
                Err(o.errors)
            }
        }
    };
    match outcome {
        Ok(what) => {
            page(&state, &user, StatusCode::OK, |p| {
                p.notice = Some(if dry_run {
                    format!("Dry run of {name}: every row is good; {what} would be imported. Nothing was stored: import it without the dry run to store it.")
                } else {
                    format!("Imported {what} from {name}.")
                });
                p.kind = kind;
                p.dry_run = dry_run;
            })
            .await
        }
        Err(errors) => {
            page(&state, &user, StatusCode::UNPROCESSABLE_ENTITY, |p| {
                p.error = Some(format!(
                    "{name} has {} problem(s); nothing was stored. Fix the rows named below and import the whole file again.",
                    errors.len()
                ));
                p.error_count = errors.len();
                p.errors = errors.into_iter().take(SHOWN_ERRORS).collect();
                p.kind = kind;
                p.dry_run = dry_run;
                p.file_name = name;
            })
            .await
        }
    }
}

enum Rows {
    Risks(Vec<isms_store::ImportRiskRow>),
    Assets(Vec<isms_store::ImportAssetRow>),
}

fn either_risks(r: Vec<isms_store::ImportRiskRow>) -> Rows {
    Rows::Risks(r)
}

fn either_assets(r: Vec<isms_store::ImportAssetRow>) -> Rows {
    Rows::Assets(r)
}
