//! The Statement of Applicability in the web UI: the list of the 93 controls
//! grouped by theme with filters, an edit page per control with the catalog's
//! guidance beside it, approval, versions, comparison and downloads.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::Permission;
use isms_store::{
    ControlDiff, FieldChange, SOA_REASONS, SOA_STATUSES, SoaEntry, SoaPatch, SoaSummary, SoaUpdate,
    SoaVersionInfo, soa_label,
};
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;
use crate::isms_reports::{Format, control_title};

/// One control as the list shows it.
pub struct RowView {
    pub control_id: String,
    /// The id made safe for HTML ids (`5.1` → `5-1`).
    pub anchor: String,
    pub title: String,
    pub applicable: bool,
    pub status: String,
    pub status_label: &'static str,
    pub justification: String,
    pub reasons: String,
    pub owner: String,
}

pub struct ThemeGroup {
    pub name: String,
    pub rows: Vec<RowView>,
}

#[derive(Deserialize, Default, Clone)]
pub struct Filter {
    #[serde(default)]
    pub theme: String,
    #[serde(default)]
    pub applicable: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub q: String,
    /// `missing`: only entries without a justification (the home page
    /// links here).
    #[serde(default)]
    pub justification: String,
    /// An owner's e-mail: only the entries they own.
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub approved: Option<i64>,
}

#[derive(Template)]
#[template(path = "page_soa.html")]
struct SoaPage {
    chrome: Option<Chrome>,
    groups: Vec<ThemeGroup>,
    summary: SoaSummary,
    filter: Filter,
    statuses: Vec<(&'static str, &'static str)>,
    themes: [&'static str; 4],
    shown: usize,
    can_approve: bool,
    can_edit: bool,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "soa_row_partial.html")]
struct RowPartial {
    r: RowView,
    can_edit: bool,
}

#[derive(Template)]
#[template(path = "soa_row_edit_partial.html")]
struct RowEditPartial {
    r: RowView,
    version: i64,
    statuses: Vec<(&'static str, &'static str)>,
    csrf: String,
}

/// One row of the list (htmx: after a save, or to cancel an inline edit).
pub async fn row(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(control_id): Path<String>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let e = state
        .store
        .soa_entry(user.0.org_id, &control_id, &user.actor())
        .await?;
    Ok(render(&RowPartial {
        r: row_view(&e).1,
        can_edit: user.0.role.can(Permission::EditIsms),
    })?
    .into_response())
}

/// The inline edit form of one row (htmx).
pub async fn row_edit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(control_id): Path<String>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let e = state
        .store
        .soa_entry(user.0.org_id, &control_id, &user.actor())
        .await?;
    Ok(render(&RowEditPartial {
        version: e.version,
        r: row_view(&e).1,
        statuses: statuses(),
        csrf: user.0.csrf_token.clone(),
    })?
    .into_response())
}

fn statuses() -> Vec<(&'static str, &'static str)> {
    SOA_STATUSES.iter().map(|s| (*s, soa_label(s))).collect()
}

fn row_view(e: &SoaEntry) -> (String, RowView) {
    let (title, theme) = control_title(&e.control_id);
    (
        theme,
        RowView {
            control_id: e.control_id.clone(),
            anchor: e.control_id.replace('.', "-"),
            title,
            applicable: e.applicable,
            status: e.status.clone(),
            status_label: soa_label(&e.status),
            justification: e.justification.clone(),
            reasons: e
                .reasons
                .iter()
                .map(|r| soa_label(r))
                .collect::<Vec<_>>()
                .join(", "),
            owner: e.owner.clone().unwrap_or_default(),
        },
    )
}

