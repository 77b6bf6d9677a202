//! Browsing frameworks as trees, searching them, reading a requirement with
//! its guidance and mappings, and importing framework and mapping files.

use std::fmt::Write as _;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::Permission;
use isms_store::{FrameworkRow, MappedRequirement, RequirementRow, Tenant};
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;
use crate::import::{self, Format, UploadedCatalogs};

#[derive(Template)]
#[template(path = "page_frameworks.html")]
struct FrameworksPage {
    chrome: Option<Chrome>,
    frameworks: Vec<FrameworkRow>,
    can_import: bool,
    error: Option<String>,
    notice: Option<String>,
    mapping_count: i64,
    /// One line per file of a multi-file import.
    reports: Vec<import::FileReport>,
    /// Installed libraries: version, provider, last update; presets can be enabled.
    libraries: Vec<isms_store::InstalledLibrary>,
    /// What enabling a preset did, one line per item.
    preset_items: Vec<isms_store::PresetItem>,
    can_enable: bool,
}

async fn list_page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    list_page_with(state, user, status, error, notice, Vec::new(), Vec::new()).await
}

async fn list_page_with(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
    reports: Vec<import::FileReport>,
    preset_items: Vec<isms_store::PresetItem>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, &user.0, "frameworks").await?;
    let tenant = Tenant::Org(user.0.org_id);
    let html = render(&FrameworksPage {
        chrome: Some(chrome),
        frameworks: state.store.frameworks(tenant).await?,
        can_import: user.0.role.can(Permission::ImportFrameworks),
        error,
        notice,
        mapping_count: state.store.count_imported_mappings(tenant).await?,
        reports,
        libraries: state.store.installed_libraries(tenant).await?,
        preset_items,
        can_enable: user.0.role.can(Permission::EditIsms),
    })?;
    Ok((status, html).into_response())
}

#[derive(Deserialize)]
pub struct EnableForm {
    urn: String,
}

