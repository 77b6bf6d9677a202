//! Risk management: the organisation's methodology, assets and their
//! dependencies, the risk register with its links to assets and Annex A
//! controls, and acceptances of residual risk. The rules (scales, levels,
//! acceptance, cycles) live in `isms_domain::risk`; this file loads, claims
//! the version, calls them, writes and audits, all in one transaction.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use isms_domain::risk::{
    self as rules, AcceptRefused, Acceptor, AssetType, Methodology, RiskStatus, Treatment,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::due::DueItem;
use crate::users::member_id;
use crate::versioned::{self, Claim, Key, Target};
use crate::{Result, Store, StoreError, Tx, is_unique_violation, now, on_pool, on_tx};

/// The most rows one page of the register returns.
pub const MAX_PAGE: i64 = 500;
/// The most rows one import takes.
pub const MAX_IMPORT_ROWS: usize = 200_000;

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(e.to_string())
}

/// A value bound to a dynamically built query.
#[derive(Debug, Clone)]
enum Val {
    I(i64),
    T(String),
}

macro_rules! bind_all {
    ($q:expr, $vals:expr) => {{
        let mut q = $q;
        for v in $vals {
            q = match v {
                Val::I(i) => q.bind(*i),
                Val::T(t) => q.bind(t.clone()),
            };
        }
        q
    }};
}

/// `COLUMN` is one of the ids given as the parameter `$2`: bind
/// [`json_ids`] on SQLite, the `&[i64]` itself on PostgreSQL. One parameter
/// instead of one per id: SQLite's binding slows down sharply with
/// thousands of numbered parameters, and PostgreSQL plans a long IN list
/// slowly.
fn ids_condition(tx: &Tx, column: &str) -> String {
    match tx {
        Tx::Sqlite(_) => format!("{column} IN (SELECT value FROM json_each($2))"),
        Tx::Postgres(_) => format!("{column} = ANY($2)"),
    }
}

/// The ids as a JSON array, for [`ids_condition`] on SQLite.
fn json_ids(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

/// `$from, $from+1, ..` for `n` values.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------- assets

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Asset {
    pub id: i64,
    pub name: String,
    pub asset_type: AssetType,
    pub description: String,
    /// E-mail of the owner.
    pub owner: Option<String>,
    #[serde(skip)]
    pub owner_user_id: Option<i64>,
    pub location: String,
    pub classification: String,
    pub confidentiality: i64,
    pub integrity: i64,
    pub availability: i64,
    /// Ids of the assets this one depends on.
    pub depends_on: Vec<i64>,
    /// How many risks name this asset.
    pub risk_count: i64,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub updated_by: String,
}

#[derive(sqlx::FromRow)]
struct AssetRow {
    id: i64,
    name: String,
    asset_type: String,
    description: String,
    owner_user_id: Option<i64>,
    owner: Option<String>,
    location: String,
    classification: String,
    confidentiality: i64,
    integrity: i64,
    availability: i64,
    risk_count: i64,
    version: i64,
    created_at: String,
    updated_at: String,
    updated_by: String,
}

const ASSET_SELECT: &str = "SELECT a.id, a.name, a.asset_type, a.description, a.owner_user_id, u.email AS owner, \
     a.location, a.classification, a.confidentiality, a.integrity, a.availability, \
     (SELECT COUNT(*) FROM risk_assets ra WHERE ra.org_id = a.org_id AND ra.asset_id = a.id) AS risk_count, \
     a.version, a.created_at, a.updated_at, a.updated_by \
     FROM assets a LEFT JOIN users u ON u.id = a.owner_user_id WHERE a.org_id = $1";

impl AssetRow {
    fn into_asset(self, depends_on: Vec<i64>) -> Result<Asset> {
        Ok(Asset {
            id: self.id,
            name: self.name,
            asset_type: self.asset_type.parse().map_err(invalid)?,
            description: self.description,
            owner: self.owner,
            owner_user_id: self.owner_user_id,
            location: self.location,
            classification: self.classification,
            confidentiality: self.confidentiality,
            integrity: self.integrity,
            availability: self.availability,
            depends_on,
            risk_count: self.risk_count,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
        })
    }
}

/// Fields of an asset to create or change; `version` is required to change.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AssetInput {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub asset_type: Option<String>,
    pub description: Option<String>,
    /// E-mail of a member; "" removes the owner.
    pub owner: Option<String>,
    pub location: Option<String>,
    pub classification: Option<String>,
    pub confidentiality: Option<i64>,
    pub integrity: Option<i64>,
    pub availability: Option<i64>,
    /// Ids of the assets this one depends on (the whole set).
    pub depends_on: Option<Vec<i64>>,
    pub version: Option<i64>,
}

/// Applies `input` to `a` (pure apart from the owner, resolved by the caller).
fn apply_asset_input(a: &mut Asset, input: &AssetInput) -> Result<()> {
    if let Some(n) = &input.name {
        let n = n.trim();
        if n.is_empty() || n.chars().count() > 200 {
            return Err(invalid("name: 1 to 200 characters"));
        }
        n.clone_into(&mut a.name);
    }
    if let Some(t) = &input.asset_type {
        a.asset_type = t.parse().map_err(|e| invalid(format!("type: {e}")))?;
    }
    for (field, value) in [
        (&mut a.description, &input.description),
        (&mut a.location, &input.location),
        (&mut a.classification, &input.classification),
    ] {
        if let Some(v) = value {
            v.trim().clone_into(field);
        }
    }
    for (name, field, value) in [
        (
            "confidentiality",
            &mut a.confidentiality,
            input.confidentiality,
        ),
        ("integrity", &mut a.integrity, input.integrity),
        ("availability", &mut a.availability, input.availability),
    ] {
        if let Some(v) = value {
            if !(0..=5).contains(&v) {
                return Err(invalid(format!("{name}: {v} is outside 0 to 5")));
            }
            *field = v;
        }
    }
    Ok(())
}

/// Resolves an owner change: `Some("")` removes, `Some(email)` sets.
async fn resolve_owner(
    tx: &mut Tx,
    org_id: i64,
    owner: Option<&str>,
    current: (Option<i64>, Option<String>),
) -> Result<(Option<i64>, Option<String>)> {
    match owner.map(str::trim) {
        None => Ok(current),
        Some("") => Ok((None, None)),
        Some(email) => {
            let id = member_id(tx, org_id, "owner", email).await?;
            Ok((Some(id), Some(email.to_lowercase())))
        }
    }
}

async fn dependency_edges(tx: &mut Tx, org_id: i64) -> Result<Vec<(i64, i64)>> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "SELECT asset_id, depends_on_id FROM asset_dependencies WHERE org_id = $1"
    )
    .bind(org_id)
    .fetch_all(c)
    .await)?)
}

