//! Libraries (CISO Assistant's layout): one file holds a framework, mapping sets, risk
//! matrices, threats. A library is imported whole, in one transaction, or not at all; its
//! version decides whether a file updates the installed library in place or is refused.
//!
//! Where things go: the framework and its mappings into the framework tables (requirements
//! matched by URN, removed ones retired), risk matrices as methodology templates and threats
//! into the threat library of the risk module (`library_items`), the library itself into
//! `libraries` with its version and translations.

use isms_catalog::{CisoLibrary, RiskMatrixDef, ThreatDef};
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
        for m in &lib.risk_matrices {
            write_item(
                &mut tx,
                tenant,
                &urn,
                "risk_matrix",
                &m.urn,
                &m.ref_id,
                &m.name,
                &m.description,
                &serde_json::to_string(m).unwrap_or_default(),
                m.translations.as_ref(),
                &at,
            )
            .await?;
        }
        for t in &lib.threats {
            write_threat(&mut tx, tenant, &urn, t, &at).await?;
        }
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
        let content = json!({
            "framework": lib.framework.as_ref().map(|t| &t.framework.id),
            "mappings": mappings,
            "risk_matrices": lib.risk_matrices.len(),
            "threats": lib.threats.len(),
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
                    "INSERT INTO libraries (org_id, urn, name, version, source_file, translations_json, content_json, imported_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)"
                )
                .bind(tenant.org_id())
                .bind(&urn)
                .bind(&lib.name)
                .bind(lib.version)
                .bind(file)
                .bind(&translations)
                .bind(content.to_string())
                .bind(&at)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
                })?;
                "imported"
            }
            Some((id, _)) => {
                on_tx!(&mut tx, |c| {
                    sqlx::query(
                    "UPDATE libraries SET name = $1, version = $2, source_file = $3, translations_json = $4, content_json = $5, updated_at = $6 WHERE id = $7"
                )
                .bind(&lib.name)
                .bind(lib.version)
                .bind(file)
                .bind(&translations)
                .bind(content.to_string())
                .bind(&at)
                .bind(id)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
                })?;
                if framework.as_ref().is_some_and(|f| f.unchanged)
                    && lib.framework.is_some()
                    && mappings == 0
                    && lib.risk_matrices.is_empty()
                    && lib.threats.is_empty()
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

#[allow(clippy::too_many_arguments)]
async fn write_item(
    tx: &mut crate::Tx,
    tenant: Tenant,
    library_urn: &str,
    kind: &str,
    urn: &str,
    ref_id: &str,
    name: &str,
    description: &str,
    body: &str,
    translations: Option<&serde_json::Value>,
    at: &str,
) -> Result<()> {
    let translations = translations.map(|t| serde_json::to_string(t).unwrap_or_default());
    // Another library of the same owner may have brought the same object: the newest wins.
    on_tx!(tx, |c| sqlx::query(&format!(
        "DELETE FROM library_items WHERE kind = $1 AND urn = $2 AND {}",
        owner_matches(3)
    ))
    .bind(kind)
    .bind(urn)
    .bind(tenant.org_id())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO library_items (org_id, library_urn, kind, urn, ref_id, name, description, body_json, translations_json, imported_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    )
    .bind(tenant.org_id())
    .bind(library_urn)
    .bind(kind)
    .bind(urn)
    .bind(ref_id)
    .bind(name)
    .bind(description)
    .bind(body)
    .bind(&translations)
    .bind(at)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

async fn write_threat(
    tx: &mut crate::Tx,
    tenant: Tenant,
    library_urn: &str,
    t: &ThreatDef,
    at: &str,
) -> Result<()> {
    write_item(
        tx,
        tenant,
        library_urn,
        "threat",
        &t.urn,
        t.ref_id.as_deref().unwrap_or(""),
        &t.name,
        t.description.as_deref().unwrap_or(""),
        &serde_json::to_string(t).unwrap_or_default(),
        t.translations.as_ref(),
        at,
    )
    .await
}
