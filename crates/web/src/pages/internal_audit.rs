//! Internal audit pages: the programme (audits over time, coverage of the
//! clauses and Annex A themes, a form to plan an audit) and an audit's page
//! (team, checklist, findings, status, the report). Forms keep what was
//! typed after a 409 or 422.

use askama::Template;
use axum::body::Body;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::Permission;
use isms_domain::internal_audit::{AuditStatus, CoverageRow, FindingResult};
use isms_store::{Audit, AuditInput, AuditPatch, AuditSummary, FindingInput, StoreError};
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;
use crate::isms_reports::Format;

fn list(s: &str) -> Vec<String> {
    s.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What the plan form sends.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PlanForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    framework: String,
    /// Requirements separated by commas.
    #[serde(default)]
    scope: String,
    /// E-mails separated by commas.
    #[serde(default)]
    auditors: String,
    #[serde(default)]
    lead_auditor: String,
    #[serde(default)]
    criteria: String,
    #[serde(default)]
    start_date: String,
    #[serde(default)]
    end_date: String,
}

#[derive(Template)]
#[template(path = "page_audits.html")]
struct ProgrammePage {
    chrome: Option<Chrome>,
    audits: Vec<AuditSummary>,
    coverage: Vec<CoverageRow>,
    frameworks: Vec<(String, String)>,
    form: PlanForm,
    can_edit: bool,
    csrf: String,
    error: Option<String>,
}

async fn programme_page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    form: Option<PlanForm>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let org = user.0.org_id;
    let chrome = Chrome::new(state, &user.0, "audits").await?;
    let today = isms_store::now();
    let coverage = state
        .store
        .audit_coverage(org, today.get(..10).unwrap_or(""))
        .await?;
    let frameworks = state
        .store
        .frameworks(isms_store::Tenant::Org(org))
        .await?
        .into_iter()
        .map(|f| (f.slug, f.name))
        .collect();
    let html = render(&ProgrammePage {
        chrome: Some(chrome),
        audits: state.store.internal_audits(org).await?,
        coverage,
        frameworks,
        form: form.unwrap_or_else(|| PlanForm {
            framework: isms_domain::internal_audit::ISO27001.into(),
            ..PlanForm::default()
        }),
        can_edit: user.0.role.can(Permission::EditIsms),
        csrf: user.0.csrf_token.clone(),
        error,
    })?;
    Ok((status, html).into_response())
}

pub async fn programme(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    programme_page(&state, &user, StatusCode::OK, None, None).await
}

pub async fn plan(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<PlanForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let text = |s: &str| Some(s.to_owned()).filter(|s| !s.trim().is_empty());
    let result = state
        .store
        .create_audit(
            user.0.org_id,
            &AuditInput {
                title: Some(f.title.clone()),
                framework: text(&f.framework),
                criteria: text(&f.criteria),
                scope: list(&f.scope),
                auditors: list(&f.auditors),
                lead_auditor: text(&f.lead_auditor),
                start_date: text(&f.start_date),
                end_date: text(&f.end_date),
            },
            &user.actor(),
        )
        .await;
    match result {
        Ok(a) => Ok(Redirect::to(&format!("/audits/{}?saved=planned", a.id)).into_response()),
        Err(StoreError::Invalid(m)) => {
            programme_page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(f),
                Some(format!("The audit was not planned: {m}.")),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// What the finding form sends.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FindingForm {
    #[serde(default)]
    requirement: String,
    #[serde(default)]
    result: String,
    #[serde(default)]
    notes: String,
    /// Links, one per line.
    #[serde(default)]
    evidence: String,
}

/// What the audit form sends.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    start_date: String,
    #[serde(default)]
    end_date: String,
    #[serde(default)]
    version: String,
}

/// What the team and scope form sends.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TeamForm {
    /// Requirements separated by commas.
    #[serde(default)]
    scope: String,
    /// E-mails separated by commas.
    #[serde(default)]
    auditors: String,
    #[serde(default)]
    lead_auditor: String,
    #[serde(default)]
    version: String,
}