/// Replaces the dependencies of `asset_id`, refusing unknown assets and cycles.
async fn set_dependencies(tx: &mut Tx, org_id: i64, asset_id: i64, deps: &[i64]) -> Result<()> {
    let deps: BTreeSet<i64> = deps.iter().copied().collect();
    if !deps.is_empty() {
        let ids: Vec<Val> = deps.iter().map(|d| Val::I(*d)).collect();
        let sql = format!(
            "SELECT COUNT(*) FROM assets WHERE org_id = $1 AND id IN ({})",
            placeholders(2, ids.len())
        );
        let (n,): (i64,) = on_tx!(tx, |c| bind_all!(sqlx::query_as(&sql).bind(org_id), &ids)
            .fetch_one(c)
            .await)?;
        if n != deps.len() as i64 {
            return Err(invalid(
                "depends_on: names an asset that is not in this organisation",
            ));
        }
    }
    let mut edges: Vec<(i64, i64)> = dependency_edges(tx, org_id)
        .await?
        .into_iter()
        .filter(|(a, _)| *a != asset_id)
        .collect();
    for &d in &deps {
        if let Some(cycle) = rules::dependency_cycle(&edges, asset_id, d) {
            let path: Vec<String> = std::iter::once(asset_id)
                .chain(cycle)
                .map(|i| i.to_string())
                .collect();
            return Err(invalid(format!(
                "depends_on: asset {asset_id} depending on asset {d} makes a cycle ({}): dependencies must not loop",
                path.join(" -> ")
            )));
        }
        edges.push((asset_id, d));
    }
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM asset_dependencies WHERE org_id = $1 AND asset_id = $2"
    )
    .bind(org_id)
    .bind(asset_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if !deps.is_empty() {
        let mut sql = String::from(
            "INSERT INTO asset_dependencies (org_id, asset_id, depends_on_id) VALUES ",
        );
        let vals: Vec<Val> = deps.iter().map(|d| Val::I(*d)).collect();
        for i in 0..vals.len() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(sql, "{sep}($1, $2, ${})", i + 3);
        }
        on_tx!(tx, |c| bind_all!(
            sqlx::query(&sql).bind(org_id).bind(asset_id),
            &vals
        )
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

async fn asset_in_tx(tx: &mut Tx, org_id: i64, id: i64) -> Result<Option<Asset>> {
    let row = on_tx!(tx, |c| sqlx::query_as::<_, AssetRow>(&format!(
        "{ASSET_SELECT} AND a.id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(c)
    .await)?;
    let Some(row) = row else { return Ok(None) };
    let deps: Vec<(i64,)> = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT depends_on_id FROM asset_dependencies WHERE org_id = $1 AND asset_id = $2 ORDER BY depends_on_id"
    )
    .bind(org_id)
    .bind(id)
    .fetch_all(c)
    .await
    })?;
    Ok(Some(
        row.into_asset(deps.into_iter().map(|(d,)| d).collect())?,
    ))
}

fn asset_missing(id: i64) -> StoreError {
    StoreError::NotFound(format!("no asset {id} in this organisation"))
}

fn name_taken(name: &str) -> StoreError {
    StoreError::Conflict(format!(
        "name: an asset named '{name}' already exists in this organisation"
    ))
}

/// Filters for the asset list.
#[derive(Debug, Clone, Default)]
pub struct AssetQuery {
    pub q: Option<String>,
    pub asset_type: Option<AssetType>,
    pub limit: i64,
    pub offset: i64,
}

impl Store {
    pub async fn create_asset(
        &self,
        org_id: i64,
        input: &AssetInput,
        actor: &Actor,
    ) -> Result<Asset> {
        if input.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
            return Err(invalid("name: required, 1 to 200 characters"));
        }
        if input.asset_type.is_none() {
            return Err(invalid(format!(
                "type: required, one of {}",
                names(AssetType::ALL.iter().map(|t| t.as_str()))
            )));
        }
        let at = now();
        let mut a = Asset {
            id: 0,
            name: String::new(),
            asset_type: AssetType::Information,
            description: String::new(),
            owner: None,
            owner_user_id: None,
            location: String::new(),
            classification: String::new(),
            confidentiality: 0,
            integrity: 0,
            availability: 0,
            depends_on: Vec::new(),
            risk_count: 0,
            version: 1,
            created_at: at.clone(),
            updated_at: at.clone(),
            updated_by: actor.label.clone(),
        };
        apply_asset_input(&mut a, input)?;
        let mut tx = self.begin().await?;
        (a.owner_user_id, a.owner) =
            resolve_owner(&mut tx, org_id, input.owner.as_deref(), (None, None)).await?;
        let inserted: std::result::Result<(i64,), sqlx::Error> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
                "INSERT INTO assets (org_id, name, asset_type, description, owner_user_id, location, classification, \
                 confidentiality, integrity, availability, created_at, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) RETURNING id",
            )
            .bind(org_id)
            .bind(&a.name)
            .bind(a.asset_type.as_str())
            .bind(&a.description)
            .bind(a.owner_user_id)
            .bind(&a.location)
            .bind(&a.classification)
            .bind(a.confidentiality)
            .bind(a.integrity)
            .bind(a.availability)
            .bind(&at)
            .bind(&actor.label)
            .fetch_one(c)
            .await
        });
        a.id = match inserted {
            Ok((id,)) => id,
            Err(e) if is_unique_violation(&e) => return Err(name_taken(&a.name)),
            Err(e) => return Err(e.into()),
        };
        if let Some(deps) = &input.depends_on {
            set_dependencies(&mut tx, org_id, a.id, deps).await?;
            a.depends_on = deps
                .iter()
                .copied()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "asset",
                entity_id: a.id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&a).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(a)
    }

    pub async fn asset(&self, org_id: i64, id: i64) -> Result<Asset> {
        let mut tx = self.read_tx().await?;
        asset_in_tx(&mut tx, org_id, id)
            .await?
            .ok_or_else(|| asset_missing(id))
    }

    /// Changes an asset if `version` is current.
    pub async fn update_asset(
        &self,
        org_id: i64,
        id: i64,
        input: &AssetInput,
        actor: &Actor,
    ) -> Result<Asset> {
        let Some(sent) = input.version else {
            return Err(versioned::version_required(" of the asset"));
        };
        let mut tx = self.begin().await?;
        let before = versioned::claim_and_load(
            &mut tx,
            &Target {
                table: "assets",
                org_id,
                keys: &[("id", Key::Int(id))],
            },
            sent,
            &format!("asset {id}"),
            async |tx| asset_in_tx(tx, org_id, id).await,
            || asset_missing(id),
        )
        .await?;
        let mut after = before.clone();
        apply_asset_input(&mut after, input)?;
        (after.owner_user_id, after.owner) = resolve_owner(
            &mut tx,
            org_id,
            input.owner.as_deref(),
            (before.owner_user_id, before.owner.clone()),
        )
        .await?;
        if let Some(deps) = &input.depends_on {
            set_dependencies(&mut tx, org_id, id, deps).await?;
            after.depends_on = deps
                .iter()
                .copied()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
        }
        if after == before {
            return Ok(before);
        }
        after.version = sent + 1;
        after.updated_at = now();
        after.updated_by.clone_from(&actor.label);
        let updated = on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE assets SET name = $1, asset_type = $2, description = $3, owner_user_id = $4, location = $5, \
                 classification = $6, confidentiality = $7, integrity = $8, availability = $9, updated_at = $10, \
                 updated_by = $11 WHERE org_id = $12 AND id = $13",
            )
            .bind(&after.name)
            .bind(after.asset_type.as_str())
            .bind(&after.description)
            .bind(after.owner_user_id)
            .bind(&after.location)
            .bind(&after.classification)
            .bind(after.confidentiality)
            .bind(after.integrity)
            .bind(after.availability)
            .bind(&after.updated_at)
            .bind(&after.updated_by)
            .bind(org_id)
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        });
        match updated {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(name_taken(&after.name)),
            Err(e) => return Err(e.into()),
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "update",
                entity_type: "asset",
                entity_id: id.to_string(),
                before: Some(serde_json::to_value(&before).unwrap_or_default()),
                after: Some(serde_json::to_value(&after).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes an asset that no risk names. With `unlink`, the asset's links
    /// to risks are removed first (explicitly, and in the audit entry).
    pub async fn delete_asset(
        &self,
        org_id: i64,
        id: i64,
        unlink: bool,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let before = asset_in_tx(&mut tx, org_id, id)
            .await?
            .ok_or_else(|| asset_missing(id))?;
        let linked: Vec<(i64,)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "SELECT risk_id FROM risk_assets WHERE org_id = $1 AND asset_id = $2 ORDER BY risk_id"
        )
        .bind(org_id)
        .bind(id)
        .fetch_all(c)
        .await
        })?;
        let linked: Vec<i64> = linked.into_iter().map(|(r,)| r).collect();
        if !linked.is_empty() && !unlink {
            let shown: Vec<String> = linked
                .iter()
                .take(10)
                .map(|r| format!("RISK-{r}"))
                .collect();
            return Err(StoreError::Conflict(format!(
                "asset {id} '{}' is linked to {} risk(s) ({}{}): remove those links first, or delete with unlink",
                before.name,
                linked.len(),
                shown.join(", "),
                if linked.len() > 10 { ", ..." } else { "" }
            )));
        }
        on_tx!(&mut tx, |c| sqlx::query(
            "DELETE FROM risk_assets WHERE org_id = $1 AND asset_id = $2"
        )
        .bind(org_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, |c| sqlx::query(
            "DELETE FROM assets WHERE org_id = $1 AND id = $2"
        )
        .bind(org_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "delete",
                entity_type: "asset",
                entity_id: id.to_string(),
                before: Some(json!({"asset": before, "unlinked_risks": linked})),
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// Assets by name, with their dependencies (two queries whatever the count).
    pub async fn assets(&self, org_id: i64, query: &AssetQuery) -> Result<Vec<Asset>> {
        let mut sql = String::from(ASSET_SELECT);
        let mut vals: Vec<Val> = Vec::new();
        if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            vals.push(Val::T(like_pattern(&q.to_lowercase())));
            let _ = write!(
                sql,
                " AND LOWER(a.name) LIKE ${} ESCAPE '\\'",
                vals.len() + 1
            );
        }
        if let Some(t) = query.asset_type {
            vals.push(Val::T(t.as_str().into()));
            let _ = write!(sql, " AND a.asset_type = ${}", vals.len() + 1);
        }
        let limit = query.limit.clamp(1, MAX_PAGE);
        let _ = write!(
            sql,
            " ORDER BY a.name, a.id LIMIT {limit} OFFSET {}",
            query.offset.max(0)
        );
        let rows: Vec<AssetRow> = on_pool!(self, |p| bind_all!(
            sqlx::query_as::<_, AssetRow>(&sql).bind(org_id),
            &vals
        )
        .fetch_all(p)
        .await)?;
        let ids: Vec<Val> = rows.iter().map(|r| Val::I(r.id)).collect();
        let mut deps: HashMap<i64, Vec<i64>> = HashMap::new();
        if !ids.is_empty() {
            let dsql = format!(
                "SELECT asset_id, depends_on_id FROM asset_dependencies WHERE org_id = $1 AND asset_id IN ({}) ORDER BY depends_on_id",
                placeholders(2, ids.len())
            );
            let edges: Vec<(i64, i64)> = on_pool!(self, |p| bind_all!(
                sqlx::query_as(&dsql).bind(org_id),
                &ids
            )
            .fetch_all(p)
            .await)?;
            for (a, d) in edges {
                deps.entry(a).or_default().push(d);
            }
        }
        rows.into_iter()
            .map(|r| {
                let d = deps.remove(&r.id).unwrap_or_default();
                r.into_asset(d)
            })
            .collect()
    }

    /// A transaction used only to read (so helpers shared with writes work).
    pub(crate) async fn read_tx(&self) -> Result<Tx> {
        Ok(match &self.pool {
            crate::Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            crate::Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.collect::<Vec<_>>().join(", ")
}

/// Rows per multi-row INSERT: large enough to save round trips, small
/// enough that binding stays cheap (sqlx's SQLite binding slows down sharply
/// with thousands of parameters in one statement).
const ROW_CHUNK: usize = 100;
/// Link rows (two parameters each) per INSERT.
const LINK_CHUNK: usize = 300;

/// Values per risk row of an import's INSERT.
const IMPORT_COLS: usize = 12;

/// `%word%` with `%`, `_` and `\` escaped.
fn like_pattern(s: &str) -> String {
    let mut out = String::from("%");
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

// ---------------------------------------------------------------- methodology

async fn methodology_in_tx(tx: &mut Tx, org_id: i64) -> Result<Methodology> {
    let row: Option<(String,)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT body_json FROM risk_methodologies WHERE org_id = $1"
    )
    .bind(org_id)
    .fetch_optional(c)
    .await)?;
    parse_methodology(row)
}

fn parse_methodology(row: Option<(String,)>) -> Result<Methodology> {
    match row {
        None => Ok(Methodology::default()),
        Some((body,)) => serde_json::from_str(&body)
            .map_err(|e| StoreError::Invalid(format!("the stored methodology is unreadable: {e}"))),
    }
}

/// The outcome of a methodology change: what moves, and whether it was saved.
#[derive(Debug, Clone, Serialize)]
pub struct MethodologyChange {
    /// The methodology's version after the call (unchanged in a preview).
    pub version: i64,
    pub applied: bool,
    /// Risks whose inherent or residual level name changes.
    pub moves: Vec<rules::LevelMove>,
}

/// `CASE <l> * 8 + <i> WHEN .. THEN level .. END` for the matrix of `m`.
fn level_case(m: &Methodology, l: &str, i: &str) -> String {
    let mut sql = format!("CASE {l} * 8 + {i}");
    for (li, row) in m.matrix.iter().enumerate() {
        for (ii, level) in row.iter().enumerate() {
            let _ = write!(sql, " WHEN {} THEN {level}", (li + 1) * 8 + ii + 1);
        }
    }
    sql.push_str(" END");
    sql
}

impl Store {
    /// The organisation's methodology (the built-in 5x5 until it sets one).
    pub async fn risk_methodology(&self, org_id: i64) -> Result<Methodology> {
        // One statement, no transaction: every page of the register reads it.
        let row: Option<(String,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT body_json FROM risk_methodologies WHERE org_id = $1"
        )
        .bind(org_id)
        .fetch_optional(p)
        .await)?;
        parse_methodology(row)
    }

    /// The methodology's version: 0 while the built-in default applies.
    pub async fn risk_methodology_version(&self, org_id: i64) -> Result<i64> {
        let row: Option<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT version FROM risk_methodologies WHERE org_id = $1"
        )
        .bind(org_id)
        .fetch_optional(p)
        .await)?;
        Ok(row.map_or(0, |(v,)| v))
    }

    /// Replaces the methodology. Without `apply` it only says which risks
    /// would change level; with `apply` it saves the methodology and
    /// re-scores every risk in the same transaction (one UPDATE), audited
    /// with what moved. An acceptance lapses when its residual level changes.
    pub async fn change_risk_methodology(
        &self,
        org_id: i64,
        to: &Methodology,
        sent: i64,
        apply: bool,
        actor: &Actor,
    ) -> Result<MethodologyChange> {
        let mut tx = self.begin().await?;
        let row: Option<(i64,)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT version FROM risk_methodologies WHERE org_id = $1"
        )
        .bind(org_id)
        .fetch_optional(c)
        .await)?;
        let current = row.map_or(0, |(v,)| v);
        if apply {
            let won = if sent == 0 {
                on_tx!(&mut tx, |c| {
                    sqlx::query(
                    "INSERT INTO risk_methodologies (org_id, body_json, version, updated_at, updated_by) \
                     VALUES ($1, '', 0, $2, $3) ON CONFLICT (org_id) DO NOTHING"
                )
                .bind(org_id)
                .bind(now())
                .bind(&actor.label)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
                })? == 1
            } else {
                matches!(
                    versioned::claim(
                        &mut tx,
                        &Target {
                            table: "risk_methodologies",
                            org_id,
                            keys: &[],
                        },
                        sent,
                    )
                    .await?,
                    Claim::Won
                )
            };
            if !won {
                return Err(versioned::stale(
                    "the risk methodology",
                    current,
                    sent,
                    "",
                    "now",
                ));
            }
        } else if sent != current {
            return Err(versioned::stale(
                "the risk methodology",
                current,
                sent,
                "",
                "now",
            ));
        }
        let from = if sent == 0 {
            Methodology::default()
        } else {
            methodology_in_tx(&mut tx, org_id).await?
        };
        let rows: Vec<(i64, i64, i64, i64, i64)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "SELECT id, likelihood, impact, residual_likelihood, residual_impact FROM risks WHERE org_id = $1 ORDER BY id"
        )
        .bind(org_id)
        .fetch_all(c)
        .await
        })?;
        let scores: Vec<rules::Scores> = rows
            .into_iter()
            .map(|(id, l, i, rl, ri)| rules::Scores {
                id,
                likelihood: l,
                impact: i,
                residual_likelihood: rl,
                residual_impact: ri,
            })
            .collect();
        let moves = rules::rescore(&from, to, &scores).map_err(invalid)?;
        if !apply {
            return Ok(MethodologyChange {
                version: current,
                applied: false,
                moves,
            });
        }
        let body = serde_json::to_string(to).map_err(invalid)?;
        let at = now();
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE risk_methodologies SET body_json = $1, version = $2, updated_at = $3, updated_by = $4 WHERE org_id = $5"
        )
        .bind(&body)
        .bind(sent + 1)
        .bind(&at)
        .bind(&actor.label)
        .bind(org_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        let inherent = level_case(to, "likelihood", "impact");
        let residual = level_case(to, "residual_likelihood", "residual_impact");
        let changed = format!("({inherent}) <> inherent_level OR ({residual}) <> residual_level");
        let sql = format!(
            "UPDATE risks SET inherent_level = {inherent}, residual_level = {residual}, \
             status = CASE WHEN status = 'accepted' AND ({residual}) <> residual_level THEN 'assessed' ELSE status END, \
             version = CASE WHEN {changed} THEN version + 1 ELSE version END, \
             updated_at = CASE WHEN {changed} THEN $2 ELSE updated_at END, \
             updated_by = CASE WHEN {changed} THEN $3 ELSE updated_by END \
             WHERE org_id = $1"
        );
        on_tx!(&mut tx, |c| sqlx::query(&sql)
            .bind(org_id)
            .bind(&at)
            .bind(&actor.label)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "update",
                entity_type: "risk_methodology",
                entity_id: org_id.to_string(),
                before: Some(serde_json::to_value(&from).unwrap_or_default()),
                after: Some(json!({
                    "methodology": to,
                    "risks_moved": moves.len(),
                    "moves": moves.iter().take(1000).collect::<Vec<_>>(),
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(MethodologyChange {
            version: sent + 1,
            applied: true,
            moves,
        })
    }
}

// ---------------------------------------------------------------- readiness

fn state(r: rules::Readiness) -> crate::ReadinessState {
    match r {
        rules::Readiness::Ready => crate::ReadinessState::Ready,
        rules::Readiness::Incomplete => crate::ReadinessState::Incomplete,
        rules::Readiness::Missing => crate::ReadinessState::Missing,
    }
}

impl Store {
    /// The readiness items the register makes true: the method (6.1.2), the
    /// assessment's results (8.2), and treatment with acceptance (6.1.3, 8.3).
    /// One query of counts.
    /// The register's facts for readiness and the dashboard (one query).
    pub async fn risk_register_facts(&self, org_id: i64) -> Result<rules::RegisterFacts> {
        let today = now();
        let today = today.get(..10).unwrap_or("");
        let row: (i64, i64, i64, i64, i64, i64, Option<String>) = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN r.owner_user_id IS NULL THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN r.status = 'identified' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN r.next_review <> '' AND r.next_review < $2 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN r.treatment = 'modify' AND NOT EXISTS \
               (SELECT 1 FROM risk_controls rc WHERE rc.org_id = r.org_id AND rc.risk_id = r.id) THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN r.status <> 'accepted' THEN 1 ELSE 0 END), 0), \
             MAX(r.updated_at) \
             FROM risks r WHERE r.org_id = $1 AND r.status <> 'closed'"
        )
        .bind(org_id)
        .bind(today)
        .fetch_one(p)
        .await
        })?;
        let f = rules::RegisterFacts {
            risks: row.0,
            without_owner: row.1,
            unassessed: row.2,
            review_overdue: row.3,
            modify_without_controls: row.4,
            not_accepted: row.5,
            last_change: row.6.unwrap_or_default(),
        };
        Ok(f)
    }

    pub(crate) async fn risk_readiness(
        &self,
        org_id: i64,
        year_ago: &str,
    ) -> Result<Vec<crate::ReadinessItem>> {
        let f = self.risk_register_facts(org_id).await?;
        let m = self.risk_methodology(org_id).await?;
        let process = if f.risks == 0 {
            (
                crate::ReadinessState::Incomplete,
                format!(
                    "a {}x{} methodology with {} levels is defined but no risk is assessed with it yet",
                    m.likelihood.len(),
                    m.impact.len(),
                    m.levels.len()
                ),
            )
        } else {
            (
                crate::ReadinessState::Ready,
                format!(
                    "{}x{} likelihood/impact matrix, {} levels; the owner accepts up to {}",
                    m.likelihood.len(),
                    m.impact.len(),
                    m.levels.len(),
                    m.level_name(m.max_acceptable_level)
                ),
            )
        };
        let (a, ad) = rules::assessment_readiness(&f, year_ago);
        let (t, td) = rules::treatment_readiness(&f);
        Ok(vec![
            crate::ReadinessItem {
                key: "risk_assessment_process",
                clause: "6.1.2",
                title: "Risk assessment process",
                state: process.0,
                detail: process.1,
                link: "/risks",
            },
            crate::ReadinessItem {
                key: "risk_assessment_results",
                clause: "8.2",
                title: "Risk assessment results",
                state: state(a),
                detail: ad,
                link: "/risks",
            },
            crate::ReadinessItem {
                key: "risk_treatment",
                clause: "6.1.3, 8.3",
                title: "Risk treatment process and plan",
                state: state(t),
                detail: td,
                link: "/risks?status=assessed",
            },
        ])
    }
}

