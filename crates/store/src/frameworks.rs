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
    pub(crate) fn org_id(self) -> Option<i64> {
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
    /// The library it came from and its version (CISO Assistant libraries).
    pub library_urn: Option<String>,
    pub library_version: Option<i64>,
    pub framework_urn: Option<String>,
    #[serde(skip)]
    pub translations_json: Option<String>,
}

impl FrameworkRow {
    /// The framework's name and description in other languages.
    pub fn translations(&self) -> Option<serde_json::Value> {
        self.translations_json
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
    }
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
    /// The stable identity within the framework: the source's URN, or the ref id.
    pub node_key: String,
    pub parent_key: Option<String>,
    /// The label shown: the ref id, or with its parent path where the ref id repeats ("3.3 › 3").
    pub display_ref: String,
    /// A newer version of the library no longer has it; kept so links to it still resolve.
    pub retired: bool,
    #[serde(skip)]
    pub translations_json: Option<String>,
}

impl RequirementRow {
    /// The requirement's name and description in other languages.
    pub fn translations(&self) -> Option<serde_json::Value> {
        self.translations_json
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
    }

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

/// Where a framework came from, when a library brought it.
#[derive(Debug, Clone, Default)]
pub struct LibraryMeta {
    pub library_urn: Option<String>,
    pub library_version: Option<i64>,
    pub framework_urn: Option<String>,
    pub translations: Option<serde_json::Value>,
    /// Nodes the new content lacks are marked retired instead of being deleted.
    pub retire_removed: bool,
}

/// How a reference given by a person (`A.5.1`, `3.3 › 3`, a URN) matched requirements.
#[derive(Debug, Clone)]
pub enum RefLookup {
    None,
    One(Box<RequirementRow>),
    /// The ref id repeats in the framework: the candidates, to choose among by parent path.
    Ambiguous(Vec<RequirementRow>),
}

const FRAMEWORK_COLS: &str = "f.id, f.org_id, f.slug, f.name, f.version, f.publisher, f.licence_note, f.builtin, \
     f.source_file, f.source_format, f.imported_at, \
     (SELECT COUNT(*) FROM requirements r WHERE r.framework_id = f.id AND NOT r.retired) AS requirement_count, \
     f.library_urn, f.library_version, f.framework_urn, f.translations_json";
/// The frameworks a tenant sees (`$n` bound to [`Tenant::org_id`]): all for
/// the installation, installation-wide ones and its own for an organisation.
fn visible(param: usize) -> String {
    format!("(${param} IS NULL OR f.org_id IS NULL OR f.org_id = ${param})")
}

const REQ_COLS: &str = "r.id, r.framework_id, f.slug AS framework_slug, r.ref_id, r.parent_ref_id, r.kind, r.title, \
     r.description, r.discussion, r.guidance_json, r.control_id, r.withdrawn, r.position, r.depth, \
     r.node_key, r.parent_key, r.display_ref, r.retired, r.translations_json";

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
        let mut tx = self.begin().await?;
        let summary = write_framework(
            &mut tx,
            tree,
            source_file,
            source_format,
            builtin,
            tenant,
            actor,
            &LibraryMeta::default(),
        )
        .await?;
        if !summary.unchanged {
            tx.commit().await?;
        }
        Ok(summary)
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

    /// The direct children of a requirement (by its key), in order.
    pub async fn requirement_children(
        &self,
        framework_id: i64,
        parent_key: &str,
    ) -> Result<Vec<RequirementRow>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, RequirementRow>(
            &format!(
                "SELECT {REQ_COLS} FROM requirements r JOIN frameworks f ON f.id = r.framework_id \
             WHERE r.framework_id = $1 AND r.parent_key = $2 ORDER BY r.position"
            )
        )
        .bind(framework_id)
        .bind(parent_key)
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