#[derive(Template)]
#[template(path = "page_internal_audit.html")]
struct AuditPage {
    chrome: Option<Chrome>,
    audit: Audit,
    results: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    finding: FindingForm,
    form: AuditForm,
    team: TeamForm,
    can_edit: bool,
    can_record: bool,
    csrf: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    saved: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn audit_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    status: StatusCode,
    finding: Option<FindingForm>,
    form: Option<AuditForm>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    audit_page_with(state, user, id, status, finding, form, None, error, notice).await
}

#[allow(clippy::too_many_arguments)]
async fn audit_page_with(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    status: StatusCode,
    finding: Option<FindingForm>,
    form: Option<AuditForm>,
    team: Option<TeamForm>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let audit = state.store.internal_audit(user.0.org_id, id).await?;
    let team = team.unwrap_or_else(|| TeamForm {
        scope: audit.scope().join(", "),
        auditors: audit.auditors.join(", "),
        lead_auditor: audit.lead_auditor.clone().unwrap_or_default(),
        version: audit.version.to_string(),
    });
    let chrome = Chrome::new(state, &user.0, "audits")
        .await?
        .detail(&[], audit.title.clone());
    let form = form.unwrap_or_else(|| AuditForm {
        status: audit.status.as_str().into(),
        summary: audit.summary.clone(),
        start_date: audit.start_date.clone(),
        end_date: audit.end_date.clone(),
        version: audit.version.to_string(),
    });
    let html = render(&AuditPage {
        chrome: Some(chrome),
        results: FindingResult::ALL
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        statuses: AuditStatus::ALL
            .iter()
            .filter(|s| audit.status.can_become(**s))
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        audit,
        finding: finding.unwrap_or_default(),
        form,
        team,
        can_edit: user.0.role.can(Permission::EditIsms),
        can_record: user.0.role.can(Permission::RecordFindings),
        csrf: user.0.csrf_token.clone(),
        error,
        notice,
    })?;
    Ok((status, html).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(audit): Path<i64>,
    Query(q): Query<Done>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let notice = q.saved.map(|s| format!("Saved: {s}."));
    audit_page(
        &state,
        &user,
        audit,
        StatusCode::OK,
        None,
        None,
        None,
        notice,
    )
    .await
}

pub async fn record(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(audit): Path<i64>,
    Form(f): Form<FindingForm>,
) -> Result<Response, WebError> {
    user.require(Permission::RecordFindings)?;
    let result = state
        .store
        .record_finding(
            user.0.org_id,
            audit,
            &FindingInput {
                requirement: Some(f.requirement.clone()),
                result: Some(f.result.clone()).filter(|r| !r.is_empty()),
                notes: Some(f.notes.clone()),
                evidence: list(&f.evidence),
            },
            &user.actor(),
        )
        .await;
    match result {
        Ok(found) => {
            let what = found.nonconformity_id.map_or_else(
                || "finding".to_owned(),
                |n| format!("finding, nonconformity NC-{n} raised"),
            );
            Ok(Redirect::to(&format!("/audits/{audit}?saved={what}")).into_response())
        }
        Err(StoreError::Invalid(m)) => {
            audit_page(
                &state,
                &user,
                audit,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(f),
                None,
                Some(format!("The finding was not recorded: {m}.")),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(audit): Path<i64>,
    Form(f): Form<AuditForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let result = match f.version.trim().parse::<i64>() {
        Ok(v) => {
            state
                .store
                .update_audit(
                    user.0.org_id,
                    audit,
                    &AuditPatch {
                        status: Some(f.status.clone()).filter(|s| !s.is_empty()),
                        summary: Some(f.summary.clone()),
                        start_date: Some(f.start_date.clone()),
                        end_date: Some(f.end_date.clone()),
                        version: Some(v),
                        ..AuditPatch::default()
                    },
                    &user.actor(),
                )
                .await
        }
        Err(_) => Err(StoreError::Invalid("version: required".into())),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/audits/{audit}?saved=audit")).into_response()),
        Err(e @ (StoreError::Invalid(_) | StoreError::Conflict(_))) => {
            let (code, m) = match e {
                StoreError::Conflict(m) => (
                    StatusCode::CONFLICT,
                    format!("{m}. Your changes are kept below."),
                ),
                other => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("Nothing was saved: {other}."),
                ),
            };
            let current = state.store.internal_audit(user.0.org_id, audit).await?;
            let f = AuditForm {
                version: current.version.to_string(),
                ..f
            };
            audit_page(&state, &user, audit, code, None, Some(f), Some(m), None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Changes the team and scope (the independence rule is checked again).
pub async fn save_team(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(audit): Path<i64>,
    Form(f): Form<TeamForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let text = |s: &str| Some(s.to_owned()).filter(|s| !s.trim().is_empty());
    let result = match f.version.trim().parse::<i64>() {
        Ok(v) => {
            state
                .store
                .update_audit(
                    user.0.org_id,
                    audit,
                    &AuditPatch {
                        scope: Some(list(&f.scope)),
                        auditors: Some(list(&f.auditors)),
                        lead_auditor: text(&f.lead_auditor),
                        version: Some(v),
                        ..AuditPatch::default()
                    },
                    &user.actor(),
                )
                .await
        }
        Err(_) => Err(StoreError::Invalid("version: required".into())),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/audits/{audit}?saved=team and scope")).into_response()),
        Err(e @ (StoreError::Invalid(_) | StoreError::Conflict(_))) => {
            let (code, m) = match e {
                StoreError::Conflict(m) => (
                    StatusCode::CONFLICT,
                    format!("{m}. Your changes are kept below."),
                ),
                other => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("The team and scope were not changed: {other}."),
                ),
            };
            let current = state.store.internal_audit(user.0.org_id, audit).await?;
            let f = TeamForm {
                version: current.version.to_string(),
                ..f
            };
            audit_page_with(
                &state,
                &user,
                audit,
                code,
                None,
                None,
                Some(f),
                Some(m),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Attaches evidence (a file, or a link) to a finding.
pub async fn upload_finding_evidence(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((audit, finding)): Path<(i64, i64)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, WebError> {
    user.require(Permission::RecordFindings)?;
    let org = user.0.org_id;
    state
        .store
        .audit_finding_exists(org, audit, finding)
        .await?;
    let result = async {
        let (input, file) =
            crate::internal_audit::api::finding_evidence_input(&state, &headers, body).await?;
        state
            .store
            .attach_finding_evidence(org, audit, finding, &input, file.as_ref(), &user.actor())
            .await
            .map_err(WebError::from)
    }
    .await;
    match result {
        Ok(_) => Ok(
            Redirect::to(&format!("/audits/{audit}?saved=evidence#finding-{finding}"))
                .into_response(),
        ),
        Err(e) if e.status.is_client_error() => {
            audit_page(
                &state,
                &user,
                audit,
                e.status,
                None,
                None,
                Some(format!("Nothing was stored: {}", e.detail)),
                None,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    format: String,
}

pub async fn report(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(audit): Path<i64>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let Ok(format @ (Format::Pdf | Format::Xlsx)) = Format::parse(&q.format) else {
        return Err(WebError::invalid(
            "The audit report is a PDF or an XLSX file.",
        ));
    };
    state.store.internal_audit(user.0.org_id, audit).await?;
    let org = isms_store::Org {
        id: user.0.org_id,
        slug: user.0.org_slug.clone(),
        name: user.0.org_name.clone(),
        created_at: String::new(),
    };
    let bytes = crate::internal_audit::export::audit_export(&state.store, &org, audit, format)
        .await
        .map_err(|e| {
            tracing::error!("audit report failed: {e}");
            WebError::internal()
        })?;
    Ok(crate::isms_reports::attachment(
        bytes,
        &format!("audit-{audit}.{}", format.extension()),
        format,
    ))
}