// ---------------------------------------------------------------- risks

/// One acceptance of a residual risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Acceptance {
    #[serde(skip)]
    pub risk_id: i64,
    pub residual_level: i64,
    pub accepted_by: String,
    pub accepted_at: String,
    pub comment: String,
    /// YYYY-MM-DD or empty.
    pub valid_until: String,
    pub is_override: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Risk {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub threat: String,
    pub vulnerability: String,
    pub consequence: String,
    /// E-mail of the risk owner.
    pub owner: Option<String>,
    #[serde(skip)]
    pub owner_user_id: Option<i64>,
    pub likelihood: i64,
    pub impact: i64,
    /// Index into the methodology's levels (0 = lowest).
    pub inherent_level: i64,
    pub treatment: Treatment,
    pub residual_likelihood: i64,
    pub residual_impact: i64,
    pub residual_level: i64,
    pub status: RiskStatus,
    /// YYYY-MM-DD or empty.
    pub next_review: String,
    pub asset_ids: Vec<i64>,
    /// Annex A control ids, e.g. `8.7`.
    pub annex_a_controls: Vec<String>,
    /// Ids of the organisation's applied controls that treat the risk.
    pub applied_controls: Vec<i64>,
    /// The latest acceptance, if the risk is accepted.
    pub acceptance: Option<Acceptance>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub updated_by: String,
}

#[derive(sqlx::FromRow)]
struct RiskRow {
    id: i64,
    title: String,
    description: String,
    threat: String,
    vulnerability: String,
    consequence: String,
    owner_user_id: Option<i64>,
    owner: Option<String>,
    likelihood: i64,
    impact: i64,
    inherent_level: i64,
    treatment: String,
    residual_likelihood: i64,
    residual_impact: i64,
    residual_level: i64,
    status: String,
    next_review: String,
    version: i64,
    created_at: String,
    updated_at: String,
    updated_by: String,
}

const RISK_COLS: &str = "r.id, r.title, r.description, r.threat, r.vulnerability, r.consequence, \
     r.owner_user_id, u.email AS owner, r.likelihood, r.impact, r.inherent_level, r.treatment, \
     r.residual_likelihood, r.residual_impact, r.residual_level, r.status, r.next_review, r.version, \
     r.created_at, r.updated_at, r.updated_by";
const RISK_FROM: &str =
    "FROM risks r LEFT JOIN users u ON u.id = r.owner_user_id WHERE r.org_id = $1";

impl RiskRow {
    fn into_risk(self) -> Result<Risk> {
        Ok(Risk {
            id: self.id,
            title: self.title,
            description: self.description,
            threat: self.threat,
            vulnerability: self.vulnerability,
            consequence: self.consequence,
            owner: self.owner,
            owner_user_id: self.owner_user_id,
            likelihood: self.likelihood,
            impact: self.impact,
            inherent_level: self.inherent_level,
            treatment: self.treatment.parse().map_err(invalid)?,
            residual_likelihood: self.residual_likelihood,
            residual_impact: self.residual_impact,
            residual_level: self.residual_level,
            status: self.status.parse().map_err(invalid)?,
            next_review: self.next_review,
            asset_ids: Vec::new(),
            annex_a_controls: Vec::new(),
            applied_controls: Vec::new(),
            acceptance: None,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
        })
    }
}

/// Fields of a risk to create or change; `version` is required to change.
/// On creation `title`, `likelihood`, `impact` and `treatment` are required;
/// the residual scores default to the inherent ones.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RiskInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub threat: Option<String>,
    pub vulnerability: Option<String>,
    pub consequence: Option<String>,
    /// E-mail of a member; "" removes the owner.
    pub owner: Option<String>,
    pub likelihood: Option<i64>,
    pub impact: Option<i64>,
    pub treatment: Option<String>,
    pub residual_likelihood: Option<i64>,
    pub residual_impact: Option<i64>,
    pub status: Option<String>,
    pub next_review: Option<String>,
    /// The whole set of linked assets.
    pub asset_ids: Option<Vec<i64>>,
    /// The whole set of linked Annex A controls.
    pub annex_a_controls: Option<Vec<String>>,
    /// The whole set of applied controls (ids) that treat the risk.
    pub applied_controls: Option<Vec<i64>>,
    pub version: Option<i64>,
}

pub(crate) fn check_date(field: &str, d: &str) -> Result<()> {
    let ok = d.is_empty()
        || (d.len() == 10
            && time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
                .is_ok());
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{field}: '{d}' is not a date: use YYYY-MM-DD"
        )))
    }
}

/// Applies `input` to `r` and re-scores it (pure apart from the owner and
/// the links, which the caller resolves).
fn apply_risk_input(m: &Methodology, r: &mut Risk, input: &RiskInput) -> Result<()> {
    if let Some(t) = &input.title {
        let t = t.trim();
        if t.is_empty() || t.chars().count() > 300 {
            return Err(invalid("title: 1 to 300 characters"));
        }
        t.clone_into(&mut r.title);
    }
    for (field, value) in [
        (&mut r.description, &input.description),
        (&mut r.threat, &input.threat),
        (&mut r.vulnerability, &input.vulnerability),
        (&mut r.consequence, &input.consequence),
    ] {
        if let Some(v) = value {
            v.trim().clone_into(field);
        }
    }
    if let Some(t) = &input.treatment {
        r.treatment = t.parse().map_err(|e| invalid(format!("treatment: {e}")))?;
    }
    if let Some(s) = &input.status {
        r.status = s.parse().map_err(|e| invalid(format!("status: {e}")))?;
    }
    if let Some(d) = &input.next_review {
        let d = d.trim();
        check_date("next_review", d)?;
        d.clone_into(&mut r.next_review);
    }
    let old_residual = r.residual_level;
    r.likelihood = input.likelihood.unwrap_or(r.likelihood);
    r.impact = input.impact.unwrap_or(r.impact);
    r.residual_likelihood = input.residual_likelihood.unwrap_or(r.residual_likelihood);
    r.residual_impact = input.residual_impact.unwrap_or(r.residual_impact);
    r.inherent_level = m
        .score(("likelihood", "impact"), r.likelihood, r.impact)
        .map_err(invalid)? as i64;
    r.residual_level = m
        .score(
            ("residual_likelihood", "residual_impact"),
            r.residual_likelihood,
            r.residual_impact,
        )
        .map_err(invalid)? as i64;
    // An acceptance holds for the level accepted: a new residual level
    // needs a new acceptance.
    if r.status == RiskStatus::Accepted
        && input.status.is_none()
        && old_residual != r.residual_level
    {
        r.status = RiskStatus::Assessed;
    }
    Ok(())
}

fn control_ids(list: &[String]) -> Result<Vec<String>> {
    let mut out = BTreeSet::new();
    for c in list {
        let id = rules::normalise_control_id(c).ok_or_else(|| {
            invalid(format!(
                "annex_a_controls: '{c}' is not an Annex A control (5.1 .. 8.34)"
            ))
        })?;
        out.insert(id);
    }
    let mut v: Vec<String> = out.into_iter().collect();
    v.sort_by_key(|c| control_order(c));
    Ok(v)
}

/// Sort key of an Annex A id: `5.10` after `5.9`.
fn control_order(c: &str) -> (u32, u32) {
    let (a, b) = c.split_once('.').unwrap_or((c, "0"));
    (a.parse().unwrap_or(0), b.parse().unwrap_or(0))
}

async fn check_assets(tx: &mut Tx, org_id: i64, ids: &[i64]) -> Result<Vec<i64>> {
    let set: BTreeSet<i64> = ids.iter().copied().collect();
    if set.is_empty() {
        return Ok(Vec::new());
    }
    let vals: Vec<Val> = set.iter().map(|i| Val::I(*i)).collect();
    let sql = format!(
        "SELECT id FROM assets WHERE org_id = $1 AND id IN ({})",
        placeholders(2, vals.len())
    );
    let found: Vec<(i64,)> = on_tx!(tx, |c| bind_all!(sqlx::query_as(&sql).bind(org_id), &vals)
        .fetch_all(c)
        .await)?;
    let found: BTreeSet<i64> = found.into_iter().map(|(i,)| i).collect();
    if let Some(missing) = set.iter().find(|i| !found.contains(i)) {
        return Err(invalid(format!(
            "asset_ids: there is no asset {missing} in this organisation"
        )));
    }
    Ok(set.into_iter().collect())
}

/// The applied controls `ids`, sorted and deduplicated, all of this
/// organisation (another organisation's are refused like unknown ones).
async fn check_applied_controls(tx: &mut Tx, org_id: i64, ids: &[i64]) -> Result<Vec<i64>> {
    let set: BTreeSet<i64> = ids.iter().copied().collect();
    if set.is_empty() {
        return Ok(Vec::new());
    }
    let vals: Vec<Val> = set.iter().map(|i| Val::I(*i)).collect();
    let sql = format!(
        "SELECT id FROM applied_controls WHERE org_id = $1 AND id IN ({})",
        placeholders(2, vals.len())
    );
    let found: Vec<(i64,)> = on_tx!(tx, |c| bind_all!(sqlx::query_as(&sql).bind(org_id), &vals)
        .fetch_all(c)
        .await)?;
    let found: BTreeSet<i64> = found.into_iter().map(|(i,)| i).collect();
    if let Some(missing) = set.iter().find(|i| !found.contains(i)) {
        return Err(invalid(format!(
            "applied_controls: there is no applied control {missing} in this organisation"
        )));
    }
    Ok(set.into_iter().collect())
}

