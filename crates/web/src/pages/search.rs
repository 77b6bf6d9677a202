//! The search box of the navigation: one query across the requirements of
//! every framework the organisation sees, its SoA entries and its context
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
                    reference: r.control_id.clone().unwrap_or_else(|| r.ref_id.clone()),
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
