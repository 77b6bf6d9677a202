//! The home page: what each role acts on, with real figures for the
//! current organisation, each linking to the list it counts.

use askama::Template;
use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::Permission;
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;

/// A figure on the home page and the filtered list behind it.
pub struct Figure {
    pub n: String,
    pub label: &'static str,
    pub href: String,
}

fn figure(n: impl std::fmt::Display, label: &'static str, href: impl Into<String>) -> Figure {
    Figure {
        n: n.to_string(),
        label,
        href: href.into(),
    }
}

/// The risk register's headline: figures and the heat map.
pub struct RiskHeadline {
    pub figures: Vec<Figure>,
    pub heat_map: String,
}

/// A metric's line in the dashboard's metric panel.
pub struct MetricStatus {
    pub id: i64,
    pub name: String,
    /// "72.5 % on 2026-03-31" or "not measured".
    pub latest: String,
    /// "at least 95 %" or "at most 14 days".
    pub target: String,
    /// green, amber, red or none (the CSS class).
    pub key: &'static str,
    /// The status in words, never only a colour: "Off target (red)".
    pub label: &'static str,
    /// Not measured within its frequency.
    pub overdue: bool,
}

/// The metric panel: off-target metrics first (red, amber, not measured,
/// green), then by name.
pub fn metric_panel(metrics: Vec<isms_store::Metric>) -> Vec<MetricStatus> {
    use isms_domain::controls::{Direction, Rag};
    use isms_reports::svg::format_value;
    let mut out: Vec<(u8, MetricStatus)> = metrics
        .into_iter()
        .map(|m| {
            let (rank, key, label) = match m.status {
                Some(Rag::Red) => (0, "red", "Off target (red)"),
                Some(Rag::Amber) => (1, "amber", "Near target (amber)"),
                None => (2, "none", "Not measured"),
                Some(Rag::Green) => (3, "green", "On target (green)"),
            };
            let latest = m.latest.as_ref().map_or("not measured".to_owned(), |l| {
                format!("{} {} on {}", format_value(l.value), m.unit, l.date)
            });
            let target = format!(
                "{} {} {}",
                if m.direction == Direction::Higher {
                    "at least"
                } else {
                    "at most"
                },
                format_value(m.target),
                m.unit
            );
            (
                rank,
                MetricStatus {
                    id: m.id,
                    name: m.name,
                    latest,
                    target,
                    key,
                    label,
                    overdue: m.overdue,
                },
            )
        })
        .collect();
    // `metrics` comes by name: a stable sort keeps that order within a rank.
    out.sort_by_key(|(rank, _)| *rank);
    out.into_iter().map(|(_, m)| m).collect()
}

/// The latest gap assessment's headline.
pub struct GapHeadline {
    pub id: i64,
    pub title: String,
    pub figures: Vec<Figure>,
}

#[derive(Template)]
#[template(path = "page_dashboard.html")]
struct DashboardPage {
    chrome: Option<Chrome>,
    /// What is assigned to the member (everyone).
    work: Vec<Figure>,
    /// Roles that read the ISMS see its status; the readiness figure loads
    /// separately so the page itself stays cheap.
    show_status: bool,
    soa: Vec<Figure>,
    gap: Option<GapHeadline>,
    risk: Option<RiskHeadline>,
    /// Audits and nonconformities: open by severity, overdue actions, next audit.
    audit: Vec<Figure>,
    /// Every metric's latest value against its target, off-target first.
    metrics: Vec<MetricStatus>,
    /// Administrators: people and access.
    people: Vec<Figure>,
    /// Who reads the audit log: recent activity.
    activity: Vec<Figure>,
}

#[derive(Template)]
#[template(path = "readiness_summary_partial.html")]
struct ReadinessSummary {
    r: isms_store::Readiness,
    chart: String,
    /// The implementation roadmap's progress by phase.
    roadmap: isms_store::Roadmap,
    roadmap_chart: String,
}