    /// A requirement by framework slug and a reference: its key (URN), its label with
    /// parent path (`3.3 › 3`) or its ref id when that is unique in the framework. An
    /// ambiguous ref id finds nothing here; [`Store::lookup_requirement`] names the
    /// candidates. For ISO 27001:2022 a bare Annex A control id (`5.1`) is not a ref id
    /// (that is clause 5.1).
    pub async fn requirement_by_ref(
        &self,
        framework: &str,
        ref_id: &str,
        tenant: Tenant,
    ) -> Result<Option<RequirementRow>> {
        Ok(
            match self.lookup_requirement(framework, ref_id, tenant).await? {
                RefLookup::One(r) => Some(*r),
                RefLookup::None | RefLookup::Ambiguous(_) => None,
            },
        )
    }

    /// Resolves a reference to requirements of a framework: an exact key or label wins;
    /// a ref id that repeats answers with every candidate.
    pub async fn lookup_requirement(
        &self,
        framework: &str,
        reference: &str,
        tenant: Tenant,
    ) -> Result<RefLookup> {
        let reference = reference.trim();
        let mut rows = on_pool!(self, |p| sqlx::query_as::<_, RequirementRow>(&format!(
            "SELECT {REQ_COLS} FROM requirements r JOIN frameworks f ON f.id = r.framework_id \
             WHERE f.slug = $1 AND (r.ref_id = $2 OR r.node_key = $2 OR r.display_ref = $2) AND {} \
             ORDER BY r.retired, r.position",
            visible(3)
        ))
        .bind(framework)
        .bind(reference)
        .bind(tenant.org_id())
        .fetch_all(p)
        .await)?;
        if let Some(i) = rows.iter().position(|r| {
            (r.node_key == reference && r.node_key != r.ref_id)
                || (r.display_ref == reference && r.display_ref != r.ref_id)
        }) {
            return Ok(RefLookup::One(Box::new(rows.swap_remove(i))));
        }
        Ok(match rows.len() {
            0 => RefLookup::None,
            1 => RefLookup::One(Box::new(rows.remove(0))),
            _ => RefLookup::Ambiguous(rows),
        })
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
        let stored = write_mappings(&mut tx, mappings, None, origin, tenant, actor).await?;
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
            source_key: String,
            target_key: String,
        }
        // The requirement asked about: its label and its stable key. A mapping reaches it by
        // key when both carry one, else by ref id.
        let (ref_id, key) = match self.lookup_requirement(framework, ref_id, tenant).await? {
            RefLookup::One(r) => (r.ref_id, r.node_key),
            _ => (ref_id.to_owned(), ref_id.to_owned()),
        };
        let ref_id = ref_id.as_str();
        let rows = on_pool!(self, |p| {
            sqlx::query_as::<_, Row>(
            "SELECT source_framework, source_ref, target_framework, target_ref, relationship, note, origin, source_key, target_key FROM mappings \
             WHERE ((source_framework = $1 AND (source_key = $4 OR (source_ref = $2 AND (source_key = '' OR $4 = $2)))) \
                 OR (target_framework = $1 AND (target_key = $4 OR (target_ref = $2 AND (target_key = '' OR $4 = $2))))) \
               AND ($3 IS NULL OR org_id IS NULL OR org_id = $3) ORDER BY id"
        )
        .bind(framework)
        .bind(ref_id)
        .bind(tenant.org_id())
        .bind(&key)
        .fetch_all(p)
        .await
        })?;
        let mut origins = HashMap::new();
        // The other end's key, to resolve it by identity rather than by a label that may repeat.
        let mut other_keys: HashMap<(String, String), String> = HashMap::new();
        let imported: Vec<Mapping> = rows
            .into_iter()
            .filter_map(|r| {
                let mine_is_source = r.source_framework == framework
                    && (r.source_key == key || r.source_ref == ref_id);
                let mut m = Mapping {
                    source_framework: r.source_framework,
                    source_ref: r.source_ref,
                    target_framework: r.target_framework,
                    target_ref: r.target_ref,
                    relationship: isms_catalog::Relationship::parse(&r.relationship)?,
                    note: Some(r.note).filter(|n| !n.is_empty()),
                    derived_path: None,
                };
                if mine_is_source {
                    ref_id.clone_into(&mut m.source_ref);
                    if !r.target_key.is_empty() {
                        other_keys.insert(
                            (m.target_framework.clone(), m.target_ref.clone()),
                            r.target_key,
                        );
                    }
                } else {
                    ref_id.clone_into(&mut m.target_ref);
                    if !r.source_key.is_empty() {
                        other_keys.insert(
                            (m.source_framework.clone(), m.source_ref.clone()),
                            r.source_key,
                        );
                    }
                }
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
            let by_key = match other_keys.get(&(m.framework.clone(), m.ref_id.clone())) {
                Some(k) => self.requirement_by_ref(&m.framework, k, tenant).await?,
                None => None,
            };
            let found = match by_key {
                Some(r) => Some(r),
                None => {
                    self.requirement_by_ref(&m.framework, &m.ref_id, tenant)
                        .await?
                }
            };
            if let Some(r) = found {
                m.requirement_id = Some(r.id);
                m.ref_id = r.display_ref;
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

/// The existing framework with this slug: (id, builtin, content hash, owner, source file,
/// framework URN, library version).
type ExistingFramework = (
    i64,
    bool,
    String,
    Option<i64>,
    String,
    Option<String>,
    Option<i64>,
);

pub(crate) async fn existing_framework(
    tx: &mut crate::Tx,
    slug: &str,
) -> Result<Option<ExistingFramework>> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT id, builtin, content_hash, org_id, source_file, framework_urn, library_version FROM frameworks WHERE slug = $1"
    )
    .bind(slug)
    .fetch_optional(c)
    .await
    })?)
}

