//! Gap analysis in the web UI: assessments, progress charts by clause and
//! Annex A theme (SVG rendered here), a row form per requirement (htmx
//! swaps the row in place), comparison and the gap report downloads.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::Permission;
use isms_store::{
    GAP_STATUSES, GapAssessment, GapEntry, GapMove, GapPatch, GapRequirement, Org, StoreError,
    gap_progress, gap_requirements, gap_status_label,
};
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;

/// One requirement as a row.
pub struct RowView {
    pub ref_id: String,
    /// The ref id made safe for an HTML id (`A.5.1` → `A-5-1`).
    pub anchor: String,
    pub title: String,
    pub group: String,
    pub status: String,
    pub status_label: &'static str,
    pub maturity: i64,
    pub owner: String,
    pub target_date: String,
    pub notes: String,
    pub actions: String,
    pub version: i64,
    pub priority: u8,
}

fn row_view(e: &GapEntry, r: Option<&GapRequirement>) -> RowView {
    RowView {
        ref_id: e.ref_id.clone(),
        anchor: e.ref_id.replace('.', "-"),
        title: r.map(|r| r.title.clone()).unwrap_or_default(),
        group: r.map(|r| r.group.clone()).unwrap_or_default(),
        status: e.status.clone(),
        status_label: gap_status_label(&e.status),
        maturity: e.maturity,
        owner: e.owner.clone(),
        target_date: e.target_date.clone(),
        notes: e.notes.clone(),
        actions: e.actions.clone(),
        version: e.version,
        priority: e.priority(),
    }
}

fn statuses() -> Vec<(&'static str, &'static str)> {
    GAP_STATUSES
        .iter()
        .map(|s| (*s, gap_status_label(s)))
        .collect()
}

#[derive(Template)]
#[template(path = "page_gap.html")]
struct ListPage {
    chrome: Option<Chrome>,
    assessments: Vec<(GapAssessment, usize, usize)>,
    compare: Option<(String, String, Vec<GapMove>)>,
    can_edit: bool,
    csrf: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct CompareQuery {
    #[serde(default)]
    from: Option<i64>,
    #[serde(default)]
    to: Option<i64>,
}

async fn list_page(
    state: &AppState,
    user: &CurrentUser,
    q: CompareQuery,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, &user.0, "gap").await?;
    let mut assessments = Vec::new();
    for a in state.store.gap_assessments(user.0.org_id).await? {
        let p = gap_progress(&state.store.gap_entries(user.0.org_id, a.id).await?);
        let done = p.iter().map(|g| g.implemented).sum();
        let total = p.iter().map(|g| g.applicable).sum();
        assessments.push((a, done, total));
    }
    let compare = match (q.from, q.to) {
        (Some(f), Some(t)) => {
            let moves = state.store.compare_gap(user.0.org_id, f, t).await?;
            let title = |id: i64| {
                assessments
                    .iter()
                    .find(|(a, _, _)| a.id == id)
                    .map_or_else(String::new, |(a, _, _)| format!("{} (#{})", a.title, a.id))
            };
            Some((title(f), title(t), moves))
        }
        _ => None,
    };
    let html = render(&ListPage {
        chrome: Some(chrome),
        assessments,
        compare,
        can_edit: user.0.role.can(Permission::EditIsms),
        csrf: user.0.csrf_token.clone(),
        error,
    })?;
    Ok((status, html).into_response())
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<CompareQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    list_page(&state, &user, q, StatusCode::OK, None).await
}

