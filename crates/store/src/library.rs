//! Libraries (CISO Assistant's layout): one file holds a framework, mapping sets, risk
//! matrices, threats. A library is imported whole, in one transaction, or not at all; its
//! version decides whether a file updates the installed library in place or is refused.
//!
//! Where things go: the framework and its mappings into the framework tables (requirements
//! matched by URN, removed ones retired), risk matrices as methodology templates and threats
//! into the threat library of the risk module (`library_items`), the library itself into
//! `libraries` with its version and translations.

use isms_catalog::{CisoLibrary, MetricDef, ReferenceControl, RiskMatrixDef};
use isms_domain::risk::{Level, Methodology, ScaleStep};
use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::frameworks::{LibraryMeta, existing_framework, write_framework, write_mappings};
use crate::{ImportSummary, Result, Store, StoreError, Tenant, now, on_pool, on_tx};

/// What importing one library did.
#[derive(Debug, Clone, Serialize)]
pub struct LibraryReport {
    pub file: String,
    pub library_urn: String,
    /// `imported`, `updated` or `unchanged`.
    pub outcome: &'static str,
    /// One line for people: what went where.
    pub detail: String,
    pub framework: Option<ImportSummary>,
    pub mappings: usize,
    pub risk_matrices: usize,
    pub threats: usize,
    pub reference_controls: usize,
    pub metric_definitions: usize,
    /// The libraries a preset bundles (by URN), to import and enable with it.
    pub preset_libraries: Vec<String>,
    /// Kept going despite these (mappings left out, objects not imported yet).
    pub warnings: Vec<String>,
}

/// A risk matrix template a methodology can be made from.
#[derive(Debug, Clone, Serialize)]
pub struct MethodologyTemplate {
    pub id: i64,
    pub urn: String,
    pub name: String,
    pub description: String,
    pub library_urn: String,
    /// Installation-wide (`None`) or the organisation's own import.
    pub org_id: Option<i64>,
    pub matrix: RiskMatrixDef,
}

/// A threat of an imported threat catalog.
#[derive(Debug, Clone, Serialize)]
pub struct LibraryThreat {
    pub id: i64,
    pub urn: String,
    pub ref_id: String,
    pub name: String,
    pub description: String,
    pub library_urn: String,
}

/// A reference measure of an imported library: what an applied control can be created from.
#[derive(Debug, Clone, Serialize)]
pub struct ReferenceMeasure {
    pub id: i64,
    pub urn: String,
    pub ref_id: String,
    pub name: String,
    pub description: String,
    /// As the library writes it (`policy`, `process`, `technical`, ...).
    pub category: Option<String>,
    pub csf_function: Option<String>,
    pub library_urn: String,
}

/// A metric definition of an imported library: what a metric can be created from.
#[derive(Debug, Clone, Serialize)]
pub struct MetricTemplate {
    pub id: i64,
    pub urn: String,
    pub ref_id: String,
    pub name: String,
    pub description: String,
    pub unit: String,
    pub direction: Option<String>,
    pub target: Option<f64>,
    pub frequency: Option<String>,
    pub category: Option<String>,
    pub library_urn: String,
}

/// An installed library as listed: its version, provider and last update.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct InstalledLibrary {
    pub id: i64,
    pub urn: String,
    pub name: String,
    pub version: Option<i64>,
    pub provider: String,
    pub source_file: String,
    pub imported_at: String,
    pub updated_at: String,
    /// Installation-wide (`None`) or the organisation's own import.
    pub org_id: Option<i64>,
    #[serde(skip)]
    pub content_json: String,
}

impl InstalledLibrary {
    /// What the library holds, as recorded at import (framework, counts, preset).
    pub fn content(&self) -> serde_json::Value {
        serde_json::from_str(&self.content_json).unwrap_or_default()
    }
}

/// One line of what enabling a preset did.
#[derive(Debug, Clone, Serialize)]
pub struct PresetItem {
    /// What it is about: `library <urn>`, `framework <id>`, `risk matrix <name>`, ...
    pub item: String,
    /// `installed`, `missing`, `available`, `enabled`, `created`, `kept` or `skipped`.
    pub outcome: &'static str,
    pub detail: String,
}