/// Replaces the applied controls that treat risk `risk_id`.
async fn write_applied_controls(tx: &mut Tx, org_id: i64, risk_id: i64, ids: &[i64]) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM risk_applied_controls WHERE org_id = $1 AND risk_id = $2"
    )
    .bind(org_id)
    .bind(risk_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    for chunk in ids.chunks(LINK_CHUNK) {
        let mut sql = String::from(
            "INSERT INTO risk_applied_controls (org_id, risk_id, applied_control_id) VALUES ",
        );
        let mut vals = Vec::with_capacity(chunk.len());
        for (i, a) in chunk.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(sql, "{sep}($1, $2, ${})", i + 3);
            vals.push(Val::I(*a));
        }
        on_tx!(tx, |c| bind_all!(
            sqlx::query(&sql).bind(org_id).bind(risk_id),
            &vals
        )
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Replaces the links of the given risks (set-based: one DELETE and one
/// INSERT per table for all of them).
async fn write_links(
    tx: &mut Tx,
    org_id: i64,
    links: &[(i64, &[i64], &[String])],
    replace: bool,
) -> Result<()> {
    if links.is_empty() {
        return Ok(());
    }
    if replace {
        for table in ["risk_assets", "risk_controls"] {
            let ids: Vec<Val> = links.iter().map(|(r, _, _)| Val::I(*r)).collect();
            let sql = format!(
                "DELETE FROM {table} WHERE org_id = $1 AND risk_id IN ({})",
                placeholders(2, ids.len())
            );
            on_tx!(tx, |c| bind_all!(sqlx::query(&sql).bind(org_id), &ids)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
    }
    let asset_pairs: Vec<(i64, i64)> = links
        .iter()
        .flat_map(|(r, a, _)| a.iter().map(move |a| (*r, *a)))
        .collect();
    let control_pairs: Vec<(i64, String)> = links
        .iter()
        .flat_map(|(r, _, c)| c.iter().map(move |c| (*r, c.clone())))
        .collect();
    // Chunks keep every statement under both engines' parameter limits.
    for chunk in asset_pairs.chunks(LINK_CHUNK) {
        let mut sql = String::from("INSERT INTO risk_assets (org_id, risk_id, asset_id) VALUES ");
        let mut vals = Vec::with_capacity(chunk.len() * 2);
        for (i, (r, a)) in chunk.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(sql, "{sep}($1, ${}, ${})", 2 * i + 2, 2 * i + 3);
            vals.push(Val::I(*r));
            vals.push(Val::I(*a));
        }
        on_tx!(tx, |c| bind_all!(sqlx::query(&sql).bind(org_id), &vals)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    for chunk in control_pairs.chunks(LINK_CHUNK) {
        let mut sql =
            String::from("INSERT INTO risk_controls (org_id, risk_id, control_id) VALUES ");
        let mut vals = Vec::with_capacity(chunk.len() * 2);
        for (i, (r, c)) in chunk.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(sql, "{sep}($1, ${}, ${})", 2 * i + 2, 2 * i + 3);
            vals.push(Val::I(*r));
            vals.push(Val::T(c.clone()));
        }
        on_tx!(tx, |c| bind_all!(sqlx::query(&sql).bind(org_id), &vals)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    let controls: BTreeSet<&str> = control_pairs.iter().map(|(_, c)| c.as_str()).collect();
    mark_risk_treatment(tx, org_id, &controls).await
}

/// Makes "risk_treatment" a reason for inclusion of every applicable SoA
/// entry of `controls` that lacks it: one UPDATE, its version bumped and
/// the change audited like any other edit of the entry.
async fn mark_risk_treatment(tx: &mut Tx, org_id: i64, controls: &BTreeSet<&str>) -> Result<()> {
    if controls.is_empty() {
        return Ok(());
    }
    crate::soa::ensure_in_tx_for(tx, org_id).await?;
    let vals: Vec<Val> = controls.iter().map(|c| Val::T((*c).to_owned())).collect();
    let at = now();
    let sql = format!(
        "UPDATE soa_entries SET reasons = CASE WHEN reasons = '' THEN 'risk_treatment' ELSE 'risk_treatment,' || reasons END, \
         version = version + 1, updated_at = $2, updated_by = 'system' \
         WHERE org_id = $1 AND applicable AND reasons NOT LIKE '%risk_treatment%' AND control_id IN ({}) \
         RETURNING control_id",
        placeholders(3, vals.len())
    );
    let changed: Vec<(String,)> = on_tx!(tx, |c| bind_all!(
        sqlx::query_as(&sql).bind(org_id).bind(&at),
        &vals
    )
    .fetch_all(c)
    .await)?;
    if !changed.is_empty() {
        let mut ids: Vec<String> = changed.into_iter().map(|(c,)| c).collect();
        ids.sort_by_key(|c| control_order(c));
        audit::record(
            tx,
            &Actor::system(),
            Change {
                org_id,
                action: "update",
                entity_type: "soa_entry",
                entity_id: ids.join(","),
                before: None,
                after: Some(json!({"reason_added": "risk_treatment", "controls": ids})),
            },
        )
        .await?;
    }
    Ok(())
}

/// Fills the links and the latest acceptance of `risks` (three queries).
async fn fill_links(tx: &mut Tx, org_id: i64, risks: &mut [Risk]) -> Result<()> {
    if risks.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = risks.iter().map(|r| r.id).collect();
    // The three kinds of link in one statement (one round trip instead of
    // three): kind 0 an asset, 1 an Annex A control, 2 an applied control.
    // The ids travel as one parameter, whatever their number (an export
    // reads a thousand at a time).
    let in_ids = ids_condition(tx, "risk_id");
    let sql_links = format!(
        "SELECT risk_id, CAST(0 AS BIGINT) AS kind, asset_id AS num, CAST('' AS TEXT) AS txt FROM risk_assets \
         WHERE org_id = $1 AND {in_ids} \
         UNION ALL SELECT risk_id, 1, 0, control_id FROM risk_controls WHERE org_id = $1 AND {in_ids} \
         UNION ALL SELECT risk_id, 2, applied_control_id, '' FROM risk_applied_controls \
         WHERE org_id = $1 AND {in_ids} \
         ORDER BY 1, 2, 3"
    );
    let links: Vec<(i64, i64, i64, String)> = match tx {
        Tx::Sqlite(t) => {
            sqlx::query_as(&sql_links)
                .bind(org_id)
                .bind(json_ids(&ids))
                .fetch_all(&mut **t)
                .await?
        }
        Tx::Postgres(t) => {
            sqlx::query_as(&sql_links)
                .bind(org_id)
                .bind(&ids)
                .fetch_all(&mut **t)
                .await?
        }
    };
    // Only an accepted risk shows its acceptance: most pages need no query.
    let accepted: Vec<Val> = risks
        .iter()
        .filter(|r| r.status == RiskStatus::Accepted)
        .map(|r| Val::I(r.id))
        .collect();
    let acceptances: Vec<Acceptance> = if accepted.is_empty() {
        Vec::new()
    } else {
        let sql_acceptances = format!(
            "SELECT risk_id, residual_level, accepted_by, accepted_at, comment, valid_until, is_override \
             FROM risk_acceptances a WHERE org_id = $1 AND risk_id IN ({}) \
             AND id = (SELECT MAX(id) FROM risk_acceptances b WHERE b.org_id = a.org_id AND b.risk_id = a.risk_id)",
            placeholders(2, accepted.len())
        );
        on_tx!(tx, |c| bind_all!(
            sqlx::query_as(&sql_acceptances).bind(org_id),
            &accepted
        )
        .fetch_all(c)
        .await)?
    };
    let mut by_id: HashMap<i64, &mut Risk> = risks.iter_mut().map(|r| (r.id, r)).collect();
    for (r, kind, num, txt) in links {
        if let Some(risk) = by_id.get_mut(&r) {
            match kind {
                0 => risk.asset_ids.push(num),
                1 => risk.annex_a_controls.push(txt),
                _ => risk.applied_controls.push(num),
            }
        }
    }
    for a in acceptances {
        if let Some(risk) = by_id.get_mut(&a.risk_id) {
            risk.acceptance = Some(a);
        }
    }
    for r in risks.iter_mut() {
        r.annex_a_controls.sort_by_key(|c| control_order(c));
    }
    Ok(())
}

async fn risk_in_tx(tx: &mut Tx, org_id: i64, id: i64) -> Result<Option<Risk>> {
    let row = on_tx!(tx, |c| sqlx::query_as::<_, RiskRow>(&format!(
        "SELECT {RISK_COLS} {RISK_FROM} AND r.id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(c)
    .await)?;
    let Some(row) = row else { return Ok(None) };
    let mut v = [row.into_risk()?];
    fill_links(tx, org_id, &mut v).await?;
    let [r] = v;
    Ok(Some(r))
}

fn risk_missing(id: i64) -> StoreError {
    StoreError::NotFound(format!("no risk {id} in this organisation"))
}

/// The terms of a text filter: runs of letters and digits, lower-cased, at
/// most eight; each matches a word of a risk's title or description that
/// starts with it.
fn search_terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .take(8)
        .collect()
}

/// An FTS5 query: every term as a quoted prefix (terms hold no quote).
fn fts5_query(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{t}\"*"))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// A PostgreSQL tsquery over the indexed prefixes: all terms required.
/// The terms are runs of letters and digits, so none is an operator.
fn pg_tsquery(terms: &[String]) -> String {
    terms.join(" & ")
}

fn search_text(r: &Risk) -> String {
    format!("{} {}", r.title, r.description).to_lowercase()
}

/// How the register is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RiskSort {
    /// Highest inherent level first, then oldest.
    #[default]
    Level,
    /// Highest residual level first, then oldest.
    Residual,
    /// Oldest first.
    Created,
}

impl std::str::FromStr for RiskSort {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "" | "level" | "-level" => Ok(RiskSort::Level),
            "residual" | "residual_level" | "-residual_level" => Ok(RiskSort::Residual),
            "created" | "id" => Ok(RiskSort::Created),
            other => Err(invalid(format!(
                "sort: unknown sort '{other}': use level, residual or created"
            ))),
        }
    }
}

impl RiskSort {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskSort::Level => "level",
            RiskSort::Residual => "residual",
            RiskSort::Created => "created",
        }
    }
}

/// Filters of the register; `after` is the `next` of the previous page.
#[derive(Debug, Clone, Default)]
pub struct RiskQuery {
    /// Words that must all start a word of the title or description
    /// (read from the full-text index of migration 0020).
    pub q: Option<String>,
    pub status: Option<RiskStatus>,
    pub treatment: Option<Treatment>,
    /// Only risks whose inherent level is at least this index.
    pub min_level: Option<i64>,
    pub asset_id: Option<i64>,
    pub control_id: Option<String>,
    pub sort: RiskSort,
    pub limit: i64,
    pub after: Option<String>,
}

/// One page of the register.
#[derive(Debug, Clone, Serialize)]
pub struct RiskPage {
    pub items: Vec<Risk>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next: Option<String>,
}

/// A risk as listed from elsewhere (the SoA entry of a control).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RiskRef {
    pub id: i64,
    pub title: String,
    pub residual_level: i64,
    pub status: String,
}

/// One risk row of an import, as read from the file: every field text.
#[derive(Debug, Clone, Default)]
pub struct ImportRiskRow {
    /// Row number in the file (the header is row 1).
    pub row: usize,
    pub title: String,
    pub description: String,
    /// Asset names.
    pub assets: Vec<String>,
    pub likelihood: String,
    pub impact: String,
    pub treatment: String,
    pub annex_a_controls: Vec<String>,
    pub residual_likelihood: String,
    pub residual_impact: String,
    /// E-mail of a member, or empty.
    pub owner: String,
}

/// What is wrong with one cell of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub why: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}, column {}: {}", self.row, self.column, self.why)
    }
}

/// The outcome of an import: errors (nothing stored), or what was (or,
/// in a dry run, would be) created.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportOutcome {
    pub errors: Vec<RowError>,
    pub risks: usize,
    pub new_assets: Vec<String>,
    pub dry_run: bool,
}

/// One asset row of an asset import.
#[derive(Debug, Clone, Default)]
pub struct ImportAssetRow {
    pub row: usize,
    pub name: String,
    pub asset_type: String,
    pub description: String,
    pub owner: String,
    pub location: String,
    pub classification: String,
}

fn parse_score(row: usize, column: &str, v: &str, errors: &mut Vec<RowError>) -> Option<i64> {
    let parsed = v.trim().parse::<i64>().ok();
    if parsed.is_none() {
        errors.push(RowError {
            row,
            column: column.into(),
            why: format!("'{}' is not a whole number", v.trim()),
        });
    }
    parsed
}