#[derive(Deserialize, Default)]
pub struct CreateForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    copy_from: String,
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<CreateForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let copy_from = f.copy_from.trim().parse().ok();
    match state
        .store
        .create_gap_assessment(user.0.org_id, &f.title, copy_from, &user.actor())
        .await
    {
        Ok(a) => Ok(Redirect::to(&format!("/gap/{}", a.id)).into_response()),
        Err(StoreError::Invalid(m) | StoreError::NotFound(m)) => {
            list_page(
                &state,
                &user,
                CompareQuery::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(format!("The assessment was not started: {m}.")),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub struct Group {
    pub name: String,
    pub rows: Vec<RowView>,
}

#[derive(Template)]
#[template(path = "page_gap_assessment.html")]
struct AssessmentPage {
    chrome: Option<Chrome>,
    assessment: GapAssessment,
    chart_clauses: String,
    chart_themes: String,
    implemented: usize,
    applicable: usize,
    groups: Vec<Group>,
    group_names: Vec<String>,
    owners: Vec<String>,
    statuses: Vec<(&'static str, &'static str)>,
    filter: Filter,
    filtered: bool,
    shown: usize,
    total: usize,
    /// The requirement whose row is shown as a form (without htmx: `?edit=`).
    editing: String,
    /// Records related to the requirement being edited.
    related: Vec<super::links::Related>,
    can_edit: bool,
    csrf: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "gap_row_partial.html")]
struct RowPartial {
    r: RowView,
    aid: i64,
    can_edit: bool,
}

#[derive(Template)]
#[template(path = "gap_row_edit_partial.html")]
struct RowEditPartial {
    r: RowView,
    aid: i64,
    statuses: Vec<(&'static str, &'static str)>,
    csrf: String,
    related: Vec<super::links::Related>,
}

#[derive(Template)]
#[template(path = "gap_progress_partial.html")]
struct ProgressPartial {
    aid: i64,
    chart_clauses: String,
    chart_themes: String,
    implemented: usize,
    applicable: usize,
}

/// What the list shows: every field narrows it; empty means any.
#[derive(Deserialize, Default)]
pub struct Filter {
    #[serde(default)]
    status: String,
    /// A clause ("Clause 6 Planning") or Annex A theme.
    #[serde(default)]
    group: String,
    #[serde(default)]
    owner: String,
    /// Matched against the ref id, title, notes and actions.
    #[serde(default)]
    q: String,
    #[serde(default)]
    edit: String,
}

impl Filter {
    fn is_set(&self) -> bool {
        !(self.status.is_empty()
            && self.group.is_empty()
            && self.owner.is_empty()
            && self.q.trim().is_empty())
    }
    fn admits(&self, r: &RowView) -> bool {
        let q = self.q.trim().to_lowercase();
        (self.status.is_empty() || r.status == self.status)
            && (self.group.is_empty() || r.group == self.group)
            && (self.owner.is_empty() || r.owner == self.owner)
            && (q.is_empty()
                || [&r.ref_id, &r.title, &r.notes, &r.actions]
                    .iter()
                    .any(|f| f.to_lowercase().contains(&q)))
    }
}

/// The two progress charts and the overall figures of an assessment.
fn progress_view(aid: i64, entries: &[GapEntry]) -> ProgressPartial {
    let progress = gap_progress(entries);
    let bars = |clauses: bool| {
        progress
            .iter()
            .filter(|p| p.group.starts_with("Clause") == clauses)
            .map(|p| (p.group.clone(), p.implemented, p.applicable))
            .collect::<Vec<_>>()
    };
    ProgressPartial {
        aid,
        chart_clauses: isms_reports::svg::progress_bars("Implemented by clause", &bars(true)),
        chart_themes: isms_reports::svg::progress_bars(
            "Implemented by Annex A theme",
            &bars(false),
        ),
        implemented: progress.iter().map(|p| p.implemented).sum(),
        applicable: progress.iter().map(|p| p.applicable).sum(),
    }
}

async fn assessment_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    filter: Filter,
    status: StatusCode,
    error: Option<String>,
    typed: Option<RowView>,
) -> Result<Response, WebError> {
    let assessment = state.store.gap_assessment(user.0.org_id, id).await?;
    let chrome = Chrome::new(state, &user.0, "gap")
        .await?
        .detail(&[], assessment.title.clone());
    let entries = state.store.gap_entries(user.0.org_id, id).await?;
    let progress = progress_view(id, &entries);
    let reqs = gap_requirements();
    let mut groups: Vec<Group> = Vec::new();
    let mut group_names: Vec<String> = Vec::new();
    let mut owners: Vec<String> = Vec::new();
    let can_edit = user.0.role.can(Permission::EditIsms);
    let editing = match &typed {
        Some(t) => t.ref_id.clone(),
        None if can_edit => filter.edit.clone(),
        None => String::new(),
    };
    let total = entries.len();
    let mut shown = 0;
    for e in &entries {
        let mut row = row_view(e, reqs.iter().find(|r| r.ref_id == e.ref_id));
        if group_names.last() != Some(&row.group) {
            group_names.push(row.group.clone());
        }
        if !row.owner.is_empty() && !owners.contains(&row.owner) {
            owners.push(row.owner.clone());
        }
        // The row being edited stays visible whatever the filter.
        if !filter.admits(&row) && row.ref_id != editing {
            continue;
        }
        shown += 1;
        if let Some(t) = typed.as_ref().filter(|t| t.ref_id == row.ref_id) {
            // Keep what was typed into the refused row.
            row.status.clone_from(&t.status);
            row.maturity = t.maturity;
            row.owner.clone_from(&t.owner);
            row.target_date.clone_from(&t.target_date);
            row.notes.clone_from(&t.notes);
            row.actions.clone_from(&t.actions);
        }
        match groups.last_mut() {
            Some(g) if g.name == row.group => g.rows.push(row),
            _ => groups.push(Group {
                name: row.group.clone(),
                rows: vec![row],
            }),
        }
    }
    owners.sort();
    let related = if editing.is_empty() {
        Vec::new()
    } else {
        super::links::related(state, &user.0, &editing, super::links::From::Gap).await?
    };
    let html = render(&AssessmentPage {
        related,
        chrome: Some(chrome),
        assessment,
        chart_clauses: progress.chart_clauses,
        chart_themes: progress.chart_themes,
        implemented: progress.implemented,
        applicable: progress.applicable,
        groups,
        group_names,
        owners,
        statuses: statuses(),
        filtered: filter.is_set(),
        filter,
        shown,
        total,
        editing,
        can_edit,
        csrf: user.0.csrf_token.clone(),
        error,
    })?;
    Ok((status, html).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(f): Query<Filter>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    assessment_page(&state, &user, id, f, StatusCode::OK, None, None).await
}

/// One requirement's row, read-only (htmx: after Cancel).
pub async fn row(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, ref_id)): Path<(i64, String)>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let r = one_row(&state, &user, id, &ref_id).await?;
    Ok(render(&RowPartial {
        r,
        aid: id,
        can_edit: user.0.role.can(Permission::EditIsms),
    })?
    .into_response())
}