/// One row of `library_items` to write.
struct ItemRow<'a> {
    kind: &'static str,
    urn: &'a str,
    ref_id: &'a str,
    name: &'a str,
    description: &'a str,
    body: String,
    translations: Option<String>,
}

/// The colour a level gets when the library gives none: green to red by rank.
fn default_colour(rank: usize, count: usize) -> String {
    const RAMP: [&str; 5] = ["#2e7d32", "#9e9d24", "#f9a825", "#ef6c00", "#c62828"];
    let i = if count <= 1 {
        0
    } else {
        rank * (RAMP.len() - 1) / (count - 1)
    };
    RAMP[i.min(RAMP.len() - 1)].to_owned()
}

/// The methodology a risk matrix template gives: its scales, levels (with their colours) and
/// grid. The highest level the risk owner may accept is the lowest one, unless `keep`
/// (the current methodology's choice) still names a level of the template.
pub fn methodology_from_matrix(m: &RiskMatrixDef, keep: Option<usize>) -> Methodology {
    let scale = |steps: &[isms_catalog::MatrixStep]| {
        steps
            .iter()
            .map(|s| ScaleStep {
                name: s.name.clone(),
                description: s.description.clone(),
            })
            .collect()
    };
    let levels = m
        .risk
        .iter()
        .enumerate()
        .map(|(i, s)| Level {
            name: s.name.clone(),
            colour: s
                .colour
                .clone()
                .unwrap_or_else(|| default_colour(i, m.risk.len())),
        })
        .collect::<Vec<_>>();
    let max_acceptable_level = keep.filter(|&k| k + 1 < levels.len()).unwrap_or(0);
    Methodology {
        likelihood: scale(&m.probability),
        impact: scale(&m.impact),
        levels,
        matrix: m.grid.clone(),
        max_acceptable_level,
    }
}

fn owner_matches(param: usize) -> String {
    format!("COALESCE(org_id, 0) = COALESCE(${param}, 0)")
}