/// Writes a framework and its requirements in the caller's transaction: requirements are
/// matched by their key (URN or ref id) so their ids, and everything linked to them, stay;
/// those the new content lacks are deleted, or retired when `meta.retire_removed`.
#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
pub(crate) async fn write_framework(
    tx: &mut crate::Tx,
    tree: &FrameworkTree,
    source_file: &str,
    source_format: &str,
    builtin: bool,
    tenant: Tenant,
    actor: &Actor,
    meta: &LibraryMeta,
) -> Result<ImportSummary> {
    let fw = &tree.framework;
    let hash = content_hash(tree);
    let existing = existing_framework(tx, &fw.id).await?;
    if let Some((_, true, ..)) = existing
        && !builtin
    {
        return Err(StoreError::Conflict(format!(
            "the framework id '{}' belongs to a framework built into isms: give the import another id",
            fw.id
        )));
    }
    if let Some((_, _, _, owner, ..)) = existing
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
    if let Some((id, _, old_hash, ..)) = &existing
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
    let translations = meta
        .translations
        .as_ref()
        .map(|t| serde_json::to_string(t).unwrap_or_default());
    let framework_id = if let Some((id, ..)) = &existing {
        on_tx!(tx, |c| {
            sqlx::query(
                "UPDATE frameworks SET name = $1, version = $2, publisher = $3, licence_note = $4, \
                 source_file = $5, source_format = $6, content_hash = $7, imported_at = $8, \
                 library_urn = $9, library_version = $10, framework_urn = $11, translations_json = $12 WHERE id = $13",
            )
            .bind(&fw.name)
            .bind(&fw.version)
            .bind(&fw.publisher)
            .bind(&fw.licence_note)
            .bind(source_file)
            .bind(source_format)
            .bind(&hash)
            .bind(&at)
            .bind(&meta.library_urn)
            .bind(meta.library_version)
            .bind(&meta.framework_urn)
            .bind(&translations)
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        *id
    } else {
        let (id,): (i64,) = on_tx!(tx, |c| {
            sqlx::query_as(
                "INSERT INTO frameworks (slug, name, version, publisher, licence_note, builtin, source_file, source_format, content_hash, imported_at, org_id, \
                 library_urn, library_version, framework_urn, translations_json) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
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
            .bind(&meta.library_urn)
            .bind(meta.library_version)
            .bind(&meta.framework_urn)
            .bind(&translations)
            .fetch_one(c)
            .await
        })?;
        id
    };
    let old: Vec<(i64, String, bool)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT id, node_key, retired FROM requirements WHERE framework_id = $1"
    )
    .bind(framework_id)
    .fetch_all(c)
    .await)?;
    let mut old: HashMap<String, (i64, bool)> =
        old.into_iter().map(|(id, k, r)| (k, (id, r))).collect();
    let depths = tree.depths();
    let labels = tree.display_refs();
    let (mut inserted, mut updated, mut restored) = (0, 0, 0);
    let mut new_rows = Vec::new();
    for (position, ((node, depth), label)) in tree.nodes.iter().zip(depths).zip(labels).enumerate()
    {
        let guidance = node
            .guidance
            .as_ref()
            .map(|g| serde_json::to_string(g).unwrap_or_default());
        let translations = node
            .translations
            .as_ref()
            .map(|t| serde_json::to_string(t).unwrap_or_default());
        let Some((id, was_retired)) = old.remove(node.key()) else {
            new_rows.push((position, depth, label, guidance, translations, node));
            continue;
        };
        updated += 1;
        restored += usize::from(was_retired);
        on_tx!(tx, |c| {
            sqlx::query(
            "UPDATE requirements SET ref_id = $2, parent_ref_id = $3, kind = $4, title = $5, description = $6, discussion = $7, \
             guidance_json = $8, control_id = $9, withdrawn = $10, position = $11, depth = $12, parent_key = $13, \
             display_ref = $14, translations_json = $15, retired = FALSE WHERE id = $1"
        )
        .bind(id)
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
        .bind(node.parent_key())
        .bind(&label)
        .bind(&translations)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
    }
    // New requirements in multi-row INSERTs: a large library is thousands of rows.
    for chunk in new_rows.chunks(INSERT_CHUNK) {
        let mut sql = String::from(
            "INSERT INTO requirements (framework_id, ref_id, parent_ref_id, kind, title, description, discussion, \
             guidance_json, control_id, withdrawn, position, depth, node_key, parent_key, display_ref, translations_json) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 16;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for k in 1..=16 {
                if k > 1 {
                    sql.push_str(", ");
                }
                sql.push_str(&tx.placeholder(b + k));
            }
            sql.push(')');
        }
        inserted += chunk.len();
        on_tx!(tx, |c| {
            let mut q = sqlx::query(&sql);
            for (position, depth, label, guidance, translations, node) in chunk {
                q = q
                    .bind(framework_id)
                    .bind(&node.ref_id)
                    .bind(&node.parent_ref_id)
                    .bind(node.kind.as_str())
                    .bind(&node.title)
                    .bind(&node.description)
                    .bind(&node.discussion)
                    .bind(guidance)
                    .bind(&node.control_id)
                    .bind(node.withdrawn)
                    .bind(*position as i64)
                    .bind(*depth as i64)
                    .bind(node.key())
                    .bind(node.parent_key())
                    .bind(label)
                    .bind(translations);
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    let gone: Vec<(String, i64)> = old
        .into_iter()
        .filter(|(_, (_, retired))| !retired)
        .map(|(k, (id, _))| (k, id))
        .collect();
    let removed = gone.len();
    let mut retired_keys: Vec<&str> = Vec::new();
    for (offset, (key, id)) in gone.iter().enumerate() {
        let sql = if meta.retire_removed {
            retired_keys.push(key);
            // Retired requirements sort after the current ones.
            "UPDATE requirements SET retired = TRUE, position = $2 WHERE id = $1"
        } else {
            "DELETE FROM requirements WHERE id = $1 AND $2 >= 0"
        };
        on_tx!(tx, |c| sqlx::query(sql)
            .bind(id)
            .bind((tree.nodes.len() + offset) as i64)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    retired_keys.sort_unstable();
    let mut after = json!({
        "name": fw.name, "version": fw.version, "source_file": source_file,
        "format": source_format, "inserted": inserted, "updated": updated, "removed": removed,
    });
    if meta.retire_removed {
        after["retired"] = json!(retired_keys.iter().take(1000).collect::<Vec<_>>());
        after["restored"] = json!(restored);
    }
    if let Some(v) = meta.library_version {
        after["library_version"] = json!(v);
    }
    let before = existing
        .as_ref()
        .and_then(|e| e.6)
        .map(|v| json!({ "library_version": v }));
    record_import(
        tx,
        tenant,
        actor,
        Change {
            org_id: audit::SYSTEM_CHAIN,
            action: if existing.is_some() {
                "reimport"
            } else {
                "import"
            },
            entity_type: "framework",
            entity_id: fw.id.clone(),
            before,
            after: Some(after),
        },
    )
    .await?;
    Ok(ImportSummary {
        framework_id,
        slug: fw.id.clone(),
        inserted,
        updated,
        removed,
        unchanged: false,
    })
}

/// Rows per multi-row INSERT: 16 parameters each stays under SQLite's 32766 and
/// PostgreSQL's 65535 bound parameters.
const INSERT_CHUNK: usize = 500;

/// Parameters per mapping row of a multi-row INSERT.
const PER_ROW: usize = 11;

/// Writes mappings in the caller's transaction, replacing those the same owner imported
/// from the same origin. `keys` (same order as `mappings`) are the ends' stable identities
/// (requirement URNs) when the source has them.
pub(crate) async fn write_mappings(
    tx: &mut crate::Tx,
    mappings: &[Mapping],
    keys: Option<&[(String, String)]>,
    origin: &str,
    tenant: Tenant,
    actor: &Actor,
) -> Result<usize> {
    let replaced = on_tx!(tx, |c| sqlx::query(
        "DELETE FROM mappings WHERE origin = $1 AND COALESCE(org_id, 0) = COALESCE($2, 0)"
    )
    .bind(origin)
    .bind(tenant.org_id())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    let at = now();
    let mut stored = 0;
    let none = (String::new(), String::new());
    let rows: Vec<(&Mapping, &(String, String))> = mappings
        .iter()
        .enumerate()
        .map(|(i, m)| (m, keys.and_then(|k| k.get(i)).unwrap_or(&none)))
        .collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut sql = String::from(
            "INSERT INTO mappings (source_framework, source_ref, target_framework, target_ref, relationship, note, origin, imported_at, org_id, source_key, target_key) VALUES ",
        );
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            let params: Vec<String> = (1..=PER_ROW)
                .map(|k| tx.placeholder(i * PER_ROW + k))
                .collect();
            sql.push('(');
            sql.push_str(&params.join(", "));
            sql.push(')');
        }
        sql.push_str(" ON CONFLICT DO NOTHING");
        let n = on_tx!(tx, |c| {
            let mut q = sqlx::query(&sql);
            for (m, (sk, tk)) in chunk {
                q = q
                    .bind(&m.source_framework)
                    .bind(&m.source_ref)
                    .bind(&m.target_framework)
                    .bind(&m.target_ref)
                    .bind(m.relationship.as_str())
                    .bind(m.note.as_deref().unwrap_or(""))
                    .bind(origin)
                    .bind(&at)
                    .bind(tenant.org_id())
                    .bind(sk)
                    .bind(tk);
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
        stored += n as usize;
    }
    record_import(
        tx,
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
    Ok(stored)
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