impl Store {
    /// Adds a risk to the register.
    pub async fn create_risk(&self, org_id: i64, input: &RiskInput, actor: &Actor) -> Result<Risk> {
        for (field, missing) in [
            (
                "title",
                input.title.as_deref().is_none_or(|t| t.trim().is_empty()),
            ),
            ("likelihood", input.likelihood.is_none()),
            ("impact", input.impact.is_none()),
            ("treatment", input.treatment.is_none()),
        ] {
            if missing {
                return Err(invalid(format!("{field}: required")));
            }
        }
        let mut tx = self.begin().await?;
        let m = methodology_in_tx(&mut tx, org_id).await?;
        let at = now();
        let l = input.likelihood.unwrap_or(1);
        let i = input.impact.unwrap_or(1);
        let mut r = Risk {
            id: 0,
            title: String::new(),
            description: String::new(),
            threat: String::new(),
            vulnerability: String::new(),
            consequence: String::new(),
            owner: None,
            owner_user_id: None,
            likelihood: l,
            impact: i,
            inherent_level: 0,
            treatment: Treatment::Modify,
            residual_likelihood: input.residual_likelihood.unwrap_or(l),
            residual_impact: input.residual_impact.unwrap_or(i),
            residual_level: 0,
            status: RiskStatus::Assessed,
            next_review: String::new(),
            asset_ids: Vec::new(),
            annex_a_controls: Vec::new(),
            applied_controls: Vec::new(),
            acceptance: None,
            version: 1,
            created_at: at.clone(),
            updated_at: at.clone(),
            updated_by: actor.label.clone(),
        };
        apply_risk_input(&m, &mut r, input)?;
        if r.status == RiskStatus::Accepted {
            return Err(invalid(
                "status: a new risk is accepted through its accept action, not by status",
            ));
        }
        (r.owner_user_id, r.owner) =
            resolve_owner(&mut tx, org_id, input.owner.as_deref(), (None, None)).await?;
        r.asset_ids =
            check_assets(&mut tx, org_id, input.asset_ids.as_deref().unwrap_or(&[])).await?;
        r.annex_a_controls = control_ids(input.annex_a_controls.as_deref().unwrap_or(&[]))?;
        r.applied_controls = check_applied_controls(
            &mut tx,
            org_id,
            input.applied_controls.as_deref().unwrap_or(&[]),
        )
        .await?;
        let (id,): (i64,) = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO risks (org_id, title, description, threat, vulnerability, consequence, search_text, owner_user_id, \
             likelihood, impact, inherent_level, treatment, residual_likelihood, residual_impact, residual_level, status, \
             next_review, created_at, created_by, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $18, $19) RETURNING id"
        )
        .bind(org_id)
        .bind(&r.title)
        .bind(&r.description)
        .bind(&r.threat)
        .bind(&r.vulnerability)
        .bind(&r.consequence)
        .bind(search_text(&r))
        .bind(r.owner_user_id)
        .bind(r.likelihood)
        .bind(r.impact)
        .bind(r.inherent_level)
        .bind(r.treatment.as_str())
        .bind(r.residual_likelihood)
        .bind(r.residual_impact)
        .bind(r.residual_level)
        .bind(r.status.as_str())
        .bind(&r.next_review)
        .bind(&at)
        .bind(&actor.label)
        .fetch_one(c)
        .await
        })?;
        r.id = id;
        write_links(
            &mut tx,
            org_id,
            &[(id, &r.asset_ids, &r.annex_a_controls)],
            false,
        )
        .await?;
        if !r.applied_controls.is_empty() {
            write_applied_controls(&mut tx, org_id, id, &r.applied_controls).await?;
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "risk",
                entity_id: id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&r).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(r)
    }

    pub async fn risk(&self, org_id: i64, id: i64) -> Result<Risk> {
        let mut tx = self.read_tx().await?;
        risk_in_tx(&mut tx, org_id, id)
            .await?
            .ok_or_else(|| risk_missing(id))
    }

    /// Changes a risk if `version` is current.
    pub async fn update_risk(
        &self,
        org_id: i64,
        id: i64,
        input: &RiskInput,
        actor: &Actor,
    ) -> Result<Risk> {
        let Some(sent) = input.version else {
            return Err(versioned::version_required(" of the risk"));
        };
        let mut tx = self.begin().await?;
        let before = versioned::claim_and_load(
            &mut tx,
            &Target {
                table: "risks",
                org_id,
                keys: &[("id", Key::Int(id))],
            },
            sent,
            &format!("risk {id}"),
            async |tx| risk_in_tx(tx, org_id, id).await,
            || risk_missing(id),
        )
        .await?;
        let m = methodology_in_tx(&mut tx, org_id).await?;
        let mut after = before.clone();
        apply_risk_input(&m, &mut after, input)?;
        if after.status == RiskStatus::Accepted && before.status != RiskStatus::Accepted {
            return Err(invalid(
                "status: a risk is accepted through its accept action, which records who accepted it and why",
            ));
        }
        if after.status != RiskStatus::Accepted {
            after.acceptance = None;
        }
        (after.owner_user_id, after.owner) = resolve_owner(
            &mut tx,
            org_id,
            input.owner.as_deref(),
            (before.owner_user_id, before.owner.clone()),
        )
        .await?;
        if let Some(a) = &input.asset_ids {
            after.asset_ids = check_assets(&mut tx, org_id, a).await?;
        }
        if let Some(c) = &input.annex_a_controls {
            after.annex_a_controls = control_ids(c)?;
        }
        if let Some(a) = &input.applied_controls {
            after.applied_controls = check_applied_controls(&mut tx, org_id, a).await?;
        }
        if after == before {
            return Ok(before);
        }
        after.version = sent + 1;
        after.updated_at = now();
        after.updated_by.clone_from(&actor.label);
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE risks SET title = $1, description = $2, threat = $3, vulnerability = $4, consequence = $5, \
             search_text = $6, owner_user_id = $7, likelihood = $8, impact = $9, inherent_level = $10, treatment = $11, \
             residual_likelihood = $12, residual_impact = $13, residual_level = $14, status = $15, next_review = $16, \
             updated_at = $17, updated_by = $18 WHERE org_id = $19 AND id = $20"
        )
        .bind(&after.title)
        .bind(&after.description)
        .bind(&after.threat)
        .bind(&after.vulnerability)
        .bind(&after.consequence)
        .bind(search_text(&after))
        .bind(after.owner_user_id)
        .bind(after.likelihood)
        .bind(after.impact)
        .bind(after.inherent_level)
        .bind(after.treatment.as_str())
        .bind(after.residual_likelihood)
        .bind(after.residual_impact)
        .bind(after.residual_level)
        .bind(after.status.as_str())
        .bind(&after.next_review)
        .bind(&after.updated_at)
        .bind(&after.updated_by)
        .bind(org_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if after.asset_ids != before.asset_ids || after.annex_a_controls != before.annex_a_controls
        {
            write_links(
                &mut tx,
                org_id,
                &[(id, &after.asset_ids, &after.annex_a_controls)],
                true,
            )
            .await?;
        }
        if after.applied_controls != before.applied_controls {
            write_applied_controls(&mut tx, org_id, id, &after.applied_controls).await?;
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "update",
                entity_type: "risk",
                entity_id: id.to_string(),
                before: Some(serde_json::to_value(&before).unwrap_or_default()),
                after: Some(serde_json::to_value(&after).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Accepts the residual risk. Above the acceptance criteria only an
    /// administrator's explicit override accepts; the override is recorded
    /// in the acceptance and in the audit entry. `version`, if sent, must be
    /// current.
    #[allow(clippy::too_many_arguments)]
    pub async fn accept_risk(
        &self,
        org_id: i64,
        id: i64,
        who: Acceptor,
        comment: &str,
        override_asked: bool,
        valid_until: &str,
        version: Option<i64>,
        actor: &Actor,
    ) -> Result<std::result::Result<Risk, AcceptRefused>> {
        check_date("until", valid_until.trim())?;
        let mut tx = self.begin().await?;
        let current = risk_in_tx(&mut tx, org_id, id)
            .await?
            .ok_or_else(|| risk_missing(id))?;
        let sent = version.unwrap_or(current.version);
        let claim = versioned::claim(
            &mut tx,
            &Target {
                table: "risks",
                org_id,
                keys: &[("id", Key::Int(id))],
            },
            sent,
        )
        .await?;
        match claim {
            Claim::Missing => return Err(risk_missing(id)),
            Claim::Stale { current: now_v } => {
                return Err(versioned::stale(
                    &format!("risk {id}"),
                    now_v,
                    sent,
                    &current.updated_by,
                    &current.updated_at,
                ));
            }
            Claim::Won => {}
        }
        // Re-read under the claim: the row cannot change until we commit.
        let before = risk_in_tx(&mut tx, org_id, id)
            .await?
            .ok_or_else(|| risk_missing(id))?;
        let m = methodology_in_tx(&mut tx, org_id).await?;
        let is_override = match rules::may_accept(
            &m,
            before.residual_level as usize,
            who,
            override_asked,
            comment,
        ) {
            Ok(o) => o,
            // Dropping the transaction rolls back the claim.
            Err(refused) => return Ok(Err(refused)),
        };
        let at = now();
        let acceptance = Acceptance {
            risk_id: id,
            residual_level: before.residual_level,
            accepted_by: actor.label.clone(),
            accepted_at: at.clone(),
            comment: comment.trim().to_owned(),
            valid_until: valid_until.trim().to_owned(),
            is_override,
        };
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "INSERT INTO risk_acceptances (org_id, risk_id, residual_level, accepted_by_user_id, accepted_by, accepted_at, comment, valid_until, is_override) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(org_id)
        .bind(id)
        .bind(acceptance.residual_level)
        .bind(actor.user_id)
        .bind(&acceptance.accepted_by)
        .bind(&acceptance.accepted_at)
        .bind(&acceptance.comment)
        .bind(&acceptance.valid_until)
        .bind(is_override)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        let mut after = before.clone();
        after.status = RiskStatus::Accepted;
        after.acceptance = Some(acceptance.clone());
        after.version = before.version + 1;
        after.updated_at.clone_from(&at);
        after.updated_by.clone_from(&actor.label);
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE risks SET status = 'accepted', updated_at = $1, updated_by = $2 WHERE org_id = $3 AND id = $4"
        )
        .bind(&at)
        .bind(&actor.label)
        .bind(org_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: if is_override { "accept_override" } else { "accept" },
                entity_type: "risk",
                entity_id: id.to_string(),
                before: Some(json!({"status": before.status, "residual_level": m.level_name(before.residual_level as usize)})),
                after: Some(json!({
                    "status": "accepted",
                    "residual_level": m.level_name(before.residual_level as usize),
                    "comment": acceptance.comment,
                    "until": acceptance.valid_until,
                    "override": is_override,
                    "criteria_max_level": m.level_name(m.max_acceptable_level),
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(after))
    }

    /// Deletes a risk and its links.
    pub async fn delete_risk(&self, org_id: i64, id: i64, actor: &Actor) -> Result<()> {
        let mut tx = self.begin().await?;
        let before = risk_in_tx(&mut tx, org_id, id)
            .await?
            .ok_or_else(|| risk_missing(id))?;
        on_tx!(&mut tx, |c| sqlx::query(
            "DELETE FROM risks WHERE org_id = $1 AND id = $2"
        )
        .bind(org_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "delete",
                entity_type: "risk",
                entity_id: id.to_string(),
                before: Some(serde_json::to_value(&before).unwrap_or_default()),
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// One page of the register: filtered and sorted in SQL, paged by key
    /// (`next` is the sort key of the last row), links filled in three
    /// more queries.
    pub async fn risks(&self, org_id: i64, query: &RiskQuery) -> Result<RiskPage> {
        let mut sql = format!("SELECT {RISK_COLS} {RISK_FROM}");
        let mut vals: Vec<Val> = Vec::new();
        let mut push = |sql: &mut String, cond: &str, v: Val| {
            vals.push(v);
            let _ = write!(
                sql,
                " AND {}",
                cond.replace('?', &format!("${}", vals.len() + 1))
            );
        };
        if let Some(q) = &query.q {
            let terms = search_terms(q);
            if !terms.is_empty() {
                if self.engine() == "postgres" {
                    push(
                        &mut sql,
                        // Every prefix of every word (runs of letters and digits,
                        // as SQLite's FTS5 splits them) is indexed (migration
                        // 0022): each term is an exact lookup.
                        "risk_word_prefixes(r.search_text) @@ to_tsquery('simple', ?)",
                        Val::T(pg_tsquery(&terms)),
                    );
                } else {
                    push(
                        &mut sql,
                        "r.id IN (SELECT rowid FROM risks_fts WHERE risks_fts MATCH ?)",
                        Val::T(fts5_query(&terms)),
                    );
                }
            }
        }
        if let Some(s) = query.status {
            push(&mut sql, "r.status = ?", Val::T(s.as_str().into()));
        }
        if let Some(t) = query.treatment {
            push(&mut sql, "r.treatment = ?", Val::T(t.as_str().into()));
        }
        if let Some(l) = query.min_level {
            push(&mut sql, "r.inherent_level >= ?", Val::I(l));
        }
        if let Some(a) = query.asset_id {
            push(
                &mut sql,
                "r.id IN (SELECT risk_id FROM risk_assets ra WHERE ra.org_id = r.org_id AND ra.asset_id = ?)",
                Val::I(a),
            );
        }
        if let Some(c) = &query.control_id {
            push(
                &mut sql,
                "r.id IN (SELECT risk_id FROM risk_controls rc WHERE rc.org_id = r.org_id AND rc.control_id = ?)",
                Val::T(c.clone()),
            );
        }
        let level_col = match query.sort {
            RiskSort::Level => Some("inherent_level"),
            RiskSort::Residual => Some("residual_level"),
            RiskSort::Created => None,
        };
        let mut keyset = None;
        if let Some(after) = query.after.as_deref().filter(|a| !a.is_empty()) {
            let bad = || {
                invalid(format!(
                    "after: '{after}' is not a page key of this list: use the `next` of the previous page"
                ))
            };
            if level_col.is_some() {
                let (lvl, id) = after.split_once('.').ok_or_else(bad)?;
                let lvl: i64 = lvl.parse().map_err(|_| bad())?;
                let id: i64 = id.parse().map_err(|_| bad())?;
                vals.push(Val::I(lvl));
                vals.push(Val::I(id));
                keyset = Some((vals.len(), vals.len() + 1));
            } else {
                let id: i64 = after.parse().map_err(|_| bad())?;
                vals.push(Val::I(id));
                let _ = write!(sql, " AND r.id > ${}", vals.len() + 1);
            }
        }
        let limit = query.limit.clamp(1, MAX_PAGE);
        let sql = match (level_col, keyset) {
            (Some(col), Some(after)) => after_key_sql(&sql, col, after, limit + 1),
            (Some(col), None) => {
                format!("{sql} ORDER BY r.{col} DESC, r.id ASC LIMIT {}", limit + 1)
            }
            (None, _) => format!("{sql} ORDER BY r.id ASC LIMIT {}", limit + 1),
        };
        // The page and its links read in one snapshot.
        let mut tx = self.read_tx().await?;
        let rows: Vec<RiskRow> = on_tx!(&mut tx, |c| bind_all!(
            sqlx::query_as::<_, RiskRow>(&sql).bind(org_id),
            &vals
        )
        .fetch_all(c)
        .await)?;
        let more = rows.len() as i64 > limit;
        let mut items = rows
            .into_iter()
            .take(limit as usize)
            .map(RiskRow::into_risk)
            .collect::<Result<Vec<_>>>()?;
        fill_links(&mut tx, org_id, &mut items).await?;
        drop(tx);
        let next = if more {
            items.last().map(|r| match query.sort {
                RiskSort::Level => format!("{}.{}", r.inherent_level, r.id),
                RiskSort::Residual => format!("{}.{}", r.residual_level, r.id),
                RiskSort::Created => r.id.to_string(),
            })
        } else {
            None
        };
        Ok(RiskPage { items, next })
    }

    /// Every risk of the organisation in register order (for exports).
    pub async fn all_risks(&self, org_id: i64) -> Result<Vec<Risk>> {
        let rows: Vec<RiskRow> = on_pool!(self, |p| sqlx::query_as::<_, RiskRow>(&format!(
            "SELECT {RISK_COLS} {RISK_FROM} ORDER BY r.inherent_level DESC, r.id ASC"
        ))
        .bind(org_id)
        .fetch_all(p)
        .await)?;
        let mut items = rows
            .into_iter()
            .map(RiskRow::into_risk)
            .collect::<Result<Vec<_>>>()?;
        let assets: Vec<(i64, i64)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT risk_id, asset_id FROM risk_assets WHERE org_id = $1 ORDER BY asset_id"
        )
        .bind(org_id)
        .fetch_all(p)
        .await)?;
        let controls: Vec<(i64, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT risk_id, control_id FROM risk_controls WHERE org_id = $1"
        )
        .bind(org_id)
        .fetch_all(p)
        .await)?;
        let index: HashMap<i64, usize> = items.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        for (r, a) in assets {
            if let Some(&i) = index.get(&r) {
                items[i].asset_ids.push(a);
            }
        }
        for (r, c) in controls {
            if let Some(&i) = index.get(&r) {
                items[i].annex_a_controls.push(c);
            }
        }
        for r in &mut items {
            r.annex_a_controls.sort_by_key(|c| control_order(c));
        }
        Ok(items)
    }

    /// Id and name of every asset (for exports and imports).
    pub async fn asset_names(&self, org_id: i64) -> Result<Vec<(i64, String)>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT id, name FROM assets WHERE org_id = $1 ORDER BY id"
        )
        .bind(org_id)
        .fetch_all(p)
        .await)?)
    }

    /// The risks that name an Annex A control as treatment, highest residual first.
    pub async fn risks_for_control(&self, org_id: i64, control_id: &str) -> Result<Vec<RiskRef>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, RiskRef>(
            "SELECT r.id, r.title, r.residual_level, r.status FROM risk_controls rc \
             JOIN risks r ON r.org_id = rc.org_id AND r.id = rc.risk_id \
             WHERE rc.org_id = $1 AND rc.control_id = $2 ORDER BY r.residual_level DESC, r.id"
        )
        .bind(org_id)
        .bind(control_id)
        .fetch_all(p)
        .await)?)
    }

    /// The risks an applied control treats, highest residual first.
    pub async fn risks_for_applied_control(
        &self,
        org_id: i64,
        applied_control_id: i64,
    ) -> Result<Vec<RiskRef>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, RiskRef>(
            "SELECT r.id, r.title, r.residual_level, r.status FROM risk_applied_controls rc \
             JOIN risks r ON r.org_id = rc.org_id AND r.id = rc.risk_id \
             WHERE rc.org_id = $1 AND rc.applied_control_id = $2 ORDER BY r.residual_level DESC, r.id"
        )
        .bind(org_id)
        .bind(applied_control_id)
        .fetch_all(p)
        .await
        })?)
    }

    /// Id, name and status of the applied controls `ids` of the organisation.
    pub async fn applied_control_names(
        &self,
        org_id: i64,
        ids: &[i64],
    ) -> Result<Vec<(i64, String, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let vals: Vec<Val> = ids.iter().map(|i| Val::I(*i)).collect();
        let sql = format!(
            "SELECT id, name, status FROM applied_controls WHERE org_id = $1 AND id IN ({}) ORDER BY id",
            placeholders(2, vals.len())
        );
        Ok(on_pool!(self, |p| bind_all!(
            sqlx::query_as(&sql).bind(org_id),
            &vals
        )
        .fetch_all(p)
        .await)?)
    }

    /// How many open risks sit in each (likelihood, impact) cell, inherent
    /// and residual: the few rows of the counts the triggers of migration
    /// 0022 keep, not a count over the register.
    pub async fn risk_heat(&self, org_id: i64) -> Result<HeatCells> {
        self.heat_cells(org_id, "risk_heat").await
    }

    /// The same counted over the register itself (what the kept counts must
    /// equal; for tests and checks).
    pub async fn risk_heat_recounted(&self, org_id: i64) -> Result<HeatCells> {
        self.heat_cells(org_id, &format!("({HEAT_CELLS}) counted"))
            .await
    }

    async fn heat_cells(&self, org_id: i64, from: &str) -> Result<HeatCells> {
        let sql = format!(
            "SELECT residual, likelihood, impact, n FROM {from} \
             WHERE org_id = $1 AND n > 0 ORDER BY residual, likelihood, impact"
        );
        let cells: Vec<(i64, i64, i64, i64)> = on_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org_id)
            .fetch_all(p)
            .await)?;
        let (mut inherent, mut residual) = (Vec::new(), Vec::new());
        for (kind, l, i, n) in cells {
            if kind == 0 {
                inherent.push((l, i, n));
            } else {
                residual.push((l, i, n));
            }
        }
        Ok((inherent, residual))
    }

    /// Imports risks: every row is checked first and every bad cell named;
    /// unless all rows are good (or in a dry run) nothing is stored. Assets
    /// are named; a name not yet known creates an information asset.
    #[allow(clippy::many_single_char_names)]
    pub async fn import_risks(
        &self,
        org_id: i64,
        rows: &[ImportRiskRow],
        dry_run: bool,
        actor: &Actor,
    ) -> Result<ImportOutcome> {
        if rows.len() > MAX_IMPORT_ROWS {
            return Err(invalid(format!(
                "the file has {} rows; one import takes at most {MAX_IMPORT_ROWS}",
                rows.len()
            )));
        }
        let mut tx = self.begin().await?;
        let m = methodology_in_tx(&mut tx, org_id).await?;
        let known: Vec<(i64, String)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT id, name FROM assets WHERE org_id = $1"
        )
        .bind(org_id)
        .fetch_all(c)
        .await)?;
        let mut asset_ids: HashMap<String, i64> = known
            .into_iter()
            .map(|(id, n)| (n.to_lowercase(), id))
            .collect();
        let members: Vec<(i64, String)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "SELECT u.id, u.email FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.org_id = $1 AND m.active"
        )
        .bind(org_id)
        .fetch_all(c)
        .await
        })?;
        let members: HashMap<String, i64> = members.into_iter().map(|(i, e)| (e, i)).collect();
        let mut errors = Vec::new();
        let mut new_assets: Vec<String> = Vec::new();
        let mut parsed: Vec<(Risk, Vec<String>)> = Vec::with_capacity(rows.len());
        let at = now();
        for row in rows {
            let n = row.row;
            let before = errors.len();
            let title = row.title.trim();
            if title.is_empty() || title.chars().count() > 300 {
                errors.push(RowError {
                    row: n,
                    column: "title".into(),
                    why: "1 to 300 characters".into(),
                });
            }
            let scores: Vec<Option<i64>> = [
                ("likelihood", &row.likelihood, false),
                ("impact", &row.impact, true),
                ("residual_likelihood", &row.residual_likelihood, false),
                ("residual_impact", &row.residual_impact, true),
            ]
            .iter()
            .map(|(col, v, is_impact)| {
                if v.trim().is_empty() && col.starts_with("residual") {
                    return None;
                }
                let s = parse_score(n, col, v, &mut errors)?;
                match m.check_score(col, s, *is_impact) {
                    Ok(_) => Some(s),
                    Err(e) => {
                        errors.push(RowError {
                            row: n,
                            column: e.field,
                            why: e.why,
                        });
                        None
                    }
                }
            })
            .collect();
            let treatment = match row.treatment.parse::<Treatment>() {
                Ok(t) => Some(t),
                Err(e) => {
                    errors.push(RowError {
                        row: n,
                        column: "treatment".into(),
                        why: e.to_string(),
                    });
                    None
                }
            };
            let owner = row.owner.trim().to_lowercase();
            let owner_id = if owner.is_empty() {
                None
            } else if let Some(id) = members.get(&owner) {
                Some(*id)
            } else {
                errors.push(RowError {
                    row: n,
                    column: "owner".into(),
                    why: format!("{owner} is not an active member of this organisation"),
                });
                None
            };
            let mut controls = Vec::new();
            for c in &row.annex_a_controls {
                match rules::normalise_control_id(c) {
                    Some(id) => controls.push(id),
                    None => errors.push(RowError {
                        row: n,
                        column: "annex_a_controls".into(),
                        why: format!("'{c}' is not an Annex A control (5.1 .. 8.34)"),
                    }),
                }
            }
            for a in &row.assets {
                if a.trim().chars().count() > 200 {
                    errors.push(RowError {
                        row: n,
                        column: "assets".into(),
                        why: "an asset name has at most 200 characters".into(),
                    });
                }
            }
            if errors.len() > before {
                continue;
            }
            let (Some(l), Some(i), Some(t)) = (scores[0], scores[1], treatment) else {
                continue;
            };
            let rl = scores[2].unwrap_or(l);
            let ri = scores[3].unwrap_or(i);
            let names: Vec<String> = row
                .assets
                .iter()
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect();
            for a in &names {
                let key = a.to_lowercase();
                if let std::collections::hash_map::Entry::Vacant(e) = asset_ids.entry(key) {
                    e.insert(0);
                    new_assets.push(a.clone());
                }
            }
            let controls = control_ids(&controls)?;
            parsed.push((
                Risk {
                    id: 0,
                    title: title.to_owned(),
                    description: row.description.trim().to_owned(),
                    threat: String::new(),
                    vulnerability: String::new(),
                    consequence: String::new(),
                    owner: (!owner.is_empty()).then(|| owner.clone()),
                    owner_user_id: owner_id,
                    likelihood: l,
                    impact: i,
                    inherent_level: m.level_of(l as u8, i as u8) as i64,
                    treatment: t,
                    residual_likelihood: rl,
                    residual_impact: ri,
                    residual_level: m.level_of(rl as u8, ri as u8) as i64,
                    status: RiskStatus::Assessed,
                    next_review: String::new(),
                    asset_ids: Vec::new(),
                    annex_a_controls: controls,
                    applied_controls: Vec::new(),
                    acceptance: None,
                    version: 1,
                    created_at: at.clone(),
                    updated_at: at.clone(),
                    updated_by: actor.label.clone(),
                },
                names,
            ));
        }
        let outcome = ImportOutcome {
            errors,
            risks: parsed.len(),
            new_assets,
            dry_run,
        };
        if dry_run || !outcome.errors.is_empty() {
            // Nothing is stored: the transaction is dropped.
            return Ok(ImportOutcome {
                risks: if outcome.errors.is_empty() {
                    outcome.risks
                } else {
                    0
                },
                ..outcome
            });
        }
        // New assets, in chunks.
        for chunk in outcome.new_assets.chunks(ROW_CHUNK) {
            let mut sql = String::from(
                "INSERT INTO assets (org_id, name, asset_type, created_at, updated_at, updated_by) VALUES ",
            );
            let mut vals = Vec::new();
            for (i, name) in chunk.iter().enumerate() {
                let sep = if i == 0 { "" } else { ", " };
                let _ = write!(sql, "{sep}($1, ${}, 'information', $2, $2, $3)", i + 4);
                vals.push(Val::T(name.clone()));
            }
            sql.push_str(" RETURNING id, name");
            let created: Vec<(i64, String)> = on_tx!(&mut tx, |c| bind_all!(
                sqlx::query_as(&sql)
                    .bind(org_id)
                    .bind(&at)
                    .bind(&actor.label),
                &vals
            )
            .fetch_all(c)
            .await)?;
            for (id, name) in created {
                asset_ids.insert(name.to_lowercase(), id);
            }
        }
        // Risks, in chunks; RETURNING gives the ids, matched back by position
        // and checked by title.
        let mut links: Vec<(i64, Vec<i64>, Vec<String>)> = Vec::with_capacity(parsed.len());
        for chunk in parsed.chunks(ROW_CHUNK) {
            let mut sql = String::from(
                "INSERT INTO risks (org_id, created_at, updated_at, created_by, updated_by, title, description, search_text, owner_user_id, \
                 likelihood, impact, inherent_level, treatment, residual_likelihood, residual_impact, residual_level, status) VALUES ",
            );
            let mut vals: Vec<Val> = Vec::with_capacity(chunk.len() * IMPORT_COLS);
            for (i, (r, _)) in chunk.iter().enumerate() {
                let base = 4 + i * IMPORT_COLS;
                let sep = if i == 0 { "" } else { ", " };
                // The owner's id, 0 for none: NULLIF keeps every bind an integer.
                let ps: Vec<String> = (0..IMPORT_COLS)
                    .map(|k| {
                        if k == 3 {
                            format!("NULLIF(${}, 0)", base + k)
                        } else {
                            format!("${}", base + k)
                        }
                    })
                    .collect();
                let _ = write!(sql, "{sep}($1, $2, $2, $3, $3, {})", ps.join(", "));
                vals.extend([
                    Val::T(r.title.clone()),
                    Val::T(r.description.clone()),
                    Val::T(search_text(r)),
                    Val::I(r.owner_user_id.unwrap_or(0)),
                    Val::I(r.likelihood),
                    Val::I(r.impact),
                    Val::I(r.inherent_level),
                    Val::T(r.treatment.as_str().into()),
                    Val::I(r.residual_likelihood),
                    Val::I(r.residual_impact),
                    Val::I(r.residual_level),
                    Val::T(r.status.as_str().into()),
                ]);
            }
            sql.push_str(" RETURNING id, title");
            let ids: Vec<(i64, String)> = on_tx!(&mut tx, |c| bind_all!(
                sqlx::query_as(&sql)
                    .bind(org_id)
                    .bind(&at)
                    .bind(&actor.label),
                &vals
            )
            .fetch_all(c)
            .await)?;
            if ids.len() != chunk.len() {
                return Err(invalid("the import inserted an unexpected number of rows"));
            }
            for ((id, title), (r, names)) in ids.into_iter().zip(chunk) {
                if title != r.title {
                    return Err(invalid(
                        "the database returned imported rows out of order: nothing was stored",
                    ));
                }
                let a: BTreeSet<i64> = names
                    .iter()
                    .filter_map(|n| asset_ids.get(&n.to_lowercase()).copied())
                    .collect();
                links.push((id, a.into_iter().collect(), r.annex_a_controls.clone()));
            }
        }
        let refs: Vec<(i64, &[i64], &[String])> = links
            .iter()
            .map(|(id, a, c)| (*id, a.as_slice(), c.as_slice()))
            .collect();
        write_links(&mut tx, org_id, &refs, false).await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "import",
                entity_type: "risk",
                entity_id: format!(
                    "{}..{}",
                    links.first().map_or(0, |l| l.0),
                    links.last().map_or(0, |l| l.0)
                ),
                before: None,
                after: Some(json!({"risks": outcome.risks, "new_assets": outcome.new_assets})),
            },
        )
        .await?;
        tx.commit().await?;
        if outcome.risks >= 1000 {
            // A large import changes the tables' shape: let the planners
            // know before the next query (SQLite's statistics are small and
            // PostgreSQL's autovacuum may run only later).
            let analyze = match self.engine() {
                "postgres" => "ANALYZE risks, risk_assets, risk_controls",
                _ => "PRAGMA optimize",
            };
            if let Err(e) = on_pool!(self, |p| sqlx::query(analyze)
                .execute(p)
                .await
                .map(|r| r.rows_affected()))
            {
                tracing::warn!("statistics after the import: {e}");
            }
        }
        Ok(outcome)
    }

    /// Imports assets by name: every row checked first, nothing stored
    /// unless all are good; a name already present is a bad row.
    pub async fn import_assets(
        &self,
        org_id: i64,
        rows: &[ImportAssetRow],
        dry_run: bool,
        actor: &Actor,
    ) -> Result<ImportOutcome> {
        if rows.len() > MAX_IMPORT_ROWS {
            return Err(invalid(format!(
                "the file has {} rows; one import takes at most {MAX_IMPORT_ROWS}",
                rows.len()
            )));
        }
        let mut tx = self.begin().await?;
        let known: Vec<(String,)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT LOWER(name) FROM assets WHERE org_id = $1"
        )
        .bind(org_id)
        .fetch_all(c)
        .await)?;
        let mut seen: BTreeSet<String> = known.into_iter().map(|(n,)| n).collect();
        let members: Vec<(i64, String)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "SELECT u.id, u.email FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.org_id = $1 AND m.active"
        )
        .bind(org_id)
        .fetch_all(c)
        .await
        })?;
        let members: HashMap<String, i64> = members.into_iter().map(|(i, e)| (e, i)).collect();
        let mut errors = Vec::new();
        let mut good: Vec<(&ImportAssetRow, AssetType, Option<i64>)> = Vec::new();
        for row in rows {
            let before = errors.len();
            let name = row.name.trim();
            if name.is_empty() || name.chars().count() > 200 {
                errors.push(RowError {
                    row: row.row,
                    column: "name".into(),
                    why: "1 to 200 characters".into(),
                });
            } else if !seen.insert(name.to_lowercase()) {
                errors.push(RowError {
                    row: row.row,
                    column: "name".into(),
                    why: format!("an asset named '{name}' already exists (in the organisation or earlier in the file)"),
                });
            }
            let t = row.asset_type.parse::<AssetType>().map_err(|e| {
                errors.push(RowError {
                    row: row.row,
                    column: "type".into(),
                    why: e.to_string(),
                });
            });
            let owner = row.owner.trim().to_lowercase();
            let owner_id = if owner.is_empty() {
                None
            } else if let Some(id) = members.get(&owner) {
                Some(*id)
            } else {
                errors.push(RowError {
                    row: row.row,
                    column: "owner".into(),
                    why: format!("{owner} is not an active member of this organisation"),
                });
                None
            };
            if errors.len() == before
                && let Ok(t) = t
            {
                good.push((row, t, owner_id));
            }
        }
        let outcome = ImportOutcome {
            risks: 0,
            new_assets: good
                .iter()
                .map(|(r, _, _)| r.name.trim().to_owned())
                .collect(),
            dry_run,
            errors,
        };
        if dry_run || !outcome.errors.is_empty() {
            return Ok(outcome);
        }
        let at = now();
        for chunk in good.chunks(ROW_CHUNK) {
            let mut sql = String::from(
                "INSERT INTO assets (org_id, created_at, updated_at, updated_by, name, asset_type, description, location, classification, owner_user_id) VALUES ",
            );
            let mut vals = Vec::new();
            for (i, (r, t, o)) in chunk.iter().enumerate() {
                let b = 4 + i * 6;
                let sep = if i == 0 { "" } else { ", " };
                let _ = write!(
                    sql,
                    "{sep}($1, $2, $2, $3, ${}, ${}, ${}, ${}, ${}, NULLIF(${}, 0))",
                    b,
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5
                );
                vals.extend([
                    Val::T(r.name.trim().to_owned()),
                    Val::T(t.as_str().into()),
                    Val::T(r.description.trim().to_owned()),
                    Val::T(r.location.trim().to_owned()),
                    Val::T(r.classification.trim().to_owned()),
                    Val::I(o.unwrap_or(0)),
                ]);
            }
            on_tx!(&mut tx, |c| bind_all!(
                sqlx::query(&sql).bind(org_id).bind(&at).bind(&actor.label),
                &vals
            )
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "import",
                entity_type: "asset",
                entity_id: String::new(),
                before: None,
                after: Some(json!({"assets": outcome.new_assets})),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }
}