impl Store {
    /// Imports a parsed library for `tenant` in one transaction: nothing of it is stored
    /// when any part is refused. A library already installed is updated in place when the
    /// file's version is the same or newer, and refused (naming both versions) when older.
    #[allow(clippy::too_many_lines)]
    pub async fn import_library(
        &self,
        lib: &CisoLibrary,
        file: &str,
        replace: bool,
        tenant: Tenant,
        actor: &Actor,
    ) -> Result<LibraryReport> {
        let urn = if lib.urn.trim().is_empty() {
            format!("file:{file}")
        } else {
            lib.urn.clone()
        };
        let mut tx = self.begin().await?;
        let installed: Option<(i64, Option<i64>)> = on_tx!(&mut tx, |c| sqlx::query_as(&format!(
            "SELECT id, version FROM libraries WHERE urn = $1 AND {}",
            owner_matches(2)
        ))
        .bind(&urn)
        .bind(tenant.org_id())
        .fetch_optional(c)
        .await)?;
        if let Some((_, Some(have))) = installed
            && let Some(new) = lib.version
            && new < have
        {
            return Err(StoreError::Conflict(format!(
                "{file}: library {urn} version {new} is older than the installed version {have}: nothing was imported"
            )));
        }
        let mut warnings = lib.warnings.clone();
        warnings.extend(
            lib.unsupported
                .iter()
                .map(|u| format!("{file}: {}", u.reason)),
        );
        let mut detail = Vec::new();
        let mut framework = None;
        if let Some(tree) = &lib.framework {
            let existing = existing_framework(&mut tx, &tree.framework.id).await?;
            match existing {
                Some((_, true, ..)) => {
                    // The two libraries of ISO/IEC 27001 reuse our built-in ids: they are
                    // linked to the built-in framework, whose text stays as it is.
                    detail.push(format!(
                        "framework {} is built into isms: linked to it, its text kept",
                        tree.framework.id
                    ));
                }
                Some((_, _, _, owner, source, fw_urn, _))
                    if owner == tenant.org_id()
                        && !replace
                        && fw_urn.is_none()
                        && source != file =>
                {
                    return Err(StoreError::Conflict(format!(
                        "{file}: a framework with the id '{}' was imported from {source}: import this file under another id, or replace it on purpose",
                        tree.framework.id
                    )));
                }
                Some((_, _, _, owner, _, Some(fw_urn), _))
                    if owner == tenant.org_id()
                        && !replace
                        && lib.framework_urn.as_deref() != Some(fw_urn.as_str()) =>
                {
                    return Err(StoreError::Conflict(format!(
                        "{file}: the framework id '{}' is taken by {fw_urn}, another framework than {}: import this file under another id, or replace it on purpose",
                        tree.framework.id,
                        lib.framework_urn.as_deref().unwrap_or("this file's")
                    )));
                }
                _ => {
                    let meta = LibraryMeta {
                        library_urn: Some(urn.clone()),
                        library_version: lib.version,
                        framework_urn: lib.framework_urn.clone(),
                        translations: lib.framework_translations.clone(),
                        retire_removed: true,
                    };
                    let s = write_framework(
                        &mut tx,
                        tree,
                        file,
                        "ciso-assistant",
                        false,
                        tenant,
                        actor,
                        &meta,
                    )
                    .await?;
                    detail.push(if s.unchanged {
                        format!("framework {} unchanged", s.slug)
                    } else {
                        format!(
                            "framework {}: {} requirements ({} new, {} updated, {} removed and kept as retired)",
                            s.slug,
                            tree.nodes.len(),
                            s.inserted,
                            s.updated,
                            s.removed
                        )
                    });
                    framework = Some(s);
                }
            }
        }
        let mut mappings = 0;
        if !lib.mappings.is_empty() {
            let (kept, kept_urns) = known_ends(&mut tx, lib, tenant, file, &mut warnings).await?;
            mappings =
                write_mappings(&mut tx, &kept, Some(&kept_urns), file, tenant, actor).await?;
            detail.push(format!("{mappings} mappings"));
        }
        let at = now();
        // Matrices and threats of this library replace those of its earlier version.
        on_tx!(&mut tx, |c| sqlx::query(&format!(
            "DELETE FROM library_items WHERE library_urn = $1 AND {}",
            owner_matches(2)
        ))
        .bind(&urn)
        .bind(tenant.org_id())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        let tr =
            |t: Option<&serde_json::Value>| t.map(|t| serde_json::to_string(t).unwrap_or_default());
        let mut items: Vec<ItemRow<'_>> = Vec::new();
        for m in &lib.risk_matrices {
            items.push(ItemRow {
                kind: "risk_matrix",
                urn: &m.urn,
                ref_id: &m.ref_id,
                name: &m.name,
                description: &m.description,
                body: body_json(m),
                translations: tr(m.translations.as_ref()),
            });
        }
        for t in &lib.threats {
            items.push(ItemRow {
                kind: "threat",
                urn: &t.urn,
                ref_id: t.ref_id.as_deref().unwrap_or(""),
                name: &t.name,
                description: t.description.as_deref().unwrap_or(""),
                body: body_json(t),
                translations: tr(t.translations.as_ref()),
            });
        }
        for c in &lib.reference_controls {
            items.push(ItemRow {
                kind: "reference_control",
                urn: &c.urn,
                ref_id: c.ref_id.as_deref().unwrap_or(""),
                name: &c.name,
                description: c.description.as_deref().unwrap_or(""),
                body: body_json(c),
                translations: tr(c.translations.as_ref()),
            });
        }
        for m in &lib.metric_definitions {
            items.push(ItemRow {
                kind: "metric_definition",
                urn: &m.urn,
                ref_id: m.ref_id.as_deref().unwrap_or(""),
                name: &m.name,
                description: m.description.as_deref().unwrap_or(""),
                body: body_json(m),
                translations: tr(m.translations.as_ref()),
            });
        }
        write_items(&mut tx, tenant, &urn, &items, &at).await?;
        if !lib.risk_matrices.is_empty() {
            detail.push(format!(
                "{} risk matrices as methodology templates",
                lib.risk_matrices.len()
            ));
        }
        if !lib.threats.is_empty() {
            detail.push(format!(
                "{} threats into the threat library",
                lib.threats.len()
            ));
        }
        if !lib.reference_controls.is_empty() {
            detail.push(format!(
                "{} reference controls into the catalog of reference measures",
                lib.reference_controls.len()
            ));
        }
        if !lib.metric_definitions.is_empty() {
            detail.push(format!(
                "{} metric definitions as metric templates",
                lib.metric_definitions.len()
            ));
        }
        if let Some(p) = &lib.preset {
            detail.push(format!(
                "preset {} bundling {} libraries",
                p.name,
                p.libraries.len()
            ));
        }
        let content = json!({
            "framework": lib.framework.as_ref().map(|t| &t.framework.id),
            "mappings": mappings,
            "risk_matrices": lib.risk_matrices.len(),
            "threats": lib.threats.len(),
            "reference_controls": lib.reference_controls.len(),
            "metric_definitions": lib.metric_definitions.len(),
            "preset": lib.preset,
            "not_imported": lib.unsupported,
        });
        let translations = lib
            .translations
            .as_ref()
            .map(|t| serde_json::to_string(t).unwrap_or_default());
        let outcome = match installed {
            None => {
                on_tx!(&mut tx, |c| {
                    sqlx::query(
                    "INSERT INTO libraries (org_id, urn, name, version, source_file, translations_json, content_json, imported_at, updated_at, provider) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)"
                )
                .bind(tenant.org_id())
                .bind(&urn)
                .bind(&lib.name)
                .bind(lib.version)
                .bind(file)
                .bind(&translations)
                .bind(content.to_string())
                .bind(&at)
                .bind(lib.provider.as_deref().unwrap_or(""))
                .execute(c)
                .await
                .map(|r| r.rows_affected())
                })?;
                "imported"
            }
            Some((id, _)) => {
                on_tx!(&mut tx, |c| {
                    sqlx::query(
                    "UPDATE libraries SET name = $1, version = $2, source_file = $3, translations_json = $4, content_json = $5, updated_at = $6, provider = $8 WHERE id = $7"
                )
                .bind(&lib.name)
                .bind(lib.version)
                .bind(file)
                .bind(&translations)
                .bind(content.to_string())
                .bind(&at)
                .bind(id)
                .bind(lib.provider.as_deref().unwrap_or(""))
                .execute(c)
                .await
                .map(|r| r.rows_affected())
                })?;
                if framework.as_ref().is_some_and(|f| f.unchanged)
                    && lib.framework.is_some()
                    && mappings == 0
                    && lib.risk_matrices.is_empty()
                    && lib.threats.is_empty()
                    && lib.reference_controls.is_empty()
                    && lib.metric_definitions.is_empty()
                {
                    "unchanged"
                } else {
                    "updated"
                }
            }
        };
        let before = installed.map(|(_, v)| json!({ "version": v }));
        let change = Change {
            org_id: audit::SYSTEM_CHAIN,
            action: if installed.is_some() {
                "update"
            } else {
                "import"
            },
            entity_type: "library",
            entity_id: urn.clone(),
            before,
            after: Some(json!({ "version": lib.version, "file": file, "content": content })),
        };
        match tenant {
            Tenant::Org(org_id) => {
                audit::record(&mut tx, actor, Change { org_id, ..change }).await?;
            }
            Tenant::Installation => {
                audit::record_installation_change(&mut tx, actor, change).await?;
            }
        }
        tx.commit().await?;
        if detail.is_empty() {
            detail.push("nothing to import".into());
        }
        Ok(LibraryReport {
            file: file.to_owned(),
            library_urn: urn,
            outcome,
            detail: detail.join("; "),
            framework,
            mappings,
            risk_matrices: lib.risk_matrices.len(),
            threats: lib.threats.len(),
            reference_controls: lib.reference_controls.len(),
            metric_definitions: lib.metric_definitions.len(),
            preset_libraries: lib
                .preset
                .as_ref()
                .map(|p| p.libraries.clone())
                .unwrap_or_default(),
            warnings,
        })
    }

    /// The risk matrix templates a tenant sees: installation-wide ones and its own.
    pub async fn methodology_templates(&self, tenant: Tenant) -> Result<Vec<MethodologyTemplate>> {
        type Row = (i64, String, String, String, String, Option<i64>, String);
        let rows: Vec<Row> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, urn, name, description, library_urn, org_id, body_json FROM library_items \
                 WHERE kind = 'risk_matrix' AND ($1 IS NULL OR org_id IS NULL OR org_id = $1) ORDER BY name, id"
            )
            .bind(tenant.org_id())
            .fetch_all(p)
            .await
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, urn, name, description, library_urn, org_id, body)| {
                Some(MethodologyTemplate {
                    id,
                    urn,
                    name,
                    description,
                    library_urn,
                    org_id,
                    matrix: serde_json::from_str(&body).ok()?,
                })
            })
            .collect())
    }

    /// One template by id, if the tenant sees it.
    pub async fn methodology_template(
        &self,
        id: i64,
        tenant: Tenant,
    ) -> Result<Option<MethodologyTemplate>> {
        Ok(self
            .methodology_templates(tenant)
            .await?
            .into_iter()
            .find(|t| t.id == id))
    }

    /// The threats imported from threat catalogs that a tenant sees.
    pub async fn library_threats(&self, tenant: Tenant) -> Result<Vec<LibraryThreat>> {
        let rows: Vec<(i64, String, String, String, String, String)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, urn, ref_id, name, description, library_urn FROM library_items \
                 WHERE kind = 'threat' AND ($1 IS NULL OR org_id IS NULL OR org_id = $1) ORDER BY library_urn, id",
            )
            .bind(tenant.org_id())
            .fetch_all(p)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(id, urn, ref_id, name, description, library_urn)| LibraryThreat {
                    id,
                    urn,
                    ref_id,
                    name,
                    description,
                    library_urn,
                },
            )
            .collect())
    }

    /// The reference measures a tenant sees (installation-wide and its own), filtered by
    /// words of `query` in the ref id, name or description, at most `limit`.
    pub async fn reference_measures(
        &self,
        tenant: Tenant,
        query: &str,
        limit: usize,
    ) -> Result<Vec<ReferenceMeasure>> {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        let rows: Vec<(i64, String, String)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, library_urn, body_json FROM library_items \
                 WHERE kind = 'reference_control' AND ($1 IS NULL OR org_id IS NULL OR org_id = $1) ORDER BY library_urn, id",
            )
            .bind(tenant.org_id())
            .fetch_all(p)
            .await
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, library_urn, body)| {
                let c: ReferenceControl = serde_json::from_str(&body).ok()?;
                Some(measure(id, library_urn, c))
            })
            .filter(|m| {
                let hay = format!("{} {} {}", m.ref_id, m.name, m.description).to_lowercase();
                words.iter().all(|w| hay.contains(w))
            })
            .take(limit)
            .collect())
    }

    /// One reference measure by URN or id, if the tenant sees it (its own import first).
    pub async fn reference_measure(
        &self,
        tenant: Tenant,
        urn_or_id: &str,
    ) -> Result<Option<ReferenceMeasure>> {
        let row = item_by_urn_or_id(self, tenant, "reference_control", urn_or_id).await?;
        Ok(row.and_then(|(id, library_urn, body)| {
            let c: ReferenceControl = serde_json::from_str(&body).ok()?;
            Some(measure(id, library_urn, c))
        }))
    }

    /// The metric definitions of imported libraries a tenant sees.
    pub async fn metric_templates(&self, tenant: Tenant) -> Result<Vec<MetricTemplate>> {
        let rows: Vec<(i64, String, String)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, library_urn, body_json FROM library_items \
                 WHERE kind = 'metric_definition' AND ($1 IS NULL OR org_id IS NULL OR org_id = $1) ORDER BY name, id",
            )
            .bind(tenant.org_id())
            .fetch_all(p)
            .await
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, library_urn, body)| {
                Some(metric_template(
                    id,
                    library_urn,
                    serde_json::from_str(&body).ok()?,
                ))
            })
            .collect())
    }

    /// One metric definition by URN or id, if the tenant sees it.
    pub async fn metric_template(
        &self,
        tenant: Tenant,
        urn_or_id: &str,
    ) -> Result<Option<MetricTemplate>> {
        let row = item_by_urn_or_id(self, tenant, "metric_definition", urn_or_id).await?;
        Ok(row.and_then(|(id, library_urn, body)| {
            Some(metric_template(
                id,
                library_urn,
                serde_json::from_str(&body).ok()?,
            ))
        }))
    }

    /// The libraries a tenant sees, installation-wide and its own, by name.
    pub async fn installed_libraries(&self, tenant: Tenant) -> Result<Vec<InstalledLibrary>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, urn, name, version, provider, source_file, imported_at, updated_at, org_id, content_json FROM libraries \
                 WHERE $1 IS NULL OR org_id IS NULL OR org_id = $1 ORDER BY name, id",
            )
            .bind(tenant.org_id())
            .fetch_all(p)
            .await
        })?)
    }

    /// Enables for an organisation what an installed preset bundles, in one step, and says
    /// per item what happened: each bundled library installed or missing (import its file
    /// first), frameworks, threats and reference measures available, the first risk matrix
    /// applied as the risk methodology while the organisation still has the built-in one
    /// (kept otherwise), and a metric created from each metric definition that gives a unit
    /// and a target (skipped when its name is taken).
    pub async fn enable_preset(
        &self,
        org_id: i64,
        preset_urn: &str,
        actor: &Actor,
    ) -> Result<Vec<PresetItem>> {
        let tenant = Tenant::Org(org_id);
        let libs = self.installed_libraries(tenant).await?;
        let Some(preset) = libs.iter().find(|l| l.urn == preset_urn) else {
            return Err(StoreError::NotFound(format!(
                "no installed library {preset_urn}"
            )));
        };
        let content = preset.content();
        let Some(bundled) = content.get("preset").filter(|p| !p.is_null()) else {
            return Err(StoreError::Invalid(format!(
                "library {preset_urn} is not a preset"
            )));
        };
        let mut items = Vec::new();
        let mut found = vec![preset];
        for urn in bundled
            .get("libraries")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_str)
        {
            match libs.iter().find(|l| l.urn == urn) {
                Some(l) => {
                    items.push(PresetItem {
                        item: format!("library {urn}"),
                        outcome: "installed",
                        detail: format!(
                            "{}{}",
                            l.name,
                            l.version
                                .map(|v| format!(" version {v}"))
                                .unwrap_or_default()
                        ),
                    });
                    found.push(l);
                }
                None => items.push(PresetItem {
                    item: format!("library {urn}"),
                    outcome: "missing",
                    detail: "not installed: import its file, then enable the preset again".into(),
                }),
            }
        }
        let mut matrix_done = false;
        let metric_names: Vec<String> = self
            .metrics(org_id)
            .await?
            .into_iter()
            .map(|m| m.name.to_lowercase())
            .collect();
        let templates = self.methodology_templates(tenant).await?;
        let metric_defs = self.metric_templates(tenant).await?;
        let threats = self.library_threats(tenant).await?;
        let measures = self.reference_measures(tenant, "", usize::MAX).await?;
        for lib in found {
            let c = lib.content();
            if let Some(fw) = c.get("framework").and_then(serde_json::Value::as_str) {
                items.push(PresetItem {
                    item: format!("framework {fw}"),
                    outcome: "available",
                    detail: "listed on the Frameworks page, ready to link controls and assess"
                        .into(),
                });
            }
            for t in templates.iter().filter(|t| t.library_urn == lib.urn) {
                let item = format!("risk matrix {}", t.name);
                if matrix_done {
                    items.push(PresetItem {
                        item,
                        outcome: "available",
                        detail: "a methodology template on the risk methodology page".into(),
                    });
                    continue;
                }
                matrix_done = true;
                if self.risk_methodology_version(org_id).await? == 0 {
                    let m = methodology_from_matrix(&t.matrix, None);
                    self.change_risk_methodology(org_id, &m, 0, true, actor)
                        .await?;
                    items.push(PresetItem {
                        item,
                        outcome: "enabled",
                        detail: "now the organisation's risk methodology".into(),
                    });
                } else {
                    items.push(PresetItem {
                        item,
                        outcome: "kept",
                        detail: "the organisation has its own methodology already; apply this template from the risk methodology page if wanted".into(),
                    });
                }
            }
            let n = threats.iter().filter(|t| t.library_urn == lib.urn).count();
            if n > 0 {
                items.push(PresetItem {
                    item: format!("{n} threats"),
                    outcome: "available",
                    detail: "offered in the threat library of the risk form".into(),
                });
            }
            let n = measures.iter().filter(|m| m.library_urn == lib.urn).count();
            if n > 0 {
                items.push(PresetItem {
                    item: format!("{n} reference controls"),
                    outcome: "available",
                    detail:
                        "in the catalog of reference measures: create applied controls from them"
                            .into(),
                });
            }
            for d in metric_defs.iter().filter(|d| d.library_urn == lib.urn) {
                let item = format!("metric {}", d.name);
                if metric_names.contains(&d.name.to_lowercase()) {
                    items.push(PresetItem {
                        item,
                        outcome: "skipped",
                        detail: "a metric with this name exists already".into(),
                    });
                    continue;
                }
                if d.unit.is_empty() || d.target.is_none() {
                    items.push(PresetItem {
                        item,
                        outcome: "available",
                        detail: "the definition gives no unit or target: create the metric from it with yours".into(),
                    });
                    continue;
                }
                self.create_metric(
                    org_id,
                    &crate::MetricInput {
                        metric_definition: Some(d.urn.clone()),
                        ..crate::MetricInput::default()
                    },
                    actor,
                )
                .await?;
                items.push(PresetItem {
                    item,
                    outcome: "created",
                    detail: format!("measured in {}", d.unit),
                });
            }
        }
        let mut tx = self.begin().await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "enable",
                entity_type: "library_preset",
                entity_id: preset_urn.to_owned(),
                before: None,
                after: Some(json!({ "items": items })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(items)
    }

    /// The installed library's version, if the tenant has it.
    pub async fn library_version(&self, urn: &str, tenant: Tenant) -> Result<Option<i64>> {
        let row: Option<(Option<i64>,)> = on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT version FROM libraries WHERE urn = $1 AND {}",
            owner_matches(2)
        ))
        .bind(urn)
        .bind(tenant.org_id())
        .fetch_optional(p)
        .await)?;
        Ok(row.and_then(|(v,)| v))
    }
}