async fn list_page(
    state: &AppState,
    user: &CurrentUser,
    filter: Filter,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, &user.0, "soa").await?;
    let actor = user.actor();
    let entries = state.store.soa_entries(user.0.org_id, &actor).await?;
    let summary = state.store.soa_summary(user.0.org_id, &actor).await?;
    let q = filter.q.trim().to_lowercase();
    let mut groups: Vec<ThemeGroup> = Vec::new();
    let mut shown = 0;
    for e in &entries {
        let (theme, row) = row_view(e);
        let keep = (filter.theme.is_empty() || filter.theme == theme)
            && match filter.applicable.as_str() {
                "yes" => row.applicable,
                "no" => !row.applicable,
                _ => true,
            }
            && (filter.status.is_empty() || filter.status == row.status)
            && (filter.justification != "missing" || row.justification.is_empty())
            && (filter.owner.is_empty() || filter.owner == row.owner)
            && (q.is_empty()
                || row.control_id == q
                || row.title.to_lowercase().contains(&q)
                || row.justification.to_lowercase().contains(&q));
        if !keep {
            continue;
        }
        shown += 1;
        match groups.last_mut() {
            Some(g) if g.name == theme => g.rows.push(row),
            _ => groups.push(ThemeGroup {
                name: theme,
                rows: vec![row],
            }),
        }
    }
    let notice = filter.approved.map(|n| {
        format!("Version {n} of the SoA is approved and frozen. Later edits form a new draft.")
    });
    let html = render(&SoaPage {
        chrome: Some(chrome),
        groups,
        summary,
        filter,
        statuses: statuses(),
        themes: ["Organizational", "People", "Physical", "Technological"],
        shown,
        can_approve: user.0.role.can(Permission::Approve),
        can_edit: user.0.role.can(Permission::EditIsms),
        error,
        notice,
    })?;
    Ok((status, html).into_response())
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(filter): Query<Filter>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    list_page(&state, &user, filter, StatusCode::OK, None).await
}

/// The edit form's values (kept as typed when a save is refused).
#[derive(Clone, Default)]
pub struct EditForm {
    pub applicable: bool,
    pub justification: String,
    pub reasons: Vec<String>,
    pub status: String,
    pub owner: String,
    pub notes: String,
    pub version: i64,
}

impl EditForm {
    fn from_entry(e: &SoaEntry) -> Self {
        EditForm {
            applicable: e.applicable,
            justification: e.justification.clone(),
            reasons: e.reasons.clone(),
            status: e.status.clone(),
            owner: e.owner.clone().unwrap_or_default(),
            notes: e.notes.clone(),
            version: e.version,
        }
    }
    pub fn has_reason(&self, r: &str) -> bool {
        self.reasons.iter().any(|x| x == r)
    }
}

#[derive(Template)]
#[template(path = "page_soa_edit.html")]
struct EditPage {
    chrome: Option<Chrome>,
    control_id: String,
    title: String,
    theme: String,
    purpose: String,
    implementation: Vec<String>,
    evidence: Vec<String>,
    entry: SoaEntry,
    form: EditForm,
    statuses: Vec<(&'static str, &'static str)>,
    reasons: Vec<(&'static str, &'static str)>,
    members: Vec<String>,
    can_edit: bool,
    error: Option<String>,
    changes: Vec<FieldChange>,
    notice: Option<String>,
    /// Risks rely on the control and the form excludes it: confirm first.
    exclusion_warning: Option<String>,
    related: Vec<super::links::Related>,
    /// The applied controls linked to this entry.
    controls: Vec<isms_store::ControlRef>,
    /// The status the linked controls suggest.
    suggested: Option<&'static str>,
}

/// How an edit page is shown: after a refused save, with the typed input.
#[derive(Default)]
struct Shown {
    form: Option<EditForm>,
    status: Option<StatusCode>,
    error: Option<String>,
    changes: Vec<FieldChange>,
    notice: Option<String>,
    exclusion_warning: Option<String>,
}

async fn edit_page(
    state: &AppState,
    user: &CurrentUser,
    entry: SoaEntry,
    shown: Shown,
) -> Result<Response, WebError> {
    let Shown {
        form,
        status,
        error,
        changes,
        notice,
        exclusion_warning,
    } = shown;
    let status = status.unwrap_or(StatusCode::OK);
    let chrome = Chrome::new(state, &user.0, "soa")
        .await?
        .detail(&[], entry.control_id.clone());
    let control = isms_catalog::annex_a_control(&entry.control_id);
    let members = state
        .store
        .members(user.0.org_id)
        .await?
        .into_iter()
        .filter(|m| m.active)
        .map(|m| m.email)
        .collect();
    let related = super::links::related(
        state,
        &user.0,
        &format!("A.{}", entry.control_id),
        super::links::From::Soa,
    )
    .await?;
    let controls = state
        .store
        .controls_for_annex_a(user.0.org_id, &entry.control_id)
        .await?;
    let statuses_of: Vec<isms_domain::controls::ControlStatus> = controls
        .iter()
        .filter_map(|c| c.status.parse().ok())
        .collect();
    let suggested = isms_domain::controls::suggested_soa_status(&statuses_of);
    let html = render(&EditPage {
        controls,
        suggested,
        related,
        chrome: Some(chrome),
        control_id: entry.control_id.clone(),
        title: control.map(|c| c.title.clone()).unwrap_or_default(),
        theme: control
            .map(|c| c.theme.as_str().to_owned())
            .unwrap_or_default(),
        purpose: control
            .map(|c| c.guidance.purpose.clone())
            .unwrap_or_default(),
        implementation: control
            .map(|c| c.guidance.implementation.clone())
            .unwrap_or_default(),
        evidence: control
            .map(|c| c.guidance.evidence.clone())
            .unwrap_or_default(),
        form: form.unwrap_or_else(|| EditForm::from_entry(&entry)),
        entry,
        statuses: statuses(),
        reasons: SOA_REASONS.iter().map(|r| (*r, soa_label(r))).collect(),
        members,
        can_edit: user.0.role.can(Permission::EditIsms),
        error,
        changes,
        notice,
        exclusion_warning,
    })?;
    Ok((status, html).into_response())
}

