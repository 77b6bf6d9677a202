//! Context and scope in the web UI: the scope statement, issues, interested
//! parties, RACI and objectives.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::Permission;
use isms_store::{ContextInput, ContextItem, Scope, ScopeInput, StoreError};
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;

#[derive(Template)]
#[template(path = "page_context.html")]
struct ContextPage {
    chrome: Option<Chrome>,
    scope: Scope,
    form: ScopeForm,
    issues: Vec<ContextItem>,
    parties: Vec<ContextItem>,
    raci: Vec<ContextItem>,
    objectives: Vec<ContextItem>,
    can_edit: bool,
    csrf: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct ScopeForm {
    #[serde(default)]
    pub statement: String,
    #[serde(default)]
    pub units: String,
    #[serde(default)]
    pub locations: String,
    #[serde(default)]
    pub processes: String,
    #[serde(default)]
    pub systems_in: String,
    #[serde(default)]
    pub systems_out: String,
    #[serde(default)]
    pub interfaces: String,
    #[serde(default)]
    pub exclusions: String,
    #[serde(default)]
    pub version: String,
}

impl ScopeForm {
    fn from_scope(s: &Scope) -> Self {
        ScopeForm {
            statement: s.statement.clone(),
            units: s.units.clone(),
            locations: s.locations.clone(),
            processes: s.processes.clone(),
            systems_in: s.systems_in.clone(),
            systems_out: s.systems_out.clone(),
            interfaces: s.interfaces.clone(),
            exclusions: s.exclusions.clone(),
            version: s.version.to_string(),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    saved: Option<String>,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    form: Option<ScopeForm>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, &user.0, "context").await?;
    let scope = state.store.scope(user.0.org_id).await?;
    let items = state.store.context_items(user.0.org_id, None).await?;
    let of = |k: &str| {
        items
            .iter()
            .filter(|i| i.kind == k)
            .cloned()
            .collect::<Vec<_>>()
    };
    let html = render(&ContextPage {
        chrome: Some(chrome),
        form: form.unwrap_or_else(|| ScopeForm::from_scope(&scope)),
        scope,
        issues: of("issue"),
        parties: of("party"),
        raci: of("raci"),
        objectives: of("objective"),
        can_edit: user.0.role.can(Permission::EditIsms),
        csrf: user.0.csrf_token.clone(),
        error,
        notice,
    })?;
    Ok((status, html).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<Done>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let notice = q.saved.map(|s| format!("Saved the {s}."));
    page(&state, &user, StatusCode::OK, None, None, notice).await
}

pub async fn save_scope(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<ScopeForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let input = ScopeInput {
        statement: f.statement.clone(),
        units: f.units.clone(),
        locations: f.locations.clone(),
        processes: f.processes.clone(),
        systems_in: f.systems_in.clone(),
        systems_out: f.systems_out.clone(),
        interfaces: f.interfaces.clone(),
        exclusions: f.exclusions.clone(),
        version: f.version.trim().parse().ok(),
    };
    match state
        .store
        .save_scope(user.0.org_id, &input, &user.actor())
        .await
    {
        Ok(_) => Ok(Redirect::to("/context?saved=scope").into_response()),
        Err(StoreError::Invalid(m)) => {
            page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(f),
                Some(format!("Nothing was saved: {m}.")),
                None,
            )
            .await
        }
        Err(StoreError::Conflict(m)) => {
            // Keep what was typed; the next save is against the current version.
            let current = state.store.scope(user.0.org_id).await?;
            let f = ScopeForm {
                version: current.version.to_string(),
                ..f
            };
            page(
                &state,
                &user,
                StatusCode::CONFLICT,
                Some(f),
                Some(format!("{m}. Your text is kept below.")),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct ItemForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    effect: String,
    #[serde(default)]
    addressed: Option<String>,
    #[serde(default)]
    measure: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    due_date: String,
    #[serde(default)]
    responsible: String,
    #[serde(default)]
    accountable: String,
    #[serde(default)]
    consulted: String,
    #[serde(default)]
    informed: String,
}

pub async fn add_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<ItemForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let input = ContextInput {
        title: Some(f.title),
        category: Some(f.category),
        detail: Some(f.detail),
        effect: Some(f.effect),
        addressed: Some(f.addressed.is_some()),
        measure: Some(f.measure),
        target: Some(f.target),
        owner: Some(f.owner),
        due_date: Some(f.due_date),
        responsible: Some(f.responsible),
        accountable: Some(f.accountable),
        consulted: Some(f.consulted),
        informed: Some(f.informed),
        version: None,
    };
    match state
        .store
        .create_context_item(user.0.org_id, &f.kind, &input, &user.actor())
        .await
    {
        Ok(i) => Ok(Redirect::to(&format!("/context?saved={}", i.kind)).into_response()),
        Err(StoreError::Invalid(m) | StoreError::NotFound(m)) => {
            page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(format!("The {} was not added: {m}.", f.kind)),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "page_context_item.html")]
struct ItemPage {
    chrome: Option<Chrome>,
    item: ContextItem,
    form: ContextItem,
    can_edit: bool,
    csrf: String,
    error: Option<String>,
}

async fn item_page(
    state: &AppState,
    user: &CurrentUser,
    item: ContextItem,
    form: Option<ContextItem>,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, &user.0, "context")
        .await?
        .detail(&[], item.title.clone());
    let html = render(&ItemPage {
        chrome: Some(chrome),
        form: form.unwrap_or_else(|| item.clone()),
        item,
        can_edit: user.0.role.can(Permission::EditIsms),
        csrf: user.0.csrf_token.clone(),
        error,
    })?;
    Ok((status, html).into_response())
}

pub async fn edit_item(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let item = state.store.context_item(user.0.org_id, id).await?;
    item_page(&state, &user, item, None, StatusCode::OK, None).await
}

#[derive(Deserialize, Default)]
pub struct EditItemForm {
    #[serde(flatten)]
    item: ItemForm,
    #[serde(default)]
    version: String,
}

pub async fn save_item(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<i64>,
    Form(f): Form<EditItemForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let current = state.store.context_item(user.0.org_id, id).await?;
    let i = f.item;
    let typed = ContextItem {
        title: i.title.clone(),
        category: i.category.clone(),
        detail: i.detail.clone(),
        effect: i.effect.clone(),
        addressed: i.addressed.is_some(),
        measure: i.measure.clone(),
        target: i.target.clone(),
        owner: i.owner.clone(),
        due_date: i.due_date.clone(),
        responsible: i.responsible.clone(),
        accountable: i.accountable.clone(),
        consulted: i.consulted.clone(),
        informed: i.informed.clone(),
        ..current.clone()
    };
    let input = ContextInput {
        title: Some(i.title),
        category: Some(i.category),
        detail: Some(i.detail),
        effect: Some(i.effect),
        addressed: Some(i.addressed.is_some()),
        measure: Some(i.measure),
        target: Some(i.target),
        owner: Some(i.owner),
        due_date: Some(i.due_date),
        responsible: Some(i.responsible),
        accountable: Some(i.accountable),
        consulted: Some(i.consulted),
        informed: Some(i.informed),
        version: f.version.trim().parse().ok(),
    };
    match state
        .store
        .update_context_item(user.0.org_id, id, &input, &user.actor())
        .await
    {
        Ok(item) => Ok(Redirect::to(&format!("/context?saved={}", item.kind)).into_response()),
        Err(StoreError::Invalid(m)) => {
            item_page(
                &state,
                &user,
                current,
                Some(typed),
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(format!("Nothing was saved: {m}.")),
            )
            .await
        }
        Err(StoreError::Conflict(m)) => {
            // The next save is against the current version; what was typed stays.
            let version = current.version;
            let form = ContextItem { version, ..typed };
            item_page(
                &state,
                &user,
                current,
                Some(form),
                StatusCode::CONFLICT,
                Some(format!("{m}. Your text is kept below.")),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