fn measure(id: i64, library_urn: String, c: ReferenceControl) -> ReferenceMeasure {
    ReferenceMeasure {
        id,
        urn: c.urn,
        ref_id: c.ref_id.unwrap_or_default(),
        name: c.name,
        description: c.description.unwrap_or_default(),
        category: c.category,
        csf_function: c.csf_function,
        library_urn,
    }
}

fn metric_template(id: i64, library_urn: String, m: MetricDef) -> MetricTemplate {
    MetricTemplate {
        id,
        urn: m.urn,
        ref_id: m.ref_id.unwrap_or_default(),
        name: m.name,
        description: m.description.unwrap_or_default(),
        unit: m.unit,
        direction: m.direction,
        target: m.target,
        frequency: m.frequency,
        category: m.category,
        library_urn,
    }
}

/// A library item of `kind` by URN, or by id when the text is a number; the tenant's own
/// import wins over an installation-wide one with the same URN.
async fn item_by_urn_or_id(
    store: &Store,
    tenant: Tenant,
    kind: &str,
    urn_or_id: &str,
) -> Result<Option<(i64, String, String)>> {
    let key = urn_or_id.trim();
    let id = key.parse::<i64>().ok();
    Ok(on_pool!(store, |p| {
        sqlx::query_as(
            "SELECT id, library_urn, body_json FROM library_items \
             WHERE kind = $1 AND ($2 IS NULL OR org_id IS NULL OR org_id = $2) AND (urn = $3 OR id = $4) \
             ORDER BY org_id IS NULL, id LIMIT 1",
        )
        .bind(kind)
        .bind(tenant.org_id())
        .bind(key)
        .bind(id)
        .fetch_optional(p)
        .await
    })?)
}