versioned::versioned_record!(Asset, Risk, RiskAction);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_filters_become_queries_of_word_prefixes() {
        let t = search_terms("Ransom-ware  \"backup\" x' OR 1=1 --");
        assert_eq!(t, ["ransom", "ware", "backup", "x", "or", "1", "1"]);
        assert_eq!(fts5_query(&t[..2]), "\"ransom\"* AND \"ware\"*");
        assert_eq!(pg_tsquery(&t[..2]), "ransom & ware");
        assert!(search_terms(" -- !! ").is_empty());
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn control_ids_sort_numerically_and_refuse_strangers() {
        let ids =
            control_ids(&["8.7".into(), "5.10".into(), "5.9".into(), "A.8.7".into()]).unwrap();
        assert_eq!(ids, ["5.9", "5.10", "8.7"]);
        let e = control_ids(&["9.9".into()]).unwrap_err().to_string();
        assert!(e.starts_with("annex_a_controls: '9.9'"), "{e}");
    }
}

// ---------------------------------------------------------------- treatment actions

/// An action of the treatment plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskAction {
    pub id: i64,
    pub risk_id: i64,
    pub title: String,
    /// E-mail of the owner.
    pub owner: Option<String>,
    #[serde(skip)]
    pub owner_user_id: Option<i64>,
    /// YYYY-MM-DD or empty.
    pub due_date: String,
    pub status: rules::ActionStatus,
    /// Whole currency units.
    pub cost: i64,
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
}

