//! The audit log, readable by administrators and auditors.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use isms_domain::Permission;
use isms_store::{AuditEntry, AuditFilter};
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;

const PAGE: i64 = 100;

#[derive(Template)]
#[template(path = "page_audit.html")]
struct AuditPage {
    chrome: Option<Chrome>,
    entries: Vec<AuditEntry>,
    entity_types: Vec<String>,
    actors: Vec<String>,
    entity: String,
    actor: String,
    older: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    entity: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    before: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadAuditLog)?;
    let filter = AuditFilter {
        entity_type: Some(q.entity.clone()).filter(|s| !s.is_empty()),
        actor: Some(q.actor.clone()).filter(|s| !s.is_empty()),
        before_seq: q.before,
        limit: PAGE,
    };
    let chrome = Chrome::new(&state, &user.0, "audit").await?;
    let entries = state.store.audit_entries(user.0.org_id, &filter).await?;
    let (entity_types, actors) = state.store.audit_facets(user.0.org_id).await?;
    let older = (entries.len() as i64 == PAGE)
        .then(|| entries.last().map(|e| e.seq))
        .flatten()
        .map(|seq| {
            serde_urlencoded::to_string([
                ("entity", q.entity.as_str()),
                ("actor", q.actor.as_str()),
                ("before", &seq.to_string()),
            ])
            .unwrap_or_default()
        });
    Ok(render(&AuditPage {
        chrome: Some(chrome),
        entries,
        entity_types,
        actors,
        entity: q.entity,
        actor: q.actor,
        older,
    })?
    .into_response())
}
