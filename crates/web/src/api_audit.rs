//! The organisation's audit log over the API: who changed what, when, with
//! the before and after of every change, newest first, paged by sequence.

use axum::Json;
use axum::extract::{Query, State};
use isms_domain::Permission;
use isms_store::AuditFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, Problem, WebError};

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditLogQuery {
    /// Only entries about this kind of record (e.g. `risk`, `soa_entry`).
    entity: Option<String>,
    /// Only entries by this actor (an e-mail address, or `system`).
    actor: Option<String>,
    /// Only entries older than this sequence number (the `next` page).
    before: Option<i64>,
    /// 1 to 500, default 100.
    limit: Option<i64>,
}

/// One entry of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryOut {
    /// Position in the organisation's hash chain (1, 2, ...).
    seq: i64,
    at: String,
    actor: String,
    /// web, api, cli or system.
    via: String,
    action: String,
    entity_type: String,
    entity_id: String,
    /// The record before the change, as JSON (absent for a creation).
    before: Option<serde_json::Value>,
    /// The record after the change, as JSON (absent for a deletion).
    after: Option<serde_json::Value>,
    /// This entry's link in the chain (`isms audit-log verify` checks it).
    hash: String,
}

/// A page of the audit log, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLogPage {
    items: Vec<AuditEntryOut>,
    /// The query of the next (older) page, absent on the last page.
    next: Option<String>,
}

fn json_of(text: Option<String>) -> Option<serde_json::Value> {
    text.map(|t| serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t)))
}

#[utoipa::path(get, path = "/audit-log", tag = "audit log", params(AuditLogQuery),
    responses((status = 200, body = AuditLogPage),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_audit_log(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<AuditLogQuery>,
) -> Result<Json<AuditLogPage>, ApiError> {
    user.require(Permission::ReadAuditLog)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError(WebError::invalid(format!(
            "limit: {limit} is outside 1 to 500"
        ))));
    }
    if q.before.is_some_and(|b| b < 1) {
        return Err(ApiError(WebError::invalid(
            "before: a sequence number is 1 or more",
        )));
    }
    let filter = AuditFilter {
        entity_type: q.entity.clone().filter(|s| !s.trim().is_empty()),
        actor: q.actor.clone().filter(|s| !s.trim().is_empty()),
        before_seq: q.before,
        limit,
    };
    let entries = state.store.audit_entries(user.0.org_id, &filter).await?;
    let next = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.seq))
        .flatten()
        .map(|seq| {
            let mut pairs = vec![("before", seq.to_string()), ("limit", limit.to_string())];
            if let Some(e) = &filter.entity_type {
                pairs.push(("entity", e.clone()));
            }
            if let Some(a) = &filter.actor {
                pairs.push(("actor", a.clone()));
            }
            format!(
                "/api/v1/audit-log?{}",
                serde_urlencoded::to_string(pairs).unwrap_or_default()
            )
        });
    let items = entries
        .into_iter()
        .map(|e| AuditEntryOut {
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            via: e.via,
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            before: json_of(e.before_json),
            after: json_of(e.after_json),
            hash: e.hash,
        })
        .collect();
    Ok(Json(AuditLogPage { items, next }))
}