#[derive(sqlx::FromRow)]
struct ActionRow {
    id: i64,
    risk_id: i64,
    title: String,
    owner_user_id: Option<i64>,
    owner: Option<String>,
    due_date: String,
    status: String,
    cost: i64,
    version: i64,
    updated_at: String,
    updated_by: String,
}

impl ActionRow {
    fn into_action(self) -> Result<RiskAction> {
        Ok(RiskAction {
            id: self.id,
            risk_id: self.risk_id,
            title: self.title,
            owner: self.owner,
            owner_user_id: self.owner_user_id,
            due_date: self.due_date,
            status: self.status.parse().map_err(invalid)?,
            cost: self.cost,
            version: self.version,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
        })
    }
}

const ACTION_SELECT: &str = "SELECT a.id, a.risk_id, a.title, a.owner_user_id, u.email AS owner, a.due_date, a.status, \
     a.cost, a.version, a.updated_at, a.updated_by FROM risk_actions a LEFT JOIN users u ON u.id = a.owner_user_id \
     WHERE a.org_id = $1";

/// Fields of an action to create or change; `version` is required to change.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActionInput {
    pub title: Option<String>,
    /// E-mail of a member; "" removes the owner.
    pub owner: Option<String>,
    pub due_date: Option<String>,
    pub status: Option<String>,
    pub cost: Option<i64>,
    pub version: Option<i64>,
}

fn apply_action_input(a: &mut RiskAction, input: &ActionInput) -> Result<()> {
    if let Some(t) = &input.title {
        let t = t.trim();
        if t.is_empty() || t.chars().count() > 300 {
            return Err(invalid("title: 1 to 300 characters"));
        }
        t.clone_into(&mut a.title);
    }
    if let Some(d) = &input.due_date {
        let d = d.trim();
        check_date("due_date", d)?;
        d.clone_into(&mut a.due_date);
    }
    if let Some(s) = &input.status {
        a.status = s.parse().map_err(|e| invalid(format!("status: {e}")))?;
    }
    if let Some(c) = input.cost {
        if c < 0 {
            return Err(invalid(format!("cost: {c} is negative")));
        }
        a.cost = c;
    }
    Ok(())
}

async fn action_in_tx(tx: &mut Tx, org_id: i64, id: i64) -> Result<Option<RiskAction>> {
    let row = on_tx!(tx, |c| sqlx::query_as::<_, ActionRow>(&format!(
        "{ACTION_SELECT} AND a.id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(c)
    .await)?;
    row.map(ActionRow::into_action).transpose()
}

fn action_missing(id: i64) -> StoreError {
    StoreError::NotFound(format!("no treatment action {id} in this organisation"))
}

impl Store {
    /// Adds an action to a risk's treatment plan.
    pub async fn create_risk_action(
        &self,
        org_id: i64,
        risk_id: i64,
        input: &ActionInput,
        actor: &Actor,
    ) -> Result<RiskAction> {
        if input.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
            return Err(invalid("title: required"));
        }
        let mut tx = self.begin().await?;
        let exists: Option<(i64,)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT id FROM risks WHERE org_id = $1 AND id = $2"
        )
        .bind(org_id)
        .bind(risk_id)
        .fetch_optional(c)
        .await)?;
        if exists.is_none() {
            return Err(risk_missing(risk_id));
        }
        let at = now();
        let mut a = RiskAction {
            id: 0,
            risk_id,
            title: String::new(),
            owner: None,
            owner_user_id: None,
            due_date: String::new(),
            status: rules::ActionStatus::Open,
            cost: 0,
            version: 1,
            updated_at: at.clone(),
            updated_by: actor.label.clone(),
        };
        apply_action_input(&mut a, input)?;
        (a.owner_user_id, a.owner) =
            resolve_owner(&mut tx, org_id, input.owner.as_deref(), (None, None)).await?;
        let (id,): (i64,) = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO risk_actions (org_id, risk_id, title, owner_user_id, due_date, status, cost, created_at, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) RETURNING id"
        )
        .bind(org_id)
        .bind(risk_id)
        .bind(&a.title)
        .bind(a.owner_user_id)
        .bind(&a.due_date)
        .bind(a.status.as_str())
        .bind(a.cost)
        .bind(&at)
        .bind(&actor.label)
        .fetch_one(c)
        .await
        })?;
        a.id = id;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "risk_action",
                entity_id: id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&a).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(a)
    }

    /// Changes an action if `version` is current.
    pub async fn update_risk_action(
        &self,
        org_id: i64,
        id: i64,
        input: &ActionInput,
        actor: &Actor,
    ) -> Result<RiskAction> {
        let Some(sent) = input.version else {
            return Err(versioned::version_required(" of the action"));
        };
        let mut tx = self.begin().await?;
        let before = versioned::claim_and_load(
            &mut tx,
            &Target {
                table: "risk_actions",
                org_id,
                keys: &[("id", Key::Int(id))],
            },
            sent,
            &format!("action {id}"),
            async |tx| action_in_tx(tx, org_id, id).await,
            || action_missing(id),
        )
        .await?;
        let mut after = before.clone();
        apply_action_input(&mut after, input)?;
        (after.owner_user_id, after.owner) = resolve_owner(
            &mut tx,
            org_id,
            input.owner.as_deref(),
            (before.owner_user_id, before.owner.clone()),
        )
        .await?;
        if after == before {
            return Ok(before);
        }
        after.version = sent + 1;
        after.updated_at = now();
        after.updated_by.clone_from(&actor.label);
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE risk_actions SET title = $1, owner_user_id = $2, due_date = $3, status = $4, cost = $5, \
             updated_at = $6, updated_by = $7 WHERE org_id = $8 AND id = $9"
        )
        .bind(&after.title)
        .bind(after.owner_user_id)
        .bind(&after.due_date)
        .bind(after.status.as_str())
        .bind(after.cost)
        .bind(&after.updated_at)
        .bind(&after.updated_by)
        .bind(org_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "update",
                entity_type: "risk_action",
                entity_id: id.to_string(),
                before: Some(serde_json::to_value(&before).unwrap_or_default()),
                after: Some(serde_json::to_value(&after).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The actions of one risk, by due date.
    pub async fn risk_actions(&self, org_id: i64, risk_id: i64) -> Result<Vec<RiskAction>> {
        let rows: Vec<ActionRow> = on_pool!(self, |p| sqlx::query_as::<_, ActionRow>(&format!(
            "{ACTION_SELECT} AND a.risk_id = $2 ORDER BY a.due_date = '', a.due_date, a.id"
        ))
        .bind(org_id)
        .bind(risk_id)
        .fetch_all(p)
        .await)?;
        rows.into_iter().map(ActionRow::into_action).collect()
    }

    /// Every treatment action of the organisation, by risk then due date
    /// (for the treatment plan and its exports).
    pub async fn all_risk_actions(&self, org_id: i64) -> Result<Vec<RiskAction>> {
        let rows: Vec<ActionRow> = on_pool!(self, |p| sqlx::query_as::<_, ActionRow>(&format!(
            "{ACTION_SELECT} ORDER BY a.risk_id, a.due_date = '', a.due_date, a.id"
        ))
        .bind(org_id)
        .fetch_all(p)
        .await)?;
        rows.into_iter().map(ActionRow::into_action).collect()
    }

    /// Open or in-progress actions due before `today` (YYYY-MM-DD), oldest first.
    pub async fn overdue_risk_actions(&self, org_id: i64, today: &str) -> Result<Vec<RiskAction>> {
        let rows: Vec<ActionRow> = on_pool!(self, |p| {
            sqlx::query_as::<_, ActionRow>(&format!(
            "{ACTION_SELECT} AND a.status IN ('open', 'in_progress') AND a.due_date <> '' AND a.due_date < $2 \
             ORDER BY a.due_date, a.id LIMIT {MAX_PAGE}"
        ))
        .bind(org_id)
        .bind(today)
        .fetch_all(p)
        .await
        })?;
        rows.into_iter().map(ActionRow::into_action).collect()
    }

    /// What the register holds with an owner and a date: pending treatment
    /// actions and risk reviews, due on or before `until` (YYYY-MM-DD).
    pub async fn risk_due_items(&self, org_id: i64, until: &str) -> Result<Vec<DueItem>> {
        let actions: Vec<ActionRow> = on_pool!(self, |p| {
            sqlx::query_as::<_, ActionRow>(&format!(
            "{ACTION_SELECT} AND a.status IN ('open', 'in_progress') AND a.due_date <> '' AND a.due_date <= $2 \
             ORDER BY a.due_date, a.id"
        ))
        .bind(org_id)
        .bind(until)
        .fetch_all(p)
        .await
        })?;
        let reviews: Vec<(i64, String, Option<String>, String)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT r.id, r.title, u.email, r.next_review FROM risks r LEFT JOIN users u ON u.id = r.owner_user_id \
             WHERE r.org_id = $1 AND r.status <> 'closed' AND r.next_review > '' AND r.next_review <= $2 \
             ORDER BY r.next_review, r.id"
        )
        .bind(org_id)
        .bind(until)
        .fetch_all(p)
        .await
        })?;
        let mut out: Vec<DueItem> = actions
            .into_iter()
            .map(|a| DueItem {
                kind: "risk_action",
                id: a.id,
                link: format!("/risks/{}", a.risk_id),
                title: a.title,
                owner: a.owner,
                due_date: a.due_date,
            })
            .chain(reviews.into_iter().map(|(id, title, owner, due)| DueItem {
                kind: "risk_review",
                id,
                title: format!("Review RISK-{id}: {title}"),
                owner,
                due_date: due,
                link: format!("/risks/{id}"),
            }))
            .collect();
        out.sort_by(|a, b| a.due_date.cmp(&b.due_date).then(a.id.cmp(&b.id)));
        Ok(out)
    }
}

// ---------------------------------------------------------------- snapshots

/// A frozen register (without its rows).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RiskSnapshotInfo {
    pub id: i64,
    pub title: String,
    pub taken_at: String,
    pub taken_by: String,
    pub risk_count: i64,
}

