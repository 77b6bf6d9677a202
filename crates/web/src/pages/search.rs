//! The search box of the navigation: one query across the requirements of
//! every framework the organisation sees, its SoA entries and its context
//! items, risks, assets and courses. Controls and documents add their
//! results as
//! they land.
//! items. Documents add theirs; risks and controls add their results as they land.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use isms_domain::Permission;
use isms_store::Tenant;
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;

/// Results shown per kind; the list behind each says how to see more.
const PER_KIND: usize = 20;
/// Longer queries are cut (the work is bounded before it starts).
const MAX_QUERY: usize = 200;

pub struct Hit {
    pub reference: String,
    pub title: String,
    pub href: String,
}

pub struct Section {
    pub name: String,
    pub hits: Vec<Hit>,
    /// More matched than shown: where to see them all.
    pub more: Option<String>,
}

#[derive(Template)]
#[template(path = "page_search.html")]
struct SearchPage {
    chrome: Option<Chrome>,
    q: String,
    sections: Vec<Section>,
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

fn section(name: String, mut hits: Vec<Hit>, more: String) -> Section {
    let more = (hits.len() > PER_KIND).then_some(more);
    hits.truncate(PER_KIND);
    Section { name, hits, more }
}

/// Audits, nonconformities (by key or words) and management reviews.
async fn audit_sections(
    state: &AppState,
    org: i64,
    needle: &str,
) -> Result<Vec<Section>, WebError> {
    let audits = state
        .store
        .internal_audits(org)
        .await?
        .into_iter()
        .filter(|a| a.title.to_lowercase().contains(needle))
        .map(|a| Hit {
            reference: a.start_date.clone(),
            title: a.title,
            href: format!("/audits/{}", a.id),
        })
        .collect();
    let ncs = state
        .store
        .nonconformities(org, &isms_store::NcFilter::default())
        .await?
        .into_iter()
        .filter(|n| {
            format!("nc-{}", n.id) == needle
                || n.title.to_lowercase().contains(needle)
                || n.requirement.to_lowercase() == needle
        })
        .map(|n| Hit {
            reference: format!("NC-{}", n.id),
            title: n.title,
            href: format!("/nonconformities/{}", n.id),
        })
        .collect();
    let reviews = state
        .store
        .management_reviews(org)
        .await?
        .into_iter()
        .filter(|r| r.title.to_lowercase().contains(needle))
        .map(|r| Hit {
            reference: r.review_date.clone(),
            title: r.title,
            href: format!("/management-reviews/{}", r.id),
        })
        .collect();
    Ok(vec![
        section("Internal audits".to_owned(), audits, "/audits".to_owned()),
        section(
            "Nonconformities".to_owned(),
            ncs,
            "/nonconformities".to_owned(),
        ),
        section(
            "Management reviews".to_owned(),
            reviews,
            "/management-reviews".to_owned(),
        ),
    ])
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<SearchQuery>,
) -> Result<Response, WebError> {
    let mut q: String = query.q.trim().chars().take(MAX_QUERY).collect();
    q = q.trim().to_owned();
    let chrome = Chrome::new(&state, &user.0, "search").await?;
    let mut sections = Vec::new();
    if !q.is_empty() {
        let needle = q.to_lowercase();
        let enc = serde_urlencoded::to_string([("q", q.as_str())]).unwrap_or_default();
        if user.0.role.can(Permission::ReadIsms) {
            let entries = state
                .store
                .soa_entries(user.0.org_id, &user.actor())
                .await?;
            let hits = entries
                .iter()
                .filter_map(|e| {
                    let title = isms_catalog::annex_a_control(&e.control_id)
                        .map(|c| c.title.clone())
                        .unwrap_or_default();
                    (e.control_id == needle
                        || title.to_lowercase().contains(&needle)
                        || e.justification.to_lowercase().contains(&needle))
                    .then(|| Hit {
                        reference: e.control_id.clone(),
                        title,
                        href: format!("/soa/{}", e.control_id),
                    })
                })
                .collect();
            sections.push(section(
                "Statement of Applicability".to_owned(),
                hits,
                format!("/soa?{enc}"),
            ));
            let items = state.store.context_items(user.0.org_id, None).await?;
            let hits = items
                .iter()
                .filter(|i| {
                    i.title.to_lowercase().contains(&needle)
                        || i.detail.to_lowercase().contains(&needle)
                })
                .map(|i| Hit {
                    reference: String::new(),
                    title: i.title.clone(),
                    href: format!("/context/items/{}", i.id),
                })
                .collect();
            sections.push(section("Context".to_owned(), hits, "/context".to_owned()));
            let risks = state
                .store
                .risks(
                    user.0.org_id,
                    &isms_store::RiskQuery {
                        q: Some(q.clone()),
                        limit: PER_KIND as i64 + 1,
                        ..Default::default()
                    },
                )
                .await?;
            let docs = state
                .store
                .documents(
                    user.0.org_id,
                    &isms_store::DocumentQuery {
                        q: Some(q.clone()),
                        ..Default::default()
                    },
                )
                .await?;
            let hits = risks
                .items
                .into_iter()
                .map(|r| Hit {
                    reference: format!("RISK-{}", r.id),
                    title: r.title,
                    href: format!("/risks/{}", r.id),
                })
                .collect();
            sections.push(section("Risks".to_owned(), hits, format!("/risks?{enc}")));
            let assets = state
                .store
                .assets(
                    user.0.org_id,
                    &isms_store::AssetQuery {
                        q: Some(q.clone()),
                        asset_type: None,
                        limit: PER_KIND as i64 + 1,
                        offset: 0,
                    },
                )
                .await?;
            let hits = assets
                .into_iter()
                .map(|a| Hit {
                    reference: String::new(),
                    title: a.name,
                    href: format!("/inventory/{}", a.id),
                })
                .collect();
            sections.push(section(
                "Assets".to_owned(),
                hits,
                format!("/inventory?{enc}"),
            ));
            let tasks = state.store.tasks(user.0.org_id, None, false).await?;
            let hits = tasks
                .iter()
                .filter(|t| {
                    t.title.to_lowercase().contains(&needle)
                        || t.description.to_lowercase().contains(&needle)
                })
                .map(|t| Hit {
                    reference: t.status.clone(),
                    title: t.title.clone(),
                    href: format!("/tasks/{}", t.id),
                })
                .collect();
            sections.push(section("Tasks".to_owned(), hits, "/tasks/due".to_owned()));
            sections.extend(audit_sections(&state, user.0.org_id, &needle).await?);
            let controls = state.store.controls(user.0.org_id).await?;
            let hits = controls
                .iter()
                .filter(|c| {
                    c.name.to_lowercase().contains(&needle)
                        || c.description.to_lowercase().contains(&needle)
                })
                .map(|c| Hit {
                    reference: c.status.label().to_owned(),
                    title: c.name.clone(),
                    href: format!("/controls/{}", c.id),
                })
                .collect();
            sections.push(section(
                "Applied controls".to_owned(),
                hits,
                "/controls".to_owned(),
            ));
            let metrics = state.store.metrics(user.0.org_id).await?;
            let hits = metrics
                .iter()
                .filter(|m| {
                    m.name.to_lowercase().contains(&needle)
                        || m.information_need.to_lowercase().contains(&needle)
                })
                .map(|m| Hit {
                    reference: m.unit.clone(),
                    title: m.name.clone(),
                    href: format!("/metrics/{}", m.id),
                })
                .collect();
            sections.push(section("Metrics".to_owned(), hits, "/metrics".to_owned()));
            let hits = docs
                .iter()
                .map(|d| Hit {
                    reference: crate::documents::export::key(d.id),
                    title: d.title.clone(),
                    href: format!("/documents/{}", d.id),
                })
                .collect();
            sections.push(section(
                "Documents".to_owned(),
                hits,
                format!("/documents?{enc}"),
            ));
        }
        // Courses: every member may open them.
        let hits = state
            .store
            .courses(user.0.org_id)
            .await?
            .into_iter()
            .filter(|c| {
                c.title.to_lowercase().contains(&needle)
                    || c.description.to_lowercase().contains(&needle)
            })
            .map(|c| Hit {
                reference: String::new(),
                title: c.title,
                href: format!("/training/courses/{}", c.id),
            })
            .collect();
        sections.push(section("Training".to_owned(), hits, "/training".to_owned()));
        let mut frameworks = state.store.frameworks(Tenant::Org(user.0.org_id)).await?;
        // The framework the ISMS is kept against first, the rest by name.
        frameworks.sort_by_key(|f| f.slug != "iso27001-2022");
        for f in frameworks {
            let hits = state
                .store
                .requirements(f.id, Some(&q))
                .await?
                .iter()
                .map(|r| Hit {
                    reference: r
                        .control_id
                        .clone()
                        .unwrap_or_else(|| r.display_ref.clone()),
                    title: crate::human::requirement_title(r).to_owned(),
                    href: format!("/requirements/{}", r.id),
                })
                .collect();
            sections.push(section(
                f.name,
                hits,
                format!("/frameworks/{}?{enc}", f.slug),
            ));
        }
        sections.retain(|s| !s.hits.is_empty());
    }
    Ok(render(&SearchPage {
        chrome: Some(chrome),
        q,
        sections,
    })?
    .into_response())
}