/// The mappings whose ends can be found: an end naming a URN of an installed framework that
/// identifies its requirements by URN, where no requirement carries that URN, is reported
/// and left out (the rest imports: one stale link should not cost the good ones). Ends in
/// frameworks not installed yet are kept; they resolve by URN once the framework arrives.
async fn known_ends(
    tx: &mut crate::Tx,
    lib: &CisoLibrary,
    tenant: Tenant,
    file: &str,
    warnings: &mut Vec<String>,
) -> Result<(Vec<isms_catalog::Mapping>, Vec<(String, String)>)> {
    use std::collections::{HashMap, HashSet};
    let mut keys_of: HashMap<&str, Option<HashSet<String>>> = HashMap::new();
    for m in &lib.mappings {
        for fw in [m.source_framework.as_str(), m.target_framework.as_str()] {
            if keys_of.contains_key(fw) {
                continue;
            }
            let keys: Vec<(String,)> = on_tx!(tx, |c| {
                sqlx::query_as(
                "SELECT r.node_key FROM requirements r JOIN frameworks f ON f.id = r.framework_id \
                 WHERE f.slug = $1 AND ($2 IS NULL OR f.org_id IS NULL OR f.org_id = $2) AND r.node_key <> r.ref_id"
            )
            .bind(fw)
            .bind(tenant.org_id())
            .fetch_all(c)
            .await
            })?;
            keys_of.insert(
                fw,
                (!keys.is_empty()).then(|| keys.into_iter().map(|(k,)| k).collect()),
            );
        }
    }
    let mut kept = Vec::with_capacity(lib.mappings.len());
    let mut kept_urns = Vec::with_capacity(lib.mappings.len());
    let mut left_out = 0usize;
    for (m, urns) in lib.mappings.iter().zip(&lib.mapping_urns) {
        let unknown = [
            (m.source_framework.as_str(), urns.0.as_str()),
            (m.target_framework.as_str(), urns.1.as_str()),
        ]
        .into_iter()
        .find(|(fw, urn)| {
            keys_of
                .get(fw)
                .and_then(Option::as_ref)
                .is_some_and(|keys| !keys.contains(*urn))
        });
        if let Some((fw, urn)) = unknown {
            left_out += 1;
            if left_out <= 20 {
                warnings.push(format!(
                    "{file}: {urn:?} is not a requirement of the installed framework {fw}; the mapping was left out"
                ));
            }
            continue;
        }
        kept.push(m.clone());
        kept_urns.push(urns.clone());
    }
    if left_out > 20 {
        warnings.push(format!(
            "{file}: {} more mappings to unknown requirements were left out",
            left_out - 20
        ));
    }
    Ok((kept, kept_urns))
}