impl Store {
    /// Freezes the register as it is now (levels by name, under the
    /// methodology in force) in one read-consistent transaction.
    pub async fn take_risk_snapshot(
        &self,
        org_id: i64,
        title: &str,
        actor: &Actor,
    ) -> Result<RiskSnapshotInfo> {
        let title = title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(invalid("title: 1 to 200 characters"));
        }
        let mut tx = self.begin().await?;
        let m = methodology_in_tx(&mut tx, org_id).await?;
        let rows: Vec<(i64, String, i64, i64, String)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "SELECT id, title, inherent_level, residual_level, status FROM risks WHERE org_id = $1 ORDER BY id"
        )
        .bind(org_id)
        .fetch_all(c)
        .await
        })?;
        let risks: Vec<rules::SnapshotRisk> = rows
            .into_iter()
            .map(|(id, title, l, r, status)| rules::SnapshotRisk {
                id,
                title,
                level: m.level_name(l as usize).to_owned(),
                residual_level: m.level_name(r as usize).to_owned(),
                status,
            })
            .collect();
        let body = serde_json::to_string(&risks).map_err(invalid)?;
        let at = now();
        let (id,): (i64,) = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO risk_snapshots (org_id, title, taken_at, taken_by, risk_count, risks_json) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
        )
        .bind(org_id)
        .bind(title)
        .bind(&at)
        .bind(&actor.label)
        .bind(risks.len() as i64)
        .bind(&body)
        .fetch_one(c)
        .await
        })?;
        let info = RiskSnapshotInfo {
            id,
            title: title.to_owned(),
            taken_at: at,
            taken_by: actor.label.clone(),
            risk_count: risks.len() as i64,
        };
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "risk_snapshot",
                entity_id: id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&info).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(info)
    }

    pub async fn risk_snapshots(&self, org_id: i64) -> Result<Vec<RiskSnapshotInfo>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, RiskSnapshotInfo>(
            "SELECT id, title, taken_at, taken_by, risk_count FROM risk_snapshots WHERE org_id = $1 ORDER BY id DESC"
        )
        .bind(org_id)
        .fetch_all(p)
        .await
        })?)
    }

    /// The latest `limit` snapshots, oldest first, each with how many of its
    /// open risks sit at each inherent level name (for the chart of risks by
    /// level over time).
    pub async fn risk_snapshot_levels(
        &self,
        org_id: i64,
        limit: usize,
    ) -> Result<Vec<(RiskSnapshotInfo, HashMap<String, usize>)>> {
        let mut infos = self.risk_snapshots(org_id).await?;
        infos.truncate(limit);
        infos.reverse();
        let mut out = Vec::with_capacity(infos.len());
        for info in infos {
            let mut counts: HashMap<String, usize> = HashMap::new();
            for r in self.snapshot_risks(org_id, info.id).await? {
                if r.status != "closed" {
                    *counts.entry(r.level).or_default() += 1;
                }
            }
            out.push((info, counts));
        }
        Ok(out)
    }

    async fn snapshot_risks(&self, org_id: i64, id: i64) -> Result<Vec<rules::SnapshotRisk>> {
        let row: Option<(String,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT risks_json FROM risk_snapshots WHERE org_id = $1 AND id = $2"
        )
        .bind(org_id)
        .bind(id)
        .fetch_optional(p)
        .await)?;
        let (body,) = row.ok_or_else(|| {
            StoreError::NotFound(format!("no risk snapshot {id} in this organisation"))
        })?;
        serde_json::from_str(&body)
            .map_err(|e| invalid(format!("snapshot {id} is unreadable: {e}")))
    }

    /// What is new, closed and changed from snapshot `from` to snapshot `to`.
    pub async fn compare_risk_snapshots(
        &self,
        org_id: i64,
        from: i64,
        to: i64,
    ) -> Result<rules::SnapshotComparison> {
        let earlier = self.snapshot_risks(org_id, from).await?;
        let later = self.snapshot_risks(org_id, to).await?;
        Ok(rules::compare_snapshots(&earlier, &later))
    }
}

// ---------------------------------------------------------------- streaming reads

/// Which risks a [`RiskCursor`] walks.
#[derive(Debug, Clone, Default)]
pub struct CursorFilter {
    /// Leave closed risks out (the treatment plan).
    pub open_only: bool,
    /// Only risks with an action not done and due before this date (YYYY-MM-DD).
    pub overdue_before: Option<String>,
    /// Only risks owned by this e-mail or with an action it owns.
    pub owner: Option<String>,
}

/// Walks the register in register order (highest inherent level first,
/// then oldest), a chunk at a time by key, inside one read transaction: a
/// consistent view however long an export takes, and memory for one chunk.
pub struct RiskCursor {
    tx: Tx,
    org_id: i64,
    filter: CursorFilter,
    after: Option<(i64, i64)>,
    done: bool,
}

/// The rows of `select` (a SELECT of [`RISK_COLS`] ending in its WHERE
/// conditions) that follow the key (`$a` level, `$b` id, placeholders
/// numbered `after`) in the order `col` DESC, id ASC, at most `limit`.
/// Two index ranges, not one OR: the rest of the key's level, then the
/// lower levels. `level < a OR (level = a AND id > b)` made both engines
/// walk the index from the start, so reading a register in chunks grew
/// quadratic in its size.
fn after_key_sql(select: &str, col: &str, (a, b): (usize, usize), limit: i64) -> String {
    format!(
        "SELECT * FROM ({select} AND r.{col} = ${a} AND r.id > ${b} ORDER BY r.id ASC LIMIT {limit}) same_level \
         UNION ALL SELECT * FROM ({select} AND r.{col} < ${a} ORDER BY r.{col} DESC, r.id ASC LIMIT {limit}) lower_levels \
         ORDER BY {col} DESC, id ASC LIMIT {limit}"
    )
}

/// The key of a risk in register order, as `next`/`after` text.
pub fn register_key(r: &Risk) -> String {
    format!("{}.{}", r.inherent_level, r.id)
}

impl RiskCursor {
    /// The next at most `n` risks with their links; empty at the end.
    pub async fn next_chunk(&mut self, n: i64) -> Result<Vec<Risk>> {
        if self.done {
            return Ok(Vec::new());
        }
        let mut sql = format!("SELECT {RISK_COLS} {RISK_FROM}");
        let mut vals: Vec<Val> = Vec::new();
        if self.filter.open_only {
            sql.push_str(" AND r.status <> 'closed'");
        }
        if let Some(d) = &self.filter.overdue_before {
            vals.push(Val::T(d.clone()));
            let _ = write!(
                sql,
                " AND EXISTS (SELECT 1 FROM risk_actions a WHERE a.org_id = r.org_id AND a.risk_id = r.id \
                 AND a.status IN ('open', 'in_progress') AND a.due_date <> '' AND a.due_date < ${})",
                vals.len() + 1
            );
        }
        if let Some(o) = &self.filter.owner {
            vals.push(Val::T(o.clone()));
            let k = vals.len() + 1;
            let _ = write!(
                sql,
                " AND (u.email = ${k} OR EXISTS (SELECT 1 FROM risk_actions a JOIN users ua ON ua.id = a.owner_user_id \
                 WHERE a.org_id = r.org_id AND a.risk_id = r.id AND ua.email = ${k}))"
            );
        }
        let sql = if let Some((l, id)) = self.after {
            vals.push(Val::I(l));
            vals.push(Val::I(id));
            after_key_sql(
                &sql,
                "inherent_level",
                (vals.len(), vals.len() + 1),
                n.max(1),
            )
        } else {
            format!(
                "{sql} ORDER BY r.inherent_level DESC, r.id ASC LIMIT {}",
                n.max(1)
            )
        };
        let org_id = self.org_id;
        let rows: Vec<RiskRow> = on_tx!(&mut self.tx, |c| bind_all!(
            sqlx::query_as::<_, RiskRow>(&sql).bind(org_id),
            &vals
        )
        .fetch_all(c)
        .await)?;
        if (rows.len() as i64) < n.max(1) {
            self.done = true;
        }
        let mut items = rows
            .into_iter()
            .map(RiskRow::into_risk)
            .collect::<Result<Vec<_>>>()?;
        self.after = items.last().map(|r| (r.inherent_level, r.id));
        fill_links(&mut self.tx, org_id, &mut items).await?;
        Ok(items)
    }

    /// The treatment actions of these risks, by risk then due date.
    pub async fn actions_of(&mut self, risk_ids: &[i64]) -> Result<Vec<RiskAction>> {
        if risk_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "{ACTION_SELECT} AND {} ORDER BY a.risk_id, a.due_date = '', a.due_date, a.id",
            ids_condition(&self.tx, "a.risk_id")
        );
        let org_id = self.org_id;
        let rows: Vec<ActionRow> = match &mut self.tx {
            Tx::Sqlite(t) => {
                sqlx::query_as(&sql)
                    .bind(org_id)
                    .bind(json_ids(risk_ids))
                    .fetch_all(&mut **t)
                    .await?
            }
            Tx::Postgres(t) => {
                sqlx::query_as(&sql)
                    .bind(org_id)
                    .bind(risk_ids)
                    .fetch_all(&mut **t)
                    .await?
            }
        };
        rows.into_iter().map(ActionRow::into_action).collect()
    }

    /// The register's last change (RFC 3339, empty when there is no risk);
    /// with `with_actions` the treatment actions' last change counts too.
    pub async fn last_change(&mut self, with_actions: bool) -> Result<String> {
        let org_id = self.org_id;
        let open = if self.filter.open_only {
            " AND status <> 'closed'"
        } else {
            ""
        };
        let sql = format!("SELECT MAX(updated_at) FROM risks WHERE org_id = $1{open}");
        let (risks,): (Option<String>,) = on_tx!(&mut self.tx, |c| sqlx::query_as(&sql)
            .bind(org_id)
            .fetch_one(c)
            .await)?;
        let mut date = risks.unwrap_or_default();
        if with_actions {
            let (actions,): (Option<String>,) = on_tx!(&mut self.tx, |c| sqlx::query_as(
                "SELECT MAX(updated_at) FROM risk_actions WHERE org_id = $1"
            )
            .bind(org_id)
            .fetch_one(c)
            .await)?;
            date = date.max(actions.unwrap_or_default());
        }
        Ok(date)
    }
}

/// Counts of the treatment plan (open risks and their actions).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanCounts {
    pub risks: i64,
    pub accepted: i64,
    pub planned: i64,
    pub actions_done: i64,
    pub actions_live: i64,
    pub overdue: i64,
}

impl Store {
    /// A cursor over the register from `after` (a `next` key, or none for
    /// the start).
    pub async fn risk_cursor(
        &self,
        org_id: i64,
        filter: CursorFilter,
        after: Option<&str>,
    ) -> Result<RiskCursor> {
        let after = match after.filter(|a| !a.is_empty()) {
            None => None,
            Some(a) => {
                let bad = || {
                    invalid(format!(
                        "after: '{a}' is not a page key of this list: use the `next` of the previous page"
                    ))
                };
                let (l, id) = a.split_once('.').ok_or_else(bad)?;
                Some((
                    l.parse().map_err(|_| bad())?,
                    id.parse().map_err(|_| bad())?,
                ))
            }
        };
        Ok(RiskCursor {
            tx: self.read_tx().await?,
            org_id,
            filter,
            after,
            done: false,
        })
    }

    /// The treatment plan's counts, each one aggregate query (no row is
    /// fetched): `today` (YYYY-MM-DD) decides what is overdue.
    pub async fn treatment_plan_counts(&self, org_id: i64, today: &str) -> Result<PlanCounts> {
        let (risks, accepted, planned): (i64, i64, i64) = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN r.status = 'accepted' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM risk_actions a WHERE a.org_id = r.org_id AND a.risk_id = r.id) THEN 1 ELSE 0 END), 0) \
             FROM risks r WHERE r.org_id = $1 AND r.status <> 'closed'"
        )
        .bind(org_id)
        .fetch_one(p)
        .await
        })?;
        let (done, live, overdue): (i64, i64, i64) = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN a.status = 'done' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN a.status <> 'cancelled' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN a.status IN ('open', 'in_progress') AND a.due_date <> '' AND a.due_date < $2 THEN 1 ELSE 0 END), 0) \
             FROM risk_actions a JOIN risks r ON r.org_id = a.org_id AND r.id = a.risk_id \
             WHERE a.org_id = $1 AND r.status <> 'closed'"
        )
        .bind(org_id)
        .bind(today)
        .fetch_one(p)
        .await
        })?;
        Ok(PlanCounts {
            risks,
            accepted,
            planned,
            actions_done: done,
            actions_live: live,
            overdue,
        })
    }

    /// How many actions are not done and due before `today` (YYYY-MM-DD).
    pub async fn count_overdue_risk_actions(&self, org_id: i64, today: &str) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT COUNT(*) FROM risk_actions WHERE org_id = $1 AND status IN ('open', 'in_progress') \
             AND due_date <> '' AND due_date < $2"
        )
        .bind(org_id)
        .bind(today)
        .fetch_one(p)
        .await
        })?;
        Ok(n)
    }
}

/// Open risks per (organisation, inherent 0 / residual 1, likelihood,
/// impact) counted over the register: what `risk_heat` keeps.
const HEAT_CELLS: &str = "SELECT org_id, CAST(0 AS BIGINT) AS residual, likelihood, impact, COUNT(*) AS n FROM risks \
     WHERE status <> 'closed' GROUP BY org_id, likelihood, impact \
     UNION ALL SELECT org_id, CAST(1 AS BIGINT), residual_likelihood, residual_impact, COUNT(*) FROM risks \
     WHERE status <> 'closed' GROUP BY org_id, residual_likelihood, residual_impact";

/// Open risks per cell, (likelihood, impact, count): inherent, residual.
pub type HeatCells = (Vec<(i64, i64, i64)>, Vec<(i64, i64, i64)>);

/// Counts the heat map afresh from the register (after a restore, which
/// does not copy the kept counts).
pub(crate) async fn recount_risk_heat(tx: &mut Tx) -> Result<()> {
    for sql in [
        "DELETE FROM risk_heat".to_owned(),
        format!("INSERT INTO risk_heat (org_id, residual, likelihood, impact, n) {HEAT_CELLS}"),
    ] {
        on_tx!(tx, |c| sqlx::query(&sql).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}