/// Open nonconformities by severity, overdue corrective actions, the next audit.
async fn audit_figures(state: &AppState, org: i64) -> Result<Vec<Figure>, WebError> {
    let (minor, major) = state.store.open_nonconformity_counts(org).await?;
    let today = isms_store::now();
    let overdue = state
        .store
        .overdue_nc_actions(org, today.get(..10).unwrap_or(""))
        .await?
        .len();
    let next = match state.store.next_audit(org).await? {
        Some((id, _, start)) => figure(
            if start.is_empty() {
                "planned".to_owned()
            } else {
                start
            },
            "next audit",
            format!("/audits/{id}"),
        ),
        None => figure("none", "next audit planned", "/audits"),
    };
    Ok(vec![
        figure(
            major,
            "open major nonconformities",
            "/nonconformities?status=open&severity=major",
        ),
        figure(
            minor,
            "open minor nonconformities",
            "/nonconformities?status=open&severity=minor",
        ),
        figure(
            overdue,
            "overdue corrective actions",
            "/nonconformities?overdue=1",
        ),
        next,
    ])
}

/// Home: one page per role. Everyone sees what is assigned to them;
/// managers and auditors the ISMS status; administrators people and
/// access. Each figure links to the filtered list it counts.
pub async fn show(State(state): State<AppState>, user: CurrentUser) -> Result<Response, WebError> {
    let role = user.0.role;
    let org = user.0.org_id;
    let chrome = Chrome::new(&state, &user.0, "dashboard").await?;
    let mut work = Vec::new();
    let mut soa = Vec::new();
    let mut gap = None;
    let mut risk = None;
    // Courses assigned to the member and not (or no longer) completed.
    let to_do = state
        .store
        .assignments(
            org,
            &isms_store::AssignmentFilter {
                user_id: Some(user.0.user_id),
                ..isms_store::AssignmentFilter::default()
            },
        )
        .await?
        .iter()
        .filter(|a| !a.status.is_valid())
        .count();
    if to_do > 0 {
        work.push(figure(to_do, "courses to complete", "/training"));
    }
    let mut audit = Vec::new();
    let show_status = role.can(Permission::ReadIsms);
    {
        // Everyone: their items of every module and their hand-made tasks.
        let (today, _) = crate::tasks::run::today_plus(0);
        let items = state
            .store
            .my_items(org, user.0.user_id, &user.0.email)
            .await?;
        let overdue = items
            .iter()
            .filter(|i| !i.due_date.is_empty() && i.due_date < today)
            .count();
        if !items.is_empty() {
            work.push(figure(items.len(), "open tasks", "/tasks"));
        }
        if overdue > 0 {
            work.push(figure(overdue, "overdue", "/tasks"));
        }
    }
    if show_status {
        let actor = user.actor();
        let entries = state.store.soa_entries(org, &actor).await?;
        let mine = entries
            .iter()
            .filter(|e| e.owner.as_deref() == Some(user.0.email.as_str()))
            .count();
        let owner_q =
            serde_urlencoded::to_string([("owner", user.0.email.as_str())]).unwrap_or_default();
        if mine > 0 {
            work.push(figure(
                mine,
                "SoA controls you own",
                format!("/soa?{owner_q}"),
            ));
        }
        let summary = state.store.soa_summary(org, &actor).await?;
        soa = vec![
            figure(
                summary.applicable,
                "applicable controls",
                "/soa?applicable=yes",
            ),
            figure(
                summary.implemented,
                "implemented",
                "/soa?applicable=yes&status=implemented",
            ),
            figure(
                summary.unjustified.len(),
                "without justification",
                "/soa?justification=missing",
            ),
            figure(
                summary.not_applicable,
                "not applicable",
                "/soa?applicable=no",
            ),
            match &summary.latest {
                Some(v) => figure(
                    format!("v{}", v.number),
                    if summary.draft_changed {
                        "approved version, draft changed since"
                    } else {
                        "approved version"
                    },
                    "/soa/versions",
                ),
                None => figure("none", "approved version", "/soa/versions"),
            },
        ];
        audit = audit_figures(&state, org).await?;
        if let Some(a) = state.store.gap_assessments(org).await?.into_iter().next() {
            let entries = state.store.gap_entries(org, a.id).await?;
            let progress = isms_store::gap_progress(&entries);
            let done: usize = progress.iter().map(|p| p.implemented).sum();
            let applicable: usize = progress.iter().map(|p| p.applicable).sum();
            let count = |s: &str| entries.iter().filter(|e| e.status == s).count();
            gap = Some(GapHeadline {
                id: a.id,
                figures: vec![
                    figure(
                        format!("{done} of {applicable}"),
                        "requirements implemented",
                        format!("/gap/{}?status=implemented", a.id),
                    ),
                    figure(
                        count("partial"),
                        "partly implemented",
                        format!("/gap/{}?status=partial", a.id),
                    ),
                    figure(
                        count("not_started"),
                        "not started",
                        format!("/gap/{}?status=not_started", a.id),
                    ),
                ],
                title: a.title,
            });
        }
    }
    if show_status {
        let f = state.store.risk_register_facts(org).await?;
        if f.risks > 0 {
            let today = isms_store::now();
            let overdue = state
                .store
                .count_overdue_risk_actions(org, today.get(..10).unwrap_or(""))
                .await? as usize;
            let (_, heat_map) = crate::risk::export::heat_map(&state.store, org).await?;
            risk = Some(RiskHeadline {
                figures: vec![
                    figure(f.risks, "open risks", "/risks"),
                    figure(f.unassessed, "not yet assessed", "/risks?status=identified"),
                    figure(
                        f.not_accepted,
                        "residual risk not accepted",
                        "/risks/treatment",
                    ),
                    figure(
                        overdue,
                        "overdue treatment actions",
                        "/risks/treatment?overdue=1",
                    ),
                    figure(f.review_overdue, "past their review date", "/risks"),
                ],
                heat_map,
            });
        }
    }
    let metrics = if show_status {
        metric_panel(state.store.metrics(org).await?)
    } else {
        Vec::new()
    };
    let mut people = Vec::new();
    let mut activity = Vec::new();
    if role.can(Permission::ManageMembers) || role.can(Permission::ReadAuditLog) {
        let since = isms_store::time_from_now(time::Duration::days(-7));
        let counts = state.store.dashboard_counts(org, &since).await?;
        if role.can(Permission::ManageMembers) {
            people = vec![
                figure(counts.active_members, "active members", "/admin/users"),
                figure(counts.admins, "administrators", "/admin/users"),
                figure(
                    counts.inactive_members,
                    "deactivated members",
                    "/admin/users",
                ),
            ];
        }
        if role.can(Permission::ReadAuditLog) {
            activity = vec![
                figure(
                    counts.changes_last_7_days,
                    "changes in the last 7 days",
                    "/audit-log",
                ),
                figure(
                    counts.audit_entries,
                    "audit log entries in all",
                    "/audit-log",
                ),
            ];
        }
    }
    Ok(render(&DashboardPage {
        chrome: Some(chrome),
        work,
        show_status,
        soa,
        gap,
        risk,
        audit,
        metrics,
        people,
        activity,
    })?
    .into_response())
}

/// The readiness figure of the dashboard (an htmx fragment).
pub async fn readiness_summary(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    user.require(isms_domain::Permission::ReadIsms)?;
    let r = state.store.readiness(user.0.org_id, &user.actor()).await?;
    let chart = super::readiness::chart(&r);
    let roadmap = state.store.roadmap(user.0.org_id).await?;
    let roadmap_chart = super::tasks::phase_chart(&roadmap);
    Ok(render(&ReadinessSummary {
        r,
        chart,
        roadmap,
        roadmap_chart,
    })?
    .into_response())
}

#[derive(Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    org: String,
}

pub async fn switch_org(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<SwitchForm>,
) -> Result<Response, WebError> {
    let org = state
        .store
        .org_by_slug(&f.org)
        .await?
        .ok_or_else(|| WebError::not_found("You are not a member of that organisation."))?;
    state
        .store
        .switch_session_org(user.0.session_id, user.0.user_id, org.id, &user.actor())
        .await?;
    Ok(Redirect::to("/").into_response())
}