/// Enables for the organisation what an installed preset bundles, and shows each item.
pub async fn enable_preset(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::Form(f): axum::Form<EnableForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    match state
        .store
        .enable_preset(user.0.org_id, f.urn.trim(), &user.actor())
        .await
    {
        Ok(items) => {
            let missing = items.iter().filter(|i| i.outcome == "missing").count();
            let notice = Some(format!(
                "Preset enabled: {} items{}.",
                items.len(),
                if missing > 0 {
                    format!(
                        ", {missing} bundled libraries missing (import them, then enable again)"
                    )
                } else {
                    String::new()
                }
            ));
            list_page_with(
                &state,
                &user,
                StatusCode::OK,
                None,
                notice,
                Vec::new(),
                items,
            )
            .await
        }
        Err(isms_store::StoreError::Invalid(m) | isms_store::StoreError::NotFound(m)) => {
            list_page_with(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(m),
                None,
                Vec::new(),
                Vec::new(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let secure = state.config.behind_tls_proxy;
    let notice = crate::cookies::notice(&headers, secure);
    let mut response = list_page(&state, &user, StatusCode::OK, None, notice.clone()).await?;
    if notice.is_some() {
        response.headers_mut().append(
            axum::http::header::SET_COOKIE,
            crate::cookies::clear(crate::cookies::notice_cookie_name(secure), secure),
        );
    }
    Ok(response)
}

/// Post/redirect/get after an import: the notice travels in a one-shot
/// cookie, so reloading the list does not offer to upload the file again.
fn imported(state: &AppState, notice: &str) -> Response {
    let mut response = Redirect::to("/frameworks").into_response();
    response.headers_mut().append(
        axum::http::header::SET_COOKIE,
        crate::cookies::set_notice(notice, state.config.behind_tls_proxy),
    );
    response
}

/// Several files (or one library): each imported in its own transaction, one report line
/// per file, shown on the list page.
async fn import_several(
    state: &AppState,
    user: &CurrentUser,
    up: Upload,
) -> Result<Response, WebError> {
    let actor = user.actor();
    let tenant = Tenant::Org(user.0.org_id);
    let loader = UploadedCatalogs(up.catalogs);
    let mut reports = Vec::with_capacity(up.files.len());
    for (name, bytes) in &up.files {
        reports.push(
            import::import_file(
                &state.store,
                name,
                bytes,
                &loader,
                up.replace,
                tenant,
                &actor,
            )
            .await,
        );
    }
    let refused = reports.iter().filter(|r| r.outcome == "refused").count();
    let status = if refused == reports.len() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let notice = Some(format!(
        "{} of {} files imported; {refused} refused (nothing of a refused file was stored).",
        reports.len() - refused,
        reports.len()
    ));
    // Presets among the files: enabled once every file is in, when asked and allowed.
    let mut items = Vec::new();
    if up.enable_presets && user.0.role.can(Permission::EditIsms) {
        for urn in reports.iter().filter_map(|r| r.preset.clone()) {
            items.extend(
                state
                    .store
                    .enable_preset(user.0.org_id, &urn, &actor)
                    .await?,
            );
        }
    }
    list_page_with(state, user, status, None, notice, reports, items).await
}

/// The fields of an upload form.
#[derive(Default)]
struct Upload {
    files: Vec<(String, Vec<u8>)>,
    catalogs: Vec<(String, Vec<u8>)>,
    format: String,
    id: String,
    replace: bool,
    enable_presets: bool,
}

async fn read_upload(mut multipart: Multipart) -> Result<Upload, String> {
    let mut up = Upload::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| format!("the upload could not be read: {e}"))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|e| format!("the upload could not be read: {e}"))?;
        match (name.as_str(), file_name) {
            ("file", Some(f)) if !bytes.is_empty() => up.files.push((f, bytes.to_vec())),
            ("catalog", Some(f)) if !bytes.is_empty() => up.catalogs.push((f, bytes.to_vec())),
            ("format", _) => String::from_utf8_lossy(&bytes)
                .trim()
                .clone_into(&mut up.format),
            ("id", _) => String::from_utf8_lossy(&bytes)
                .trim()
                .clone_into(&mut up.id),
            ("replace", _) => up.replace = !bytes.is_empty(),
            ("enable_presets", _) => up.enable_presets = !bytes.is_empty(),
            _ => {}
        }
    }
    Ok(up)
}

pub async fn import_framework(
    State(state): State<AppState>,
    user: CurrentUser,
    multipart: Multipart,
) -> Result<Response, WebError> {
    user.require(Permission::ImportFrameworks)?;
    let up = match read_upload(multipart).await {
        Ok(up) => up,
        Err(e) => {
            return list_page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(e),
                None,
            )
            .await;
        }
    };
    let library = |(name, bytes): &(String, Vec<u8>)| {
        matches!(up.format.as_str(), "" | "auto" | "ciso-assistant")
            && import::detect_format(name, bytes) == Ok(Format::CisoAssistant)
    };
    if up.files.len() > 1
        || (up.id.is_empty() && up.files.iter().all(library) && !up.files.is_empty())
    {
        return import_several(&state, &user, up).await;
    }
    let outcome = async {
        let (name, bytes) = up
            .files
            .into_iter()
            .next()
            .ok_or("Choose a file to import.")?;
        let format = if up.format.is_empty() || up.format == "auto" {
            import::detect_format(&name, &bytes)?
        } else {
            Format::parse(&up.format)?
        };
        let id = Some(up.id.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let replace = up.replace;
        let loader = UploadedCatalogs(up.catalogs);
        // Parsing and validation are CPU work: keep them off the async threads.
        let parsed = tokio::task::spawn_blocking(move || {
            import::parse_framework(&name, &bytes, format, &loader, id.as_deref())
                .map(|p| (p, name, format, replace))
        })
        .await
        .map_err(|_| "the import failed unexpectedly".to_owned())??;
        Ok::<_, String>(parsed)
    }
    .await;
    let (parsed, name, format, replace) = match outcome {
        Ok(p) => p,
        Err(e) => {
            return list_page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(e),
                None,
            )
            .await;
        }
    };
    let actor = user.actor();
    let tenant = Tenant::Org(user.0.org_id);
    let mut notice = String::new();
    if let Some(tree) = &parsed.tree {
        match state
            .store
            .import_framework(tree, &name, format.as_str(), replace, tenant, &actor)
            .await
        {
            Ok(s) if s.unchanged => {
                notice = format!("{} was already installed and is unchanged.", s.slug);
            }
            Ok(s) => {
                notice = format!(
                    "Imported {} from {name}: {} requirements ({} new, {} updated, {} removed).",
                    s.slug,
                    tree.nodes.len(),
                    s.inserted,
                    s.updated,
                    s.removed
                );
            }
            Err(isms_store::StoreError::Conflict(m) | isms_store::StoreError::Invalid(m)) => {
                return list_page(
                    &state,
                    &user,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(m),
                    None,
                )
                .await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !parsed.mappings.is_empty() {
        let n = state
            .store
            .import_mappings(&parsed.mappings, &name, tenant, &actor)
            .await?;
        let _ = write!(notice, " Imported {n} mappings.");
    }
    for w in parsed.warnings.iter().take(5) {
        let _ = write!(notice, " Warning: {w}.");
    }
    Ok(imported(&state, notice.trim()))
}

pub async fn import_mappings(
    State(state): State<AppState>,
    user: CurrentUser,
    multipart: Multipart,
) -> Result<Response, WebError> {
    user.require(Permission::ImportFrameworks)?;
    let parsed = async {
        let up = read_upload(multipart).await?;
        let (name, bytes) = up
            .files
            .into_iter()
            .next()
            .ok_or("Choose a mapping file to import.")?;
        let mappings = import::parse_mappings(&name, &bytes)?;
        Ok::<_, String>((name, mappings))
    }
    .await;
    match parsed {
        Err(e) => {
            list_page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(e),
                None,
            )
            .await
        }
        Ok((name, mappings)) => match state
            .store
            .import_mappings(&mappings, &name, Tenant::Org(user.0.org_id), &user.actor())
            .await
        {
            Ok(n) => Ok(imported(
                &state,
                &format!("Imported {n} mappings from {name}."),
            )),
            Err(isms_store::StoreError::Invalid(m)) => {
                list_page(
                    &state,
                    &user,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(m),
                    None,
                )
                .await
            }
            Err(e) => Err(e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "page_framework.html")]
struct FrameworkPage {
    chrome: Option<Chrome>,
    framework: FrameworkRow,
    requirements: Vec<RequirementRow>,
    q: String,
}

#[derive(Template)]
#[template(path = "framework_results_partial.html")]
struct ResultsPartial {
    requirements: Vec<RequirementRow>,
    q: String,
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    Query(search): Query<SearchQuery>,
) -> Result<Response, WebError> {
    let framework = state
        .store
        .framework(&id, Tenant::Org(user.0.org_id))
        .await?
        .ok_or_else(|| WebError::not_found(format!("There is no framework '{id}'.")))?;
    let q = search.q.trim().to_owned();
    let requirements = state.store.requirements(framework.id, Some(&q)).await?;
    // htmx search: only the results list is replaced.
    if headers.contains_key("hx-request") {
        return Ok(render(&ResultsPartial { requirements, q })?.into_response());
    }
    let chrome = Chrome::new(&state, &user.0, "frameworks")
        .await?
        .detail(&[], framework.name.clone());
    Ok(render(&FrameworkPage {
        chrome: Some(chrome),
        framework,
        requirements,
        q,
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "page_requirement.html")]
struct RequirementPage {
    chrome: Option<Chrome>,
    requirement: RequirementRow,
    guidance: Option<isms_catalog::Guidance>,
    related: Vec<super::links::Related>,
    children: Vec<RequirementRow>,
    official: Vec<MappedRequirement>,
    derived: Vec<MappedRequirement>,
}

pub async fn requirement(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let tenant = Tenant::Org(user.0.org_id);
    let requirement = state
        .store
        .requirement(id, tenant)
        .await?
        .ok_or_else(|| WebError::not_found("There is no such requirement."))?;
    let framework = state
        .store
        .framework(&requirement.framework_id.to_string(), tenant)
        .await?
        .ok_or_else(|| WebError::not_found("There is no such framework."))?;
    let parent = match &requirement.parent_key {
        Some(p) => {
            state
                .store
                .requirement_by_ref(&framework.slug, p, tenant)
                .await?
        }
        None => None,
    };
    let children = state
        .store
        .requirement_children(framework.id, &requirement.node_key)
        .await?;
    let (derived, official): (Vec<_>, Vec<_>) = state
        .store
        .mapped_requirements(&framework.slug, &requirement.node_key, tenant)
        .await?
        .into_iter()
        .partition(|m| m.derived_path.is_some());
    let framework_href = format!("/frameworks/{}", framework.slug);
    let mut trail = vec![(framework.name.clone(), framework_href)];
    if let Some(p) = &parent {
        trail.push((
            format!("{} {}", p.display_ref, p.title),
            format!("/requirements/{}", p.id),
        ));
    }
    let trail: Vec<(&str, &str)> = trail
        .iter()
        .map(|(l, h)| (l.as_str(), h.as_str()))
        .collect();
    let chrome = Chrome::new(&state, &user.0, "frameworks")
        .await?
        .detail(&trail, requirement.display_ref.clone());
    let related = if framework.slug == "iso27001-2022" {
        super::links::related(
            &state,
            &user.0,
            &requirement.ref_id,
            super::links::From::Requirement,
        )
        .await?
    } else {
        Vec::new()
    };
    Ok(render(&RequirementPage {
        chrome: Some(chrome),
        related,
        guidance: requirement.guidance(),
        requirement,
        children,
        official,
        derived,
    })?
    .into_response())
}

/// Whether an installed library is a preset (it bundles other libraries).
pub fn is_preset(l: &isms_store::InstalledLibrary) -> bool {
    l.content()
        .get("preset")
        .is_some_and(serde_json::Value::is_object)
}

/// What a library holds, in words, from the content recorded at its import.
pub fn holds(l: &isms_store::InstalledLibrary) -> String {
    let c = l.content();
    let c = &c;
    let mut out = Vec::new();
    if let Some(f) = c.get("framework").and_then(serde_json::Value::as_str) {
        out.push(format!("framework {f}"));
    }
    for (key, what) in [
        ("mappings", "mappings"),
        ("risk_matrices", "risk matrices"),
        ("threats", "threats"),
        ("reference_controls", "reference controls"),
        ("metric_definitions", "metric definitions"),
    ] {
        if let Some(n) = c.get(key).and_then(serde_json::Value::as_u64)
            && n > 0
        {
            out.push(format!("{n} {what}"));
        }
    }
    if let Some(n) = c
        .get("preset")
        .and_then(|p| p.get("libraries"))
        .and_then(serde_json::Value::as_array)
    {
        out.push(format!("preset bundling {} libraries", n.len()));
    }
    if out.is_empty() {
        "nothing imported".into()
    } else {
        out.join(", ")
    }
}