/// One requirement's row as a form (htmx: Edit).
pub async fn row_edit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, ref_id)): Path<(i64, String)>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let r = one_row(&state, &user, id, &ref_id).await?;
    let related = super::links::related(&state, &user.0, &ref_id, super::links::From::Gap).await?;
    Ok(render(&RowEditPartial {
        related,
        r,
        aid: id,
        statuses: statuses(),
        csrf: user.0.csrf_token.clone(),
    })?
    .into_response())
}

/// The progress charts (htmx: refreshed after each save).
pub async fn progress(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let entries = state.store.gap_entries(user.0.org_id, id).await?;
    Ok(render(&progress_view(id, &entries))?.into_response())
}

async fn one_row(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    ref_id: &str,
) -> Result<RowView, WebError> {
    let entries = state.store.gap_entries(user.0.org_id, id).await?;
    let e = entries
        .iter()
        .find(|e| e.ref_id == ref_id)
        .ok_or_else(|| WebError::not_found(format!("'{ref_id}' is not in this assessment.")))?;
    let reqs = gap_requirements();
    Ok(row_view(e, reqs.iter().find(|r| r.ref_id == e.ref_id)))
}

#[derive(Deserialize, Default)]
pub struct EntryForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    maturity: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    target_date: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    actions: String,
    #[serde(default)]
    version: String,
}

pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path((id, ref_id)): Path<(i64, String)>,
    Form(f): Form<EntryForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let maturity = f.maturity.trim().parse::<i64>().ok();
    let patch = GapPatch {
        status: Some(f.status.clone()),
        maturity: Some(maturity.unwrap_or(-1)),
        notes: Some(f.notes.clone()),
        owner: Some(f.owner.clone()),
        target_date: Some(f.target_date.clone()),
        actions: Some(f.actions.clone()),
        version: f.version.trim().parse().ok(),
    };
    let htmx = headers.contains_key("hx-request");
    match state
        .store
        .update_gap_entry(user.0.org_id, id, &ref_id, &patch, &user.actor())
        .await
    {
        Ok(e) if htmx => {
            let reqs = gap_requirements();
            let r = row_view(&e, reqs.iter().find(|r| r.ref_id == e.ref_id));
            let message = format!("Saved {}.", e.ref_id);
            // `gap-saved` makes the progress charts reload themselves.
            Ok(super::announce_with(
                render(&RowPartial {
                    r,
                    aid: id,
                    can_edit: true,
                })?,
                &message,
                &["gap-saved"],
            ))
        }
        Ok(e) => Ok(
            Redirect::to(&format!("/gap/{id}#g-{}", e.ref_id.replace('.', "-"))).into_response(),
        ),
        // htmx shows the message in the flash area and leaves the typed row alone.
        Err(e @ (StoreError::Invalid(_) | StoreError::Conflict(_))) if htmx => Err(e.into()),
        Err(StoreError::Invalid(m) | StoreError::Conflict(m)) => {
            let status = if m.contains("was changed by") {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let typed = RowView {
                ref_id: ref_id.clone(),
                anchor: String::new(),
                title: String::new(),
                group: String::new(),
                status: f.status,
                status_label: "",
                maturity: maturity.unwrap_or(0),
                owner: f.owner,
                target_date: f.target_date,
                notes: f.notes,
                actions: f.actions,
                version: 0,
                priority: 0,
            };
            assessment_page(
                &state,
                &user,
                id,
                Filter::default(),
                status,
                Some(format!(
                    "{ref_id} was not saved: {m}. What you typed is kept in its row."
                )),
                Some(typed),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    format: String,
}

pub async fn report(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let org = Org {
        id: user.0.org_id,
        slug: user.0.org_slug.clone(),
        name: user.0.org_name.clone(),
        created_at: String::new(),
    };
    crate::api_isms::gap_file(&state, &org, id, &q.format).await
}