#[derive(Deserialize, Default)]
pub struct Saved {
    #[serde(default)]
    saved: Option<i64>,
}

pub async fn edit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(control_id): Path<String>,
    Query(q): Query<Saved>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let entry = state
        .store
        .soa_entry(user.0.org_id, &control_id, &user.actor())
        .await?;
    let notice = q
        .saved
        .map(|v| format!("Saved {control_id} (version {v}). The change is part of the draft until the SoA is approved again."));
    edit_page(
        &state,
        &user,
        entry,
        Shown {
            notice,
            ..Shown::default()
        },
    )
    .await
}

pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(control_id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let get = |k: &str| field(k).unwrap_or_default();
    // The full form marks its checkboxes as sent; the inline form has no reasons.
    let sent_reasons = fields
        .iter()
        .any(|(n, _)| n == "reasons" || n == "reasons_present");
    let reasons = sent_reasons.then(|| {
        fields
            .iter()
            .filter(|(n, _)| n == "reasons")
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    });
    let form = EditForm {
        applicable: get("applicable") != "no",
        justification: get("justification"),
        reasons: reasons.clone().unwrap_or_default(),
        status: get("status"),
        owner: get("owner"),
        notes: get("notes"),
        version: get("version").trim().parse().unwrap_or(-1),
    };
    let patch = SoaPatch {
        applicable: Some(form.applicable),
        justification: Some(form.justification.clone()),
        reasons,
        status: field("status"),
        owner: field("owner"),
        notes: field("notes"),
        version: Some(form.version),
    };
    let htmx = headers.contains_key("hx-request");
    let actor = user.actor();
    // Excluding a control that risks rely on asks for a confirmation
    // naming them; nothing is saved until it is given.
    if !form.applicable && get("confirm_exclusion") != "yes" {
        let current = state
            .store
            .soa_entry(user.0.org_id, &control_id, &actor)
            .await?;
        if current.applicable {
            let risks = state
                .store
                .risks_for_control(user.0.org_id, &control_id)
                .await?;
            let refs: Vec<(i64, &str)> = risks.iter().map(|r| (r.id, r.title.as_str())).collect();
            if let Some(warning) = isms_domain::risk::exclusion_warning(&control_id, &refs) {
                if htmx {
                    return Err(WebError::new(
                        StatusCode::CONFLICT,
                        "Confirm the exclusion",
                        format!("{warning} Nothing was saved: open {control_id} to confirm."),
                    ));
                }
                return edit_page(
                    &state,
                    &user,
                    current,
                    Shown {
                        form: Some(form),
                        status: Some(StatusCode::CONFLICT),
                        exclusion_warning: Some(warning),
                        ..Shown::default()
                    },
                )
                .await;
            }
        }
    }
    match state
        .store
        .update_soa_entry(user.0.org_id, &control_id, &patch, &actor)
        .await
    {
        Ok(SoaUpdate::Saved(e)) if htmx => Ok(super::announce(
            render(&RowPartial {
                r: row_view(&e).1,
                can_edit: true,
            })?,
            &format!("Saved {}.", e.control_id),
        )),
        Ok(SoaUpdate::Saved(e)) => {
            Ok(Redirect::to(&format!("/soa/{}?saved={}", e.control_id, e.version)).into_response())
        }
        // htmx shows these in the flash area and leaves the typed row as it is.
        Ok(SoaUpdate::Stale {
            current,
            sent_version,
            changes,
        }) if htmx => {
            let mut fields: Vec<&str> = Vec::new();
            for c in &changes {
                if !fields.contains(&c.field.as_str()) {
                    fields.push(&c.field);
                }
            }
            let who = changes
                .last()
                .and_then(|c| c.by.clone())
                .unwrap_or_else(|| "someone else".into());
            Err(WebError::new(
                StatusCode::CONFLICT,
                "Changed by someone else",
                format!(
                    "{control_id} was changed by {who} while you were editing (your version {sent_version}, now {}; changed: {}). Nothing was saved; your text is still in the form. Open the control to compare.",
                    current.version,
                    fields.join(", ")
                ),
            ))
        }
        Err(isms_store::StoreError::Invalid(m)) if htmx => Err(WebError::invalid(format!(
            "{control_id} was not saved: {m}."
        ))),
        Ok(SoaUpdate::Stale {
            current,
            sent_version,
            changes,
        }) => {
            let who = changes
                .last()
                .and_then(|c| c.by.clone())
                .unwrap_or_else(|| "someone else".into());
            let msg = format!(
                "{control_id} was changed by {who} while you were editing (your version {sent_version}, now {}). Nothing was saved. Your input is kept below; review their change, then save again to replace it.",
                current.version
            );
            let form = EditForm {
                version: current.version,
                ..form
            };
            edit_page(
                &state,
                &user,
                current,
                Shown {
                    form: Some(form),
                    status: Some(StatusCode::CONFLICT),
                    error: Some(msg),
                    changes,
                    ..Shown::default()
                },
            )
            .await
        }
        Err(isms_store::StoreError::Invalid(m)) => {
            let entry = state
                .store
                .soa_entry(user.0.org_id, &control_id, &actor)
                .await?;
            edit_page(
                &state,
                &user,
                entry,
                Shown {
                    form: Some(form),
                    status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                    error: Some(format!("Nothing was saved: {m}.")),
                    ..Shown::default()
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct ApproveForm {
    #[serde(default)]
    note: String,
}

pub async fn approve(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<ApproveForm>,
) -> Result<Response, WebError> {
    user.require(Permission::Approve)?;
    match state
        .store
        .approve_soa(user.0.org_id, &f.note, &user.actor())
        .await
    {
        Ok(v) => Ok(Redirect::to(&format!("/soa?approved={}", v.number)).into_response()),
        Err(isms_store::StoreError::Conflict(m)) => {
            list_page(
                &state,
                &user,
                Filter::default(),
                StatusCode::CONFLICT,
                Some(format!("The SoA was not approved: {m}.")),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "page_soa_versions.html")]
struct VersionsPage {
    chrome: Option<Chrome>,
    versions: Vec<SoaVersionInfo>,
    compare: Option<Compare>,
}

pub struct Compare {
    pub from_label: String,
    pub to_label: String,
    pub controls: Vec<(ControlDiff, String)>,
}

#[derive(Deserialize, Default)]
pub struct CompareQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

fn parse_side(s: &str) -> Result<Option<i64>, WebError> {
    match s.trim() {
        "" | "draft" => Ok(None),
        n => n
            .parse()
            .map(Some)
            .map_err(|_| WebError::invalid(format!("'{n}' is not a version number"))),
    }
}

fn side_label(v: Option<i64>) -> String {
    v.map_or_else(
        || "the current draft".to_owned(),
        |n| format!("version {n}"),
    )
}

pub async fn versions(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<CompareQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let chrome = Chrome::new(&state, &user.0, "soa")
        .await?
        .detail(&[], "Versions");
    let versions = state.store.soa_versions(user.0.org_id).await?;
    let compare = if q.from.is_empty() && q.to.is_empty() {
        None
    } else {
        let (from, to) = (parse_side(&q.from)?, parse_side(&q.to)?);
        let controls = state
            .store
            .compare_soa(user.0.org_id, from, to, &user.actor())
            .await?
            .into_iter()
            .map(|d| {
                let t = control_title(&d.control_id).0;
                (d, t)
            })
            .collect();
        Some(Compare {
            from_label: side_label(from),
            to_label: side_label(to),
            controls,
        })
    };
    Ok(render(&VersionsPage {
        chrome: Some(chrome),
        versions,
        compare,
    })?
    .into_response())
}

#[derive(Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    format: String,
    #[serde(default)]
    version: Option<i64>,
}

pub async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let format = Format::parse(&q.format).map_err(WebError::invalid)?;
    crate::api_isms::file_response(&state, &user.0.org(), q.version, format, &user.actor()).await
}

/// Shows a value of a field change for people.
pub fn show_value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "none".into(),
        serde_json::Value::Bool(true) => "yes".into(),
        serde_json::Value::Bool(false) => "no".into(),
        serde_json::Value::String(s) if s.is_empty() => "(empty)".into(),
        serde_json::Value::String(s) => {
            let l = soa_label(s);
            if l.is_empty() {
                s.clone()
            } else {
                l.to_owned()
            }
        }
        serde_json::Value::Array(a) => a.iter().map(show_value).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}
