//! Frameworks (trees of requirements) and imported mappings. Built-in
//! frameworks are seeded from the binary; built-in mappings are served from
//! the binary and merged with imported ones.
//!
//! Ownership: what the operator installs (built in, or `isms framework
//! import` at the CLI) belongs to the whole installation; what a member
//! imports on the web or the API belongs to their organisation, which alone
//! sees it and can change it. Every read and write names its [`Tenant`].

use std::collections::HashMap;

use isms_catalog::{FrameworkTree, Mapping, MappingSet};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::{self, Actor, Change, Via};
use crate::{Result, Store, StoreError, now, on_pool, on_tx};

/// Whose frameworks and mappings a call reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenant {
    /// The operator at the CLI: sees everything, installs for everyone.
    Installation,
    /// A member of this organisation: sees installation-wide content and the
    /// organisation's own imports, and imports only for the organisation.
    Org(i64),
}

impl Tenant {
    fn org_id(self) -> Option<i64> {
        match self {
            Tenant::Installation => None,
            Tenant::Org(id) => Some(id),
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FrameworkRow {
    pub id: i64,
    /// The organisation that imported it; `None` for installation-wide frameworks.
    pub org_id: Option<i64>,
    pub slug: String,
    pub name: String,
    pub version: String,
    pub publisher: String,
    pub licence_note: String,
    pub builtin: bool,
    pub source_file: String,
    pub source_format: String,
    pub imported_at: String,
    pub requirement_count: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RequirementRow {
    pub id: i64,
    pub framework_id: i64,
    pub framework_slug: String,
    pub ref_id: String,
    pub parent_ref_id: Option<String>,
    pub kind: String,
    pub title: String,
    pub description: Option<String>,
    pub discussion: Option<String>,
    #[serde(skip)]
    pub guidance_json: Option<String>,
    pub control_id: Option<String>,
    pub withdrawn: bool,
    pub position: i64,
    pub depth: i64,
}

impl RequirementRow {
    pub fn guidance(&self) -> Option<isms_catalog::Guidance> {
        self.guidance_json
            .as_deref()
            .and_then(|g| serde_json::from_str(g).ok())
    }
}

/// A link from one requirement to another framework's requirement, with the
/// stored requirement's id when that framework is installed.
#[derive(Debug, Clone, Serialize)]
pub struct MappedRequirement {
    pub framework: String,
    pub ref_id: String,
    /// `equal`, `subset_of`, ... as seen from the requirement asked about.
    pub relationship: String,
    pub note: Option<String>,
    /// Derived by composing mappings: the chain it went through. Never official.
    pub derived_path: Option<Vec<String>>,
    /// `builtin` or the file it was imported from.
    pub origin: String,
    pub requirement_id: Option<i64>,
    pub title: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub framework_id: i64,
    pub slug: String,
    pub inserted: usize,
    pub updated: usize,
    pub removed: usize,
    pub unchanged: bool,
}

const FRAMEWORK_COLS: &str = "f.id, f.org_id, f.slug, f.name, f.version, f.publisher, f.licence_note, f.builtin, \
     f.source_file, f.source_format, f.imported_at, \
     (SELECT COUNT(*) FROM requirements r WHERE r.framework_id = f.id) AS requirement_count";
/// The frameworks a tenant sees (`$n` bound to [`Tenant::org_id`]): all for
/// the installation, installation-wide ones and its own for an organisation.
fn visible(param: usize) -> String {
    format!("(${param} IS NULL OR f.org_id IS NULL OR f.org_id = ${param})")
}

const REQ_COLS: &str = "r.id, r.framework_id, f.slug AS framework_slug, r.ref_id, r.parent_ref_id, r.kind, r.title, \
     r.description, r.discussion, r.guidance_json, r.control_id, r.withdrawn, r.position, r.depth";

fn content_hash(tree: &FrameworkTree) -> String {
    let bytes = serde_json::to_vec(&(&tree.framework, &tree.nodes)).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}

impl Store {
    /// Installs or refreshes the frameworks built into the binary (ISO/IEC
    /// 27001:2022 and 2013). Cheap when they are current.
    pub async fn seed_builtin_frameworks(&self) -> Result<()> {
        let actor = Actor {
            user_id: None,
            label: "isms (built-in content)".into(),
            via: Via::System,
        };
        for tree in isms_catalog::builtin_frameworks() {
            self.store_framework(
                tree,
                "built in",
                "builtin",
                true,
                Tenant::Installation,
                &actor,
            )
            .await?;
        }
        Ok(())
    }

    /// Imports a framework, replacing an earlier import with the same id
    /// (requirements keep their ids by ref id). All or nothing.
    ///
    /// A framework with the same id imported from another file is only
    /// replaced when `replace` is set, so an import never silently swaps one
    /// source for another.
    ///
    /// `tenant` owns the import; it is logged in that organisation's chain,
    /// or in the installation's for what the operator installs.
    pub async fn import_framework(
        &self,
        tree: &FrameworkTree,
        source_file: &str,
        source_format: &str,
        replace: bool,
        tenant: Tenant,
        actor: &Actor,
    ) -> Result<ImportSummary> {
        if !replace
            && let Some(existing) = self
                .framework(&tree.framework.id, Tenant::Installation)
                .await?
            && !existing.builtin
            && existing.org_id == tenant.org_id()
            && existing.source_file != source_file
        {
            return Err(StoreError::Conflict(format!(
                "a framework with the id '{}' was imported from {}: import this file under another id, or replace it on purpose",
                existing.slug, existing.source_file
            )));
        }
        self.store_framework(tree, source_file, source_format, false, tenant, actor)
            .await
    }

    async fn store_framework(
        &self,
        tree: &FrameworkTree,
        source_file: &str,
        source_format: &str,
        builtin: bool,
        tenant: Tenant,
        actor: &Actor,
    ) -> Result<ImportSummary> {
        let fw = &tree.framework;
        let hash = content_hash(tree);
        let mut tx = self.begin().await?;
        let existing: Option<(i64, bool, String, Option<i64>)> =
            on_tx!(&mut tx, |c| sqlx::query_as(
                "SELECT id, builtin, content_hash, org_id FROM frameworks WHERE slug = $1"
            )
            .bind(&fw.id)
            .fetch_optional(c)
            .await)?;
        if let Some((_, true, _, _)) = existing
            && !builtin
        {
            return Err(StoreError::Conflict(format!(
                "the framework id '{}' belongs to a framework built into isms: give the import another id",
                fw.id
            )));
        }
        if let Some((_, _, _, owner)) = existing
            && owner != tenant.org_id()
        {
            // Another owner's framework is never touched; the message does
            // not say whose it is.
            return Err(StoreError::Conflict(match tenant {
                Tenant::Org(_) => format!(
                    "the framework id '{}' is already in use in this installation: give the import another id",
                    fw.id
                ),
                Tenant::Installation => format!(
                    "the framework id '{}' belongs to organisation {} (imported there): give the installation-wide import another id",
                    fw.id,
                    owner.unwrap_or_default()
                ),
            }));
        }
        if let Some((id, _, old_hash, _)) = &existing
            && *old_hash == hash
        {
            return Ok(ImportSummary {
                framework_id: *id,
                slug: fw.id.clone(),
                inserted: 0,
                updated: 0,
                removed: 0,
                unchanged: true,
            });
        }
        let at = now();
        let framework_id = if let Some((id, _, _, _)) = &existing {
            on_tx!(&mut tx, |c| {
                sqlx::query(
                "UPDATE frameworks SET name = $1, version = $2, publisher = $3, licence_note = $4, \
                 source_file = $5, source_format = $6, content_hash = $7, imported_at = $8 WHERE id = $9"
            )
            .bind(&fw.name)
            .bind(&fw.version)
            .bind(&fw.publisher)
            .bind(&fw.licence_note)
            .bind(source_file)
            .bind(source_format)
            .bind(&hash)
            .bind(&at)
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
            })?;
            *id
        } else {
            let (id,): (i64,) = on_tx!(&mut tx, |c| {
                sqlx::query_as(
                "INSERT INTO frameworks (slug, name, version, publisher, licence_note, builtin, source_file, source_format, content_hash, imported_at, org_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id"
            )
            .bind(&fw.id)
            .bind(&fw.name)
            .bind(&fw.version)
            .bind(&fw.publisher)
            .bind(&fw.licence_note)
            .bind(builtin)
            .bind(source_file)
            .bind(source_format)
            .bind(&hash)
            .bind(&at)
            .bind(tenant.org_id())
            .fetch_one(c)
            .await
            })?;
            id
        };
        let old: Vec<(i64, String)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT id, ref_id FROM requirements WHERE framework_id = $1"
        )
        .bind(framework_id)
        .fetch_all(c)
        .await)?;
        let mut old: HashMap<String, i64> = old.into_iter().map(|(id, r)| (r, id)).collect();
        let depths = tree.depths();
        let (mut inserted, mut updated) = (0, 0);
        for (position, (node, depth)) in tree.nodes.iter().zip(depths).enumerate() {
            let guidance = node
                .guidance
                .as_ref()
                .map(|g| serde_json::to_string(g).unwrap_or_default());
            let sql = if old.remove(&node.ref_id).is_some() {
                updated += 1;
                "UPDATE requirements SET parent_ref_id = $3, kind = $4, title = $5, description = $6, discussion = $7, \
                 guidance_json = $8, control_id = $9, withdrawn = $10, position = $11, depth = $12 \
                 WHERE framework_id = $1 AND ref_id = $2"
            } else {
                inserted += 1;
                "INSERT INTO requirements (framework_id, ref_id, parent_ref_id, kind, title, description, discussion, \
                 guidance_json, control_id, withdrawn, position, depth) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            };
            on_tx!(&mut tx, |c| sqlx::query(sql)
                .bind(framework_id)
                .bind(&node.ref_id)
                .bind(&node.parent_ref_id)
                .bind(node.kind.as_str())
                .bind(&node.title)
                .bind(&node.description)
                .bind(&node.discussion)
                .bind(&guidance)
                .bind(&node.control_id)
                .bind(node.withdrawn)
                .bind(position as i64)
                .bind(depth as i64)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
        let removed = old.len();
        for id in old.into_values() {
            on_tx!(&mut tx, |c| sqlx::query(
                "DELETE FROM requirements WHERE id = $1"
            )
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        }
        record_import(
            &mut tx,
            tenant,
            actor,
            Change {
                org_id: audit::SYSTEM_CHAIN,
                action: if existing.is_some() { "reimport" } else { "import" },
                entity_type: "framework",
                entity_id: fw.id.clone(),
                before: None,
                after: Some(json!({
                    "name": fw.name, "version": fw.version, "source_file": source_file,
                    "format": source_format, "inserted": inserted, "updated": updated, "removed": removed,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(ImportSummary {
            framework_id,
            slug: fw.id.clone(),
            inserted,
            updated,
            removed,
            unchanged: false,
        })
    }

    pub async fn frameworks(&self, tenant: Tenant) -> Result<Vec<FrameworkRow>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, FrameworkRow>(
            &format!(
                "SELECT {FRAMEWORK_COLS} FROM frameworks f WHERE {} \
                 ORDER BY f.builtin DESC, f.org_id IS NOT NULL, f.name, f.id",
                visible(1)
            )
        )
        .bind(tenant.org_id())
        .fetch_all(p)
        .await)?)
    }

    /// A framework by numeric id or by its slug (e.g. `iso27001-2022`).
    pub async fn framework(
        &self,
        id_or_slug: &str,
        tenant: Tenant,
    ) -> Result<Option<FrameworkRow>> {
        let id = id_or_slug.parse::<i64>().unwrap_or(-1);
        Ok(on_pool!(self, |p| sqlx::query_as::<_, FrameworkRow>(
            &format!(
                "SELECT {FRAMEWORK_COLS} FROM frameworks f WHERE (f.id = $1 OR f.slug = $2) AND {}",
                visible(3)
            )
        )
        .bind(id)
        .bind(id_or_slug)
        .bind(tenant.org_id())
        .fetch_optional(p)
        .await)?)
    }

    /// A framework's requirements in tree (pre-)order; with `query`, only
    /// those whose ref id, title or text contains it (case-insensitive).
    pub async fn requirements(
        &self,
        framework_id: i64,
        query: Option<&str>,
    ) -> Result<Vec<RequirementRow>> {
        let pattern = query.map(str::trim).filter(|q| !q.is_empty()).map(|q| {
            format!(
                "%{}%",
                q.to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            )
        });
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, RequirementRow>(&format!(
            "SELECT {REQ_COLS} FROM requirements r JOIN frameworks f ON f.id = r.framework_id \
             WHERE r.framework_id = $1 AND ($2 IS NULL OR lower(r.ref_id) LIKE $2 ESCAPE '\\' \
               OR lower(r.title) LIKE $2 ESCAPE '\\' OR lower(coalesce(r.description, '')) LIKE $2 ESCAPE '\\' \
               OR lower(coalesce(r.control_id, '')) LIKE $2 ESCAPE '\\') \
             ORDER BY r.position"
        ))
        .bind(framework_id)
        .bind(pattern)
        .fetch_all(p)
        .await
        })?)
    }

    /// The direct children of a requirement, in order.
    pub async fn requirement_children(
        &self,
        framework_id: i64,
        parent_ref_id: &str,
    ) -> Result<Vec<RequirementRow>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, RequirementRow>(
            &format!(
                "SELECT {REQ_COLS} FROM requirements r JOIN frameworks f ON f.id = r.framework_id \
             WHERE r.framework_id = $1 AND r.parent_ref_id = $2 ORDER BY r.position"
            )
        )
        .bind(framework_id)
        .bind(parent_ref_id)
        .fetch_all(p)
        .await)?)
    }

    pub async fn requirement(&self, id: i64, tenant: Tenant) -> Result<Option<RequirementRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, RequirementRow>(&format!(
            "SELECT {REQ_COLS} FROM requirements r JOIN frameworks f ON f.id = r.framework_id WHERE r.id = $1 AND {}",
            visible(2)
        ))
        .bind(id)
        .bind(tenant.org_id())
        .fetch_optional(p)
        .await
        })?)
    }

    /// A requirement by framework slug and ref id; for ISO 27001:2022 a bare
    /// Annex A control id (`5.1`) is not a ref id (that is clause 5.1).
    pub async fn requirement_by_ref(
        &self,
        framework: &str,
        ref_id: &str,
        tenant: Tenant,
    ) -> Result<Option<RequirementRow>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, RequirementRow>(
            &format!(
                "SELECT {REQ_COLS} FROM requirements r JOIN frameworks f ON f.id = r.framework_id \
             WHERE f.slug = $1 AND r.ref_id = $2 AND {}",
                visible(3)
            )
        )
        .bind(framework)
        .bind(ref_id)
        .bind(tenant.org_id())
        .fetch_optional(p)
        .await)?)
    }

    /// Imports mappings from a file, replacing those the same owner imported
    /// from a file of the same name. All or nothing.
    pub async fn import_mappings(
        &self,
        mappings: &[Mapping],
        origin: &str,
        tenant: Tenant,
        actor: &Actor,
    ) -> Result<usize> {
        if mappings.is_empty() {
            return Err(StoreError::Invalid(format!(
                "{origin}: the file holds no mappings"
            )));
        }
        let mut tx = self.begin().await?;
        let replaced = on_tx!(&mut tx, |c| sqlx::query(
            "DELETE FROM mappings WHERE origin = $1 AND COALESCE(org_id, 0) = COALESCE($2, 0)"
        )
        .bind(origin)
        .bind(tenant.org_id())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        let at = now();
        let mut stored = 0;
        for m in mappings {
            let n = on_tx!(&mut tx, |c| {
                sqlx::query(
                "INSERT INTO mappings (source_framework, source_ref, target_framework, target_ref, relationship, note, origin, imported_at, org_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING"
            )
            .bind(&m.source_framework)
            .bind(&m.source_ref)
            .bind(&m.target_framework)
            .bind(&m.target_ref)
            .bind(m.relationship.as_str())
            .bind(m.note.as_deref().unwrap_or(""))
            .bind(origin)
            .bind(&at)
            .bind(tenant.org_id())
            .execute(c)
            .await
            .map(|r| r.rows_affected())
            })?;
            stored += n as usize;
        }
        record_import(
            &mut tx,
            tenant,
            actor,
            Change {
                org_id: audit::SYSTEM_CHAIN,
                action: if replaced > 0 { "reimport" } else { "import" },
                entity_type: "mapping_set",
                entity_id: origin.to_owned(),
                before: (replaced > 0).then(|| json!({"mappings": replaced})),
                after: Some(json!({"mappings": stored})),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Everything mapped to a requirement, in both directions: the built-in
    /// mappings and the imported ones, each with the linked requirement's id
    /// when its framework is installed. Official links come before derived ones.
    pub async fn mapped_requirements(
        &self,
        framework: &str,
        ref_id: &str,
        tenant: Tenant,
    ) -> Result<Vec<MappedRequirement>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            source_framework: String,
            source_ref: String,
            target_framework: String,
            target_ref: String,
            relationship: String,
            note: String,
            origin: String,
        }
        let rows = on_pool!(self, |p| {
            sqlx::query_as::<_, Row>(
            "SELECT source_framework, source_ref, target_framework, target_ref, relationship, note, origin FROM mappings \
             WHERE ((source_framework = $1 AND source_ref = $2) OR (target_framework = $1 AND target_ref = $2)) \
               AND ($3 IS NULL OR org_id IS NULL OR org_id = $3) ORDER BY id"
        )
        .bind(framework)
        .bind(ref_id)
        .bind(tenant.org_id())
        .fetch_all(p)
        .await
        })?;
        let mut origins = HashMap::new();
        let imported: Vec<Mapping> = rows
            .into_iter()
            .filter_map(|r| {
                let m = Mapping {
                    source_framework: r.source_framework,
                    source_ref: r.source_ref,
                    target_framework: r.target_framework,
                    target_ref: r.target_ref,
                    relationship: isms_catalog::Relationship::parse(&r.relationship)?,
                    note: Some(r.note).filter(|n| !n.is_empty()),
                    derived_path: None,
                };
                origins.insert(
                    (
                        m.source_framework.clone(),
                        m.source_ref.clone(),
                        m.target_framework.clone(),
                        m.target_ref.clone(),
                    ),
                    r.origin,
                );
                Some(m)
            })
            .collect();
        let imported = MappingSet::new(imported);
        let mut out: Vec<MappedRequirement> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let builtin = isms_catalog::builtin_mappings().links_of(framework, ref_id, None);
        let from_files = imported.links_of(framework, ref_id, None);
        for (link, is_builtin) in builtin
            .iter()
            .map(|l| (l, true))
            .chain(from_files.iter().map(|l| (l, false)))
        {
            if !seen.insert((
                link.framework.to_owned(),
                link.ref_id.to_owned(),
                link.derived_path.is_some(),
            )) {
                continue;
            }
            let origin = if is_builtin {
                "builtin".to_owned()
            } else {
                let key = if link.forward {
                    (
                        framework.to_owned(),
                        ref_id.to_owned(),
                        link.framework.to_owned(),
                        link.ref_id.to_owned(),
                    )
                } else {
                    (
                        link.framework.to_owned(),
                        link.ref_id.to_owned(),
                        framework.to_owned(),
                        ref_id.to_owned(),
                    )
                };
                origins.get(&key).cloned().unwrap_or_default()
            };
            out.push(MappedRequirement {
                framework: link.framework.to_owned(),
                ref_id: link.ref_id.to_owned(),
                relationship: link.relationship.as_str().to_owned(),
                note: link.note.map(str::to_owned),
                derived_path: link.derived_path.map(<[String]>::to_vec),
                origin,
                requirement_id: None,
                title: None,
            });
        }
        out.sort_by_key(|m| m.derived_path.is_some());
        for m in &mut out {
            if let Some(r) = self
                .requirement_by_ref(&m.framework, &m.ref_id, tenant)
                .await?
            {
                m.requirement_id = Some(r.id);
                m.title = Some(r.title);
            }
        }
        Ok(out)
    }

    /// How many mappings a tenant sees that were imported from files.
    pub async fn count_imported_mappings(&self, tenant: Tenant) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM mappings WHERE $1 IS NULL OR org_id IS NULL OR org_id = $1"
        )
        .bind(tenant.org_id())
        .fetch_one(p)
        .await)?;
        Ok(n)
    }
}

/// An import is logged where it belongs: in the importing organisation's
/// chain, or in the installation's chain for what the operator installs.
async fn record_import(
    tx: &mut crate::Tx,
    tenant: Tenant,
    actor: &Actor,
    mut change: Change<'_>,
) -> Result<()> {
    match tenant {
        Tenant::Org(org_id) => {
            change.org_id = org_id;
            audit::record(tx, actor, change).await
        }
        Tenant::Installation => audit::record_installation_change(tx, actor, change).await,
    }
}