/// Rows per multi-row statement of `library_items` (10 parameters each).
const ITEM_CHUNK: usize = 400;

/// Writes a library's items in a few multi-row statements: another library of the same owner
/// may have brought the same object (same kind and URN), and the newest wins.
async fn write_items(
    tx: &mut crate::Tx,
    tenant: Tenant,
    library_urn: &str,
    items: &[ItemRow<'_>],
    at: &str,
) -> Result<()> {
    use std::fmt::Write as _;
    // One row per (kind, URN): a repeat within the file replaces the earlier one.
    let mut last = std::collections::HashMap::new();
    for (i, it) in items.iter().enumerate() {
        last.insert((it.kind, it.urn), i);
    }
    let items: Vec<&ItemRow<'_>> = items
        .iter()
        .enumerate()
        .filter(|(i, it)| last.get(&(it.kind, it.urn)) == Some(i))
        .map(|(_, it)| it)
        .collect();
    for kind in [
        "risk_matrix",
        "threat",
        "reference_control",
        "metric_definition",
    ] {
        let urns: Vec<&str> = items
            .iter()
            .filter(|i| i.kind == kind)
            .map(|i| i.urn)
            .collect();
        for chunk in urns.chunks(ITEM_CHUNK) {
            let mut sql = format!(
                "DELETE FROM library_items WHERE kind = {} AND COALESCE(org_id, 0) = COALESCE({}, 0) AND urn IN (",
                tx.placeholder(1),
                tx.placeholder(2)
            );
            for i in 0..chunk.len() {
                let _ = write!(
                    sql,
                    "{}{}",
                    if i > 0 { ", " } else { "" },
                    tx.placeholder(i + 3)
                );
            }
            sql.push(')');
            on_tx!(tx, |c| {
                let mut q = sqlx::query(&sql).bind(kind).bind(tenant.org_id());
                for u in chunk {
                    q = q.bind(*u);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
    }
    for chunk in items.chunks(ITEM_CHUNK) {
        let mut sql = String::from(
            "INSERT INTO library_items (org_id, library_urn, kind, urn, ref_id, name, description, body_json, translations_json, imported_at) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 10;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for k in 1..=10 {
                let _ = write!(
                    sql,
                    "{}{}",
                    if k > 1 { ", " } else { "" },
                    tx.placeholder(b + k)
                );
            }
            sql.push(')');
        }
        on_tx!(tx, |c| {
            let mut q = sqlx::query(&sql);
            for it in chunk {
                q = q
                    .bind(tenant.org_id())
                    .bind(library_urn)
                    .bind(it.kind)
                    .bind(it.urn)
                    .bind(it.ref_id)
                    .bind(it.name)
                    .bind(it.description)
                    .bind(&it.body)
                    .bind(&it.translations)
                    .bind(at);
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// An object kept as JSON text.
fn body_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
