//! Applied controls (8.1) and their links to requirements of any installed
//! framework, coverage through the mappings, evidence with its file
//! revisions, and control reviews. The rules (statuses, dates, the suggested
//! SoA status, coverage) live in `isms_domain::controls`; this file loads,
//! claims the version, calls them, writes and audits, in one transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use isms_catalog::{ISO27001_2022, Mapping, MappingSet, Relationship};
use isms_domain::controls::{
    self as rules, ControlCategory, ControlStatus, Coverage, ReviewResult, ReviewSchedule,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::due::DueItem;
use crate::users::member_id;
use crate::versioned::{self, Key, Target};
use crate::{Result, Store, StoreError, Tx, now, on_pool, on_tx};

/// The most requirement links one control takes.
pub const MAX_LINKS: usize = 500;

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(e.to_string())
}

pub(crate) fn today() -> String {
    now().get(..10).unwrap_or_default().to_owned()
}

/// A requirement of some framework, by slug and ref id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RequirementKey {
    pub framework: String,
    pub ref_id: String,
}

/// A linked requirement with its title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkedRequirement {
    pub framework: String,
    pub ref_id: String,
    pub title: String,
}

/// An organisation's own measure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedControl {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// E-mail of the owner.
    pub owner: Option<String>,
    #[serde(skip)]
    pub owner_user_id: Option<i64>,
    pub category: ControlCategory,
    pub status: ControlStatus,
    /// Whole currency units.
    pub cost: i64,
    /// S, M, L, XL or empty.
    pub effort: String,
    pub start_date: String,
    pub due_date: String,
    pub review_schedule: Option<ReviewSchedule>,
    /// YYYY-MM-DD or empty.
    pub next_review: String,
    pub requirements: Vec<LinkedRequirement>,
    /// The URN of the reference measure (catalog of reference controls) it was created from.
    pub reference_control: Option<String>,
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
}

impl AppliedControl {
    /// The Annex A controls it is linked to, bare (`8.5`).
    pub fn annex_a(&self) -> Vec<String> {
        self.requirements
            .iter()
            .filter(|r| r.framework == ISO27001_2022)
            .filter_map(|r| r.ref_id.strip_prefix("A.").map(str::to_owned))
            .collect()
    }
}

#[derive(sqlx::FromRow)]
struct ControlRow {
    id: i64,
    name: String,
    description: String,
    owner_user_id: Option<i64>,
    owner: Option<String>,
    category: String,
    status: String,
    cost: i64,
    effort: String,
    start_date: String,
    due_date: String,
    review_schedule: String,
    next_review: String,
    reference_control: Option<String>,
    version: i64,
    updated_at: String,
    updated_by: String,
}

impl ControlRow {
    fn into_control(self) -> Result<AppliedControl> {
        Ok(AppliedControl {
            id: self.id,
            name: self.name,
            description: self.description,
            owner: self.owner,
            owner_user_id: self.owner_user_id,
            category: self.category.parse().map_err(invalid)?,
            status: self.status.parse().map_err(invalid)?,
            cost: self.cost,
            effort: self.effort,
            start_date: self.start_date,
            due_date: self.due_date,
            review_schedule: if self.review_schedule.is_empty() {
                None
            } else {
                Some(self.review_schedule.parse().map_err(invalid)?)
            },
            next_review: self.next_review,
            requirements: Vec::new(),
            reference_control: self.reference_control,
            version: self.version,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
        })
    }
}

const CONTROL_SELECT: &str = "SELECT c.id, c.name, c.description, c.owner_user_id, u.email AS owner, c.category, c.status, \
     c.cost, c.effort, c.start_date, c.due_date, c.review_schedule, c.next_review, c.reference_control, c.version, c.updated_at, c.updated_by \
     FROM applied_controls c LEFT JOIN users u ON u.id = c.owner_user_id WHERE c.org_id = $1";

/// Fields of a control to create or change; `version` is required to change.
/// `annex_a` and `requirements` together replace the whole set of links when
/// either is sent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ControlInput {
    pub name: Option<String>,
    pub description: Option<String>,
    /// E-mail of a member; "" removes the owner.
    pub owner: Option<String>,
    pub category: Option<String>,
    pub status: Option<String>,
    pub cost: Option<i64>,
    pub effort: Option<String>,
    pub start_date: Option<String>,
    pub due_date: Option<String>,
    /// monthly, quarterly, half_yearly, yearly or "" (none).
    pub review_schedule: Option<String>,
    pub next_review: Option<String>,
    /// Annex A control ids, e.g. `["8.5"]`.
    pub annex_a: Option<Vec<String>>,
    /// Requirements of any installed framework.
    pub requirements: Option<Vec<RequirementKey>>,
    /// A reference measure of the catalog (its URN or id): on create, fills the name,
    /// description and category not given and keeps the link; "" removes the link.
    pub reference_control: Option<String>,
    pub version: Option<i64>,
}

/// The control category a library's reference-control category gives.
fn category_of(library_category: Option<&str>) -> ControlCategory {
    match library_category.map(str::to_ascii_lowercase).as_deref() {
        Some("policy") => ControlCategory::Policy,
        Some("technical") => ControlCategory::Technical,
        Some("physical") => ControlCategory::Physical,
        _ => ControlCategory::Process,
    }
}

impl Store {
    /// The input with what the reference measure it names fills in (name, description,
    /// category where not given) and the measure's URN; an unknown measure is refused.
    async fn fill_from_reference(
        &self,
        org_id: i64,
        input: &ControlInput,
    ) -> Result<(ControlInput, Option<Option<String>>)> {
        let Some(r) = input.reference_control.as_deref().map(str::trim) else {
            return Ok((input.clone(), None));
        };
        if r.is_empty() {
            return Ok((input.clone(), Some(None)));
        }
        let Some(m) = self
            .reference_measure(crate::Tenant::Org(org_id), r)
            .await?
        else {
            return Err(invalid(format!(
                "reference_control: '{r}' is not a reference measure of an imported library"
            )));
        };
        let mut out = input.clone();
        if out.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
            let name = if m.ref_id.is_empty() || m.name.starts_with(&m.ref_id) {
                m.name.clone()
            } else {
                format!("{} {}", m.ref_id, m.name)
            };
            out.name = Some(name.chars().take(300).collect());
        }
        if out
            .description
            .as_deref()
            .is_none_or(|d| d.trim().is_empty())
        {
            out.description = Some(m.description.chars().take(20_000).collect());
        }
        if out.category.is_none() {
            out.category = Some(category_of(m.category.as_deref()).as_str().to_owned());
        }
        Ok((out, Some(Some(m.urn))))
    }
}

fn date_field(field: &str, v: &str) -> Result<String> {
    rules::optional_date(field, v).map_err(invalid)
}

fn apply_control_input(c: &mut AppliedControl, input: &ControlInput) -> Result<()> {
    if let Some(n) = &input.name {
        let n = n.trim();
        if n.is_empty() || n.chars().count() > 300 {
            return Err(invalid("name: 1 to 300 characters"));
        }
        n.clone_into(&mut c.name);
    }
    if let Some(d) = &input.description {
        if d.len() > 20_000 {
            return Err(invalid("description: at most 20,000 characters"));
        }
        d.trim().clone_into(&mut c.description);
    }
    if let Some(v) = &input.category {
        c.category = v.parse().map_err(invalid)?;
    }
    if let Some(v) = &input.status {
        c.status = v.parse().map_err(invalid)?;
    }
    if let Some(v) = input.cost {
        if v < 0 {
            return Err(invalid(format!("cost: {v} is negative")));
        }
        c.cost = v;
    }
    if let Some(v) = &input.effort {
        let v = v.trim().to_ascii_uppercase();
        if !["", "S", "M", "L", "XL"].contains(&v.as_str()) {
            return Err(invalid(format!("effort: '{v}': use S, M, L or XL")));
        }
        c.effort = v;
    }
    if let Some(v) = &input.start_date {
        c.start_date = date_field("start_date", v)?;
    }
    if let Some(v) = &input.due_date {
        c.due_date = date_field("due_date", v)?;
    }
    if !c.start_date.is_empty() && !c.due_date.is_empty() && c.due_date < c.start_date {
        return Err(invalid(format!(
            "due_date: {} is before the start date {}",
            c.due_date, c.start_date
        )));
    }
    if let Some(v) = &input.review_schedule {
        c.review_schedule = if v.trim().is_empty() {
            None
        } else {
            Some(v.parse().map_err(invalid)?)
        };
    }
    if let Some(v) = &input.next_review {
        c.next_review = date_field("next_review", v)?;
    }
    Ok(())
}

/// The links an input asks for, each checked against the frameworks the
/// organisation sees: an unknown framework or requirement is refused by name.
async fn resolve_links(
    tx: &mut Tx,
    org_id: i64,
    input: &ControlInput,
) -> Result<Option<Vec<LinkedRequirement>>> {
    if input.annex_a.is_none() && input.requirements.is_none() {
        return Ok(None);
    }
    let mut wanted: BTreeSet<RequirementKey> = BTreeSet::new();
    for a in input.annex_a.iter().flatten() {
        let bare = a.trim().trim_start_matches("A.");
        if !isms_catalog::annex_a_controls()
            .iter()
            .any(|c| c.control_id == bare)
        {
            return Err(invalid(format!(
                "annex_a: '{}' is not an Annex A control (5.1 to 8.34)",
                a.trim()
            )));
        }
        wanted.insert(RequirementKey {
            framework: ISO27001_2022.to_owned(),
            ref_id: format!("A.{bare}"),
        });
    }
    for r in input.requirements.iter().flatten() {
        wanted.insert(RequirementKey {
            framework: r.framework.trim().to_owned(),
            ref_id: r.ref_id.trim().to_owned(),
        });
    }
    if wanted.len() > MAX_LINKS {
        return Err(invalid(format!(
            "requirements: at most {MAX_LINKS} links per control"
        )));
    }
    let mut out = Vec::with_capacity(wanted.len());
    let mut frameworks: HashMap<String, i64> = HashMap::new();
    for k in wanted {
        let fw_id = if let Some(id) = frameworks.get(&k.framework) {
            *id
        } else {
            let found: Option<(i64,)> = on_tx!(tx, |c| sqlx::query_as(
                "SELECT id FROM frameworks WHERE slug = $1 AND (org_id IS NULL OR org_id = $2)"
            )
            .bind(&k.framework)
            .bind(org_id)
            .fetch_optional(c)
            .await)?;
            let Some((id,)) = found else {
                return Err(invalid(format!(
                    "requirements: the framework '{}' is not installed",
                    k.framework
                )));
            };
            frameworks.insert(k.framework.clone(), id);
            id
        };
        let title: Option<(String,)> = on_tx!(tx, |c| sqlx::query_as(
            "SELECT title FROM requirements WHERE framework_id = $1 AND ref_id = $2"
        )
        .bind(fw_id)
        .bind(&k.ref_id)
        .fetch_optional(c)
        .await)?;
        let Some((title,)) = title else {
            return Err(invalid(format!(
                "requirements: {} has no requirement '{}'",
                k.framework, k.ref_id
            )));
        };
        out.push(LinkedRequirement {
            framework: k.framework,
            ref_id: k.ref_id,
            title,
        });
    }
    Ok(Some(out))
}

async fn write_links(
    tx: &mut Tx,
    org_id: i64,
    control_id: i64,
    links: &[LinkedRequirement],
) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM control_requirements WHERE org_id = $1 AND applied_control_id = $2"
    )
    .bind(org_id)
    .bind(control_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    for l in links {
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO control_requirements (org_id, applied_control_id, framework, ref_id) VALUES ($1, $2, $3, $4)"
        )
        .bind(org_id)
        .bind(control_id)
        .bind(&l.framework)
        .bind(&l.ref_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    applied_control_id: i64,
    framework: String,
    ref_id: String,
    title: Option<String>,
}

const LINK_SELECT: &str = "SELECT cr.applied_control_id, cr.framework, cr.ref_id, \
     (SELECT r.title FROM requirements r JOIN frameworks f ON f.id = r.framework_id \
       WHERE f.slug = cr.framework AND r.ref_id = cr.ref_id AND (f.org_id IS NULL OR f.org_id = cr.org_id)) AS title \
     FROM control_requirements cr WHERE cr.org_id = $1";

fn attach_links(controls: &mut [AppliedControl], rows: Vec<LinkRow>) {
    let mut by: HashMap<i64, Vec<LinkedRequirement>> = HashMap::new();
    for r in rows {
        by.entry(r.applied_control_id)
            .or_default()
            .push(LinkedRequirement {
                framework: r.framework,
                ref_id: r.ref_id,
                title: r.title.unwrap_or_default(),
            });
    }
    for c in controls {
        let mut links = by.remove(&c.id).unwrap_or_default();
        links.sort_by(|a, b| {
            (
                a.framework != ISO27001_2022,
                &a.framework,
                requirement_order(&a.ref_id),
            )
                .cmp(&(
                    b.framework != ISO27001_2022,
                    &b.framework,
                    requirement_order(&b.ref_id),
                ))
        });
        c.requirements = links;
    }
}

/// Sorts `A.8.10` after `A.8.9`: numeric runs compare as numbers.
fn requirement_order(r: &str) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let mut num = String::new();
    let mut text = String::new();
    for ch in r.chars() {
        if ch.is_ascii_digit() {
            if !text.is_empty() {
                out.push((0, std::mem::take(&mut text)));
            }
            num.push(ch);
        } else {
            if !num.is_empty() {
                out.push((num.parse().unwrap_or(0), String::new()));
                num.clear();
            }
            text.push(ch);
        }
    }
    if !num.is_empty() {
        out.push((num.parse().unwrap_or(0), String::new()));
    }
    if !text.is_empty() {
        out.push((0, text));
    }
    out
}

async fn control_in_tx(tx: &mut Tx, org_id: i64, id: i64) -> Result<Option<AppliedControl>> {
    let row = on_tx!(tx, |c| sqlx::query_as::<_, ControlRow>(&format!(
        "{CONTROL_SELECT} AND c.id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(c)
    .await)?;
    let Some(row) = row else { return Ok(None) };
    let mut c = vec![row.into_control()?];
    let links = on_tx!(tx, |conn| sqlx::query_as::<_, LinkRow>(&format!(
        "{LINK_SELECT} AND cr.applied_control_id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_all(conn)
    .await)?;
    attach_links(&mut c, links);
    Ok(c.pop())
}

pub(crate) fn control_missing(id: i64) -> StoreError {
    StoreError::NotFound(format!("no applied control {id} in this organisation"))
}

/// Resolves a person field: `Some("")` removes, `Some(email)` sets.
pub(crate) async fn resolve_person(
    tx: &mut Tx,
    org_id: i64,
    field: &str,
    email: Option<&str>,
    current: (Option<i64>, Option<String>),
) -> Result<(Option<i64>, Option<String>)> {
    match email.map(str::trim) {
        None => Ok(current),
        Some("") => Ok((None, None)),
        Some(e) => {
            let id = member_id(tx, org_id, field, e).await?;
            Ok((Some(id), Some(e.to_lowercase())))
        }
    }
}

/// A control as listed on an SoA entry or a requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlRef {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub owner: Option<String>,
    /// Some of its evidence has expired.
    pub evidence_expired: bool,
}

/// One requirement of a framework with the controls that cover it.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageRow {
    pub ref_id: String,
    pub title: String,
    pub coverage: Coverage,
    /// Controls linked to it directly.
    pub controls: Vec<i64>,
    /// Controls linked to a mapped requirement of another framework.
    pub via_mappings: Vec<i64>,
    /// Of `via_mappings`, those that reach it only through derived mappings
    /// (composed by isms, never official).
    pub via_derived: Vec<i64>,
}

/// The coverage of one framework.
#[derive(Debug, Clone, Serialize)]
pub struct FrameworkCoverage {
    pub framework: String,
    pub name: String,
    pub rows: Vec<CoverageRow>,
    pub implemented: usize,
    pub planned: usize,
    pub none: usize,
}

/// What a control covers through the mappings.
#[derive(Debug, Clone, Serialize)]
pub struct Covered {
    pub framework: String,
    pub ref_id: String,
    pub title: Option<String>,
    /// The directly linked requirement it comes through (`None`: linked directly).
    pub via: Option<String>,
    pub relationship: Option<String>,
    /// Composed by isms from other mappings: never official.
    pub derived: bool,
}

impl Store {
    /// Adds an applied control.
    pub async fn create_control(
        &self,
        org_id: i64,
        input: &ControlInput,
        actor: &Actor,
    ) -> Result<AppliedControl> {
        let (filled, reference) = self.fill_from_reference(org_id, input).await?;
        let input = &filled;
        if input.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
            return Err(invalid("name: required"));
        }
        let at = now();
        let mut c = AppliedControl {
            id: 0,
            name: String::new(),
            description: String::new(),
            owner: None,
            owner_user_id: None,
            category: ControlCategory::Process,
            status: ControlStatus::Planned,
            cost: 0,
            effort: String::new(),
            start_date: String::new(),
            due_date: String::new(),
            review_schedule: None,
            next_review: String::new(),
            requirements: Vec::new(),
            reference_control: reference.flatten(),
            version: 1,
            updated_at: at.clone(),
            updated_by: actor.label.clone(),
        };
        apply_control_input(&mut c, input)?;
        let mut tx = self.begin().await?;
        (c.owner_user_id, c.owner) = resolve_person(
            &mut tx,
            org_id,
            "owner",
            input.owner.as_deref(),
            (None, None),
        )
        .await?;
        let links = resolve_links(&mut tx, org_id, input).await?;
        let (id,): (i64,) = on_tx!(&mut tx, |conn| {
            sqlx::query_as(
                "INSERT INTO applied_controls (org_id, name, description, owner_user_id, category, status, cost, effort, \
                 start_date, due_date, review_schedule, next_review, created_at, updated_at, updated_by, reference_control) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15) RETURNING id",
            )
            .bind(org_id)
            .bind(&c.name)
            .bind(&c.description)
            .bind(c.owner_user_id)
            .bind(c.category.as_str())
            .bind(c.status.as_str())
            .bind(c.cost)
            .bind(&c.effort)
            .bind(&c.start_date)
            .bind(&c.due_date)
            .bind(c.review_schedule.map_or("", ReviewSchedule::as_str))
            .bind(&c.next_review)
            .bind(&at)
            .bind(&actor.label)
            .bind(&c.reference_control)
            .fetch_one(conn)
            .await
        })?;
        c.id = id;
        if let Some(links) = links {
            write_links(&mut tx, org_id, id, &links).await?;
            c.requirements = links;
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "applied_control",
                entity_id: id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&c).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(c)
    }

    pub async fn control(&self, org_id: i64, id: i64) -> Result<AppliedControl> {
        let mut tx = self.begin_read().await?;
        let c = control_in_tx(&mut tx, org_id, id).await?;
        c.ok_or_else(|| control_missing(id))
    }

    /// Changes a control if `version` is current.
    pub async fn update_control(
        &self,
        org_id: i64,
        id: i64,
        input: &ControlInput,
        actor: &Actor,
    ) -> Result<AppliedControl> {
        let Some(sent) = input.version else {
            return Err(versioned::version_required(" of the control"));
        };
        // On a change the reference measure only links (or unlinks): the fields stay.
        let reference = match &input.reference_control {
            Some(_) => Some(
                self.fill_from_reference(
                    org_id,
                    &ControlInput {
                        name: Some("-".into()),
                        description: Some(String::new()),
                        category: Some("process".into()),
                        reference_control: input.reference_control.clone(),
                        ..ControlInput::default()
                    },
                )
                .await?
                .1
                .flatten(),
            ),
            None => None,
        };
        let mut tx = self.begin().await?;
        let before = versioned::claim_and_load(
            &mut tx,
            &Target {
                table: "applied_controls",
                org_id,
                keys: &[("id", Key::Int(id))],
            },
            sent,
            &format!("control {id}"),
            async |tx| control_in_tx(tx, org_id, id).await,
            || control_missing(id),
        )
        .await?;
        let mut after = before.clone();
        apply_control_input(&mut after, input)?;
        if let Some(r) = reference {
            after.reference_control = r;
        }
        (after.owner_user_id, after.owner) = resolve_person(
            &mut tx,
            org_id,
            "owner",
            input.owner.as_deref(),
            (before.owner_user_id, before.owner.clone()),
        )
        .await?;
        let links = resolve_links(&mut tx, org_id, input).await?;
        if let Some(l) = &links {
            after.requirements.clone_from(l);
        }
        if after == before {
            return Ok(before);
        }
        after.version = sent + 1;
        after.updated_at = now();
        after.updated_by.clone_from(&actor.label);
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE applied_controls SET name = $1, description = $2, owner_user_id = $3, category = $4, status = $5, \
                 cost = $6, effort = $7, start_date = $8, due_date = $9, review_schedule = $10, next_review = $11, \
                 updated_at = $12, updated_by = $13, reference_control = $16 WHERE org_id = $14 AND id = $15",
            )
            .bind(&after.name)
            .bind(&after.description)
            .bind(after.owner_user_id)
            .bind(after.category.as_str())
            .bind(after.status.as_str())
            .bind(after.cost)
            .bind(&after.effort)
            .bind(&after.start_date)
            .bind(&after.due_date)
            .bind(after.review_schedule.map_or("", ReviewSchedule::as_str))
            .bind(&after.next_review)
            .bind(&after.updated_at)
            .bind(&after.updated_by)
            .bind(org_id)
            .bind(id)
            .bind(&after.reference_control)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        if let Some(l) = &links {
            write_links(&mut tx, org_id, id, l).await?;
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "update",
                entity_type: "applied_control",
                entity_id: id.to_string(),
                before: Some(serde_json::to_value(&before).unwrap_or_default()),
                after: Some(serde_json::to_value(&after).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Every control of the organisation, by name, with its links.
    pub async fn controls(&self, org_id: i64) -> Result<Vec<AppliedControl>> {
        let rows: Vec<ControlRow> = on_pool!(self, |p| sqlx::query_as::<_, ControlRow>(&format!(
            "{CONTROL_SELECT} ORDER BY lower(c.name), c.id"
        ))
        .bind(org_id)
        .fetch_all(p)
        .await)?;
        let mut out = rows
            .into_iter()
            .map(ControlRow::into_control)
            .collect::<Result<Vec<_>>>()?;
        let links: Vec<LinkRow> = on_pool!(self, |p| sqlx::query_as::<_, LinkRow>(LINK_SELECT)
            .bind(org_id)
            .fetch_all(p)
            .await)?;
        attach_links(&mut out, links);
        Ok(out)
    }

    /// The controls linked to an Annex A control (bare id, `8.5`), each
    /// flagged when some of its evidence has expired.
    pub async fn controls_for_annex_a(
        &self,
        org_id: i64,
        control_id: &str,
    ) -> Result<Vec<ControlRef>> {
        let reference = format!("A.{}", control_id.trim_start_matches("A."));
        self.controls_for_requirement(org_id, ISO27001_2022, &reference)
            .await
    }

    /// The controls linked to a requirement.
    pub async fn controls_for_requirement(
        &self,
        org_id: i64,
        framework: &str,
        ref_id: &str,
    ) -> Result<Vec<ControlRef>> {
        let rows: Vec<(i64, String, String, Option<String>, i64)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT c.id, c.name, c.status, u.email AS owner, \
             CAST(CASE WHEN EXISTS (SELECT 1 FROM evidence_controls ec JOIN evidence e ON e.org_id = ec.org_id AND e.id = ec.evidence_id \
               WHERE ec.org_id = c.org_id AND ec.applied_control_id = c.id AND e.expires_on <> '' AND e.expires_on < $4) \
               THEN 1 ELSE 0 END AS BIGINT) AS evidence_expired \
             FROM control_requirements cr JOIN applied_controls c ON c.org_id = cr.org_id AND c.id = cr.applied_control_id \
             LEFT JOIN users u ON u.id = c.owner_user_id \
             WHERE cr.org_id = $1 AND cr.framework = $2 AND cr.ref_id = $3 ORDER BY lower(c.name), c.id"
        )
        .bind(org_id)
        .bind(framework)
        .bind(ref_id)
        .bind(today())
        .fetch_all(p)
        .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(id, name, status, owner, expired)| ControlRef {
                id,
                name,
                status,
                owner,
                evidence_expired: expired != 0,
            })
            .collect())
    }

    /// The mappings an organisation sees: the built-in ones and those it or
    /// the operator imported.
    async fn org_mappings(&self, org_id: i64) -> Result<MappingSet> {
        let rows: Vec<(String, String, String, String, String)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT source_framework, source_ref, target_framework, target_ref, relationship FROM mappings \
             WHERE org_id IS NULL OR org_id = $1 ORDER BY id"
        )
        .bind(org_id)
        .fetch_all(p)
        .await
        })?;
        Ok(MappingSet::new(
            rows.into_iter()
                .filter_map(|(sf, sr, tf, tr, rel)| {
                    Some(Mapping {
                        source_framework: sf,
                        source_ref: sr,
                        target_framework: tf,
                        target_ref: tr,
                        relationship: Relationship::parse(&rel)?,
                        note: None,
                        derived_path: None,
                    })
                })
                .collect(),
        ))
    }

    /// What a control covers: its direct links, and through the built-in
    /// and imported mappings every requirement of an installed framework
    /// they map to (derived mappings marked).
    pub async fn control_coverage(&self, org_id: i64, id: i64) -> Result<Vec<Covered>> {
        let c = self.control(org_id, id).await?;
        let imported = self.org_mappings(org_id).await?;
        let installed: BTreeMap<String, i64> = self
            .frameworks(crate::Tenant::Org(org_id))
            .await?
            .into_iter()
            .map(|f| (f.slug, f.id))
            .collect();
        let mut out: Vec<Covered> = c
            .requirements
            .iter()
            .map(|r| Covered {
                framework: r.framework.clone(),
                ref_id: r.ref_id.clone(),
                title: Some(r.title.clone()),
                via: None,
                relationship: None,
                derived: false,
            })
            .collect();
        let mut seen: BTreeSet<(String, String)> = c
            .requirements
            .iter()
            .map(|r| (r.framework.clone(), r.ref_id.clone()))
            .collect();
        for r in &c.requirements {
            let builtin = isms_catalog::builtin_mappings().links_of(&r.framework, &r.ref_id, None);
            let files = imported.links_of(&r.framework, &r.ref_id, None);
            for l in builtin.iter().chain(files.iter()) {
                if !installed.contains_key(l.framework)
                    || !seen.insert((l.framework.to_owned(), l.ref_id.to_owned()))
                {
                    continue;
                }
                out.push(Covered {
                    framework: l.framework.to_owned(),
                    ref_id: l.ref_id.to_owned(),
                    title: None,
                    via: Some(format!("{} {}", r.framework, r.ref_id)),
                    relationship: Some(l.relationship.as_str().to_owned()),
                    derived: l.derived_path.is_some(),
                });
            }
        }
        for m in out.iter_mut().filter(|m| m.title.is_none()) {
            if let Some(r) = self
                .requirement_by_ref(&m.framework, &m.ref_id, crate::Tenant::Org(org_id))
                .await?
            {
                m.title = Some(r.title);
            }
        }
        Ok(out)
    }

    /// Which requirements of a framework have an implemented control, only
    /// planned ones, or none, counting controls linked directly and those
    /// linked to a requirement of another framework mapped to it.
    pub async fn framework_coverage(
        &self,
        org_id: i64,
        framework: &str,
    ) -> Result<FrameworkCoverage> {
        let fw = self
            .framework(framework, crate::Tenant::Org(org_id))
            .await?
            .ok_or_else(|| {
                StoreError::NotFound(format!("the framework '{framework}' is not installed"))
            })?;
        // Only what the view shows: ref id and title, in the framework's order.
        let reqs: Vec<(String, String)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT ref_id, title FROM requirements WHERE framework_id = $1 ORDER BY position",
            )
            .bind(fw.id)
            .fetch_all(p)
            .await
        })?;
        let links: Vec<(i64, String, String, String)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT c.id, c.status, cr.framework, cr.ref_id FROM control_requirements cr \
             JOIN applied_controls c ON c.org_id = cr.org_id AND c.id = cr.applied_control_id WHERE cr.org_id = $1 \
             ORDER BY c.id"
        )
        .bind(org_id)
        .fetch_all(p)
        .await
        })?;
        let imported = self.org_mappings(org_id).await?;
        let builtin = isms_catalog::builtin_mappings();
        let mut direct: HashMap<&str, Vec<(i64, ControlStatus)>> = HashMap::new();
        // Target ref id -> (control, status, only through a derived mapping).
        let mut mapped: HashMap<&str, Vec<(i64, ControlStatus, bool)>> = HashMap::new();
        // One lookup per distinct linked requirement, however many controls share it.
        let mut targets: HashMap<(&str, &str), Vec<(&str, bool)>> = HashMap::new();
        for (id, status, f, r) in &links {
            let status: ControlStatus = status.parse().map_err(invalid)?;
            if *f == fw.slug {
                direct.entry(r.as_str()).or_default().push((*id, status));
                continue;
            }
            let to = targets.entry((f.as_str(), r.as_str())).or_insert_with(|| {
                let mut t: Vec<(&str, bool)> = builtin
                    .links_of(f, r, Some(&fw.slug))
                    .into_iter()
                    .chain(imported.links_of(f, r, Some(&fw.slug)))
                    .map(|l| (l.ref_id, l.derived_path.is_some()))
                    .collect();
                // Official before derived: a requirement reached both ways is official.
                t.sort_by_key(|(r, d)| (*r, *d));
                t.dedup_by_key(|(r, _)| *r);
                t
            });
            for (target, derived) in to.iter() {
                mapped
                    .entry(*target)
                    .or_default()
                    .push((*id, status, *derived));
            }
        }
        let mut out = FrameworkCoverage {
            framework: fw.slug.clone(),
            name: fw.name.clone(),
            rows: Vec::with_capacity(reqs.len()),
            implemented: 0,
            planned: 0,
            none: 0,
        };
        for (ref_id, title) in reqs {
            let d = direct.get(ref_id.as_str()).map_or(&[][..], Vec::as_slice);
            let m = mapped.get(ref_id.as_str()).map_or(&[][..], Vec::as_slice);
            let statuses: Vec<ControlStatus> = d
                .iter()
                .map(|(_, s)| *s)
                .chain(m.iter().map(|(_, s, _)| *s))
                .collect();
            let coverage = Coverage::of(&statuses);
            match coverage {
                Coverage::Implemented => out.implemented += 1,
                Coverage::Planned => out.planned += 1,
                Coverage::None => out.none += 1,
            }
            let mut controls: Vec<i64> = d.iter().map(|(id, _)| *id).collect();
            controls.dedup();
            let mut via: Vec<(i64, bool)> = m
                .iter()
                .filter(|(id, _, _)| !controls.contains(id))
                .map(|(id, _, derived)| (*id, *derived))
                .collect();
            // A control reached officially and through a derived mapping is official.
            via.sort_unstable();
            via.dedup_by_key(|(id, _)| *id);
            out.rows.push(CoverageRow {
                ref_id,
                title,
                coverage,
                controls,
                via_mappings: via.iter().map(|(id, _)| *id).collect(),
                via_derived: via
                    .iter()
                    .filter(|(_, derived)| *derived)
                    .map(|(id, _)| *id)
                    .collect(),
            });
        }
        Ok(out)
    }

    /// The readiness items controls and metrics make true: operational
    /// planning and control (8.1) and monitoring and measurement (9.1).
    pub(crate) async fn controls_readiness(
        &self,
        org_id: i64,
    ) -> Result<Vec<crate::ReadinessItem>> {
        use crate::ReadinessState as S;
        let today = today();
        let (total, implemented, overdue, review_overdue): (i64, i64, i64, i64) = on_pool!(
            self,
            |p| {
                sqlx::query_as(
                "SELECT COUNT(*), \
                 COALESCE(SUM(CASE WHEN status = 'implemented' THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN status IN ('planned', 'in_progress') AND due_date <> '' AND due_date < $2 THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN status <> 'retired' AND next_review <> '' AND next_review < $2 THEN 1 ELSE 0 END), 0) \
                 FROM applied_controls WHERE org_id = $1 AND status <> 'retired'",
            )
            .bind(org_id)
            .bind(&today)
            .fetch_one(p)
            .await
            }
        )?;
        let planning = if total == 0 {
            (S::Missing, "no applied controls recorded".to_owned())
        } else if implemented == 0 {
            (
                S::Incomplete,
                format!("{total} control(s), none implemented yet"),
            )
        } else if overdue > 0 || review_overdue > 0 {
            (
                S::Incomplete,
                format!(
                    "{implemented} of {total} control(s) implemented; {overdue} past their due date, {review_overdue} review(s) overdue"
                ),
            )
        } else {
            (
                S::Ready,
                format!("{implemented} of {total} control(s) implemented, none overdue"),
            )
        };
        let metrics = self.metrics(org_id).await?;
        let measured = metrics.iter().filter(|m| m.latest.is_some()).count();
        let stale = metrics.iter().filter(|m| m.overdue).count();
        let monitoring = if metrics.is_empty() {
            (S::Missing, "no metrics defined".to_owned())
        } else if measured == 0 {
            (
                S::Incomplete,
                format!("{} metric(s), none measured yet", metrics.len()),
            )
        } else if stale > 0 {
            (
                S::Incomplete,
                format!(
                    "{measured} of {} metric(s) measured; {stale} not measured within their frequency",
                    metrics.len()
                ),
            )
        } else {
            (
                S::Ready,
                format!("{} metric(s), all measured on time", metrics.len()),
            )
        };
        Ok(vec![
            crate::ReadinessItem {
                key: "operational_planning",
                clause: "8.1",
                title: "Operational planning and control",
                state: planning.0,
                detail: planning.1,
                link: "/controls",
            },
            crate::ReadinessItem {
                key: "monitoring",
                clause: "9.1",
                title: "Monitoring and measurement results",
                state: monitoring.0,
                detail: monitoring.1,
                link: "/metrics",
            },
        ])
    }

    /// Control reviews and evidence expiries due on or before `until`.
    pub async fn controls_due_items(&self, org_id: i64, until: &str) -> Result<Vec<DueItem>> {
        let reviews: Vec<(i64, String, Option<String>, String)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT c.id, c.name, u.email, c.next_review FROM applied_controls c LEFT JOIN users u ON u.id = c.owner_user_id \
                 WHERE c.org_id = $1 AND c.status <> 'retired' AND c.next_review <> '' AND c.next_review <= $2 \
                 ORDER BY c.next_review, c.id",
            )
            .bind(org_id)
            .bind(until)
            .fetch_all(p)
            .await
        })?;
        let expiring: Vec<(i64, String, Option<String>, String)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT e.id, e.title, \
                 (SELECT MIN(u.email) FROM evidence_controls ec JOIN applied_controls c ON c.org_id = ec.org_id AND c.id = ec.applied_control_id \
                   JOIN users u ON u.id = c.owner_user_id WHERE ec.org_id = e.org_id AND ec.evidence_id = e.id), \
                 e.expires_on FROM evidence e WHERE e.org_id = $1 AND e.expires_on <> '' AND e.expires_on <= $2 \
                 ORDER BY e.expires_on, e.id",
            )
            .bind(org_id)
            .bind(until)
            .fetch_all(p)
            .await
        })?;
        Ok(reviews
            .into_iter()
            .map(|(id, name, owner, due)| DueItem {
                kind: "control_review",
                id,
                title: format!("Review control: {name}"),
                owner,
                due_date: due,
                link: format!("/controls/{id}"),
            })
            .chain(expiring.into_iter().map(|(id, title, owner, due)| DueItem {
                kind: "evidence_expiry",
                id,
                title: format!("Evidence expires: {title}"),
                owner,
                due_date: due,
                link: format!("/evidence/{id}"),
            }))
            .collect())
    }
}

// ---------------------------------------------------------------- reviews

/// id, control, date, result, reviewer, notes, evidence, created at.
type ReviewRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    Option<i64>,
    String,
);
/// evidence, revision, sha256, size, content type, file name, uploaded at and by.
type RevisionRow = (i64, i64, String, i64, String, String, String, String);

/// One review of a control.
#[derive(Debug, Clone, Serialize)]
pub struct ControlReview {
    pub id: i64,
    pub applied_control_id: i64,
    pub reviewed_on: String,
    pub result: ReviewResult,
    /// E-mail of the reviewer.
    pub reviewer: String,
    pub notes: String,
    pub evidence_id: Option<i64>,
    pub created_at: String,
}

/// A review to record.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReviewInput {
    /// YYYY-MM-DD; today when absent.
    pub reviewed_on: Option<String>,
    pub result: Option<String>,
    /// E-mail of a member; the caller when absent.
    pub reviewer: Option<String>,
    pub notes: Option<String>,
    pub evidence_id: Option<i64>,
}

/// A control whose review is overdue.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OverdueReview {
    pub id: i64,
    pub name: String,
    pub owner: Option<String>,
    pub next_review: String,
}

impl Store {
    /// Records a review and moves the control's next review one period on.
    pub async fn record_control_review(
        &self,
        org_id: i64,
        control_id: i64,
        input: &ReviewInput,
        actor: &Actor,
    ) -> Result<ControlReview> {
        let result: ReviewResult = input
            .result
            .as_deref()
            .ok_or_else(|| {
                invalid("result: required (effective, partially_effective or not_effective)")
            })?
            .parse()
            .map_err(invalid)?;
        let reviewed_on = match input.reviewed_on.as_deref().map(str::trim) {
            None | Some("") => today(),
            Some(d) => rules::Date::parse("reviewed_on", d)
                .map_err(invalid)?
                .to_string(),
        };
        let notes = input.notes.as_deref().unwrap_or("").trim().to_owned();
        let mut tx = self.begin().await?;
        let control = control_in_tx(&mut tx, org_id, control_id)
            .await?
            .ok_or_else(|| control_missing(control_id))?;
        let reviewer_email = match input.reviewer.as_deref().map(str::trim) {
            Some(e) if !e.is_empty() => e.to_lowercase(),
            _ => actor.label.clone(),
        };
        let reviewer_id = member_id(&mut tx, org_id, "reviewer", &reviewer_email).await?;
        if let Some(e) = input.evidence_id {
            evidence_exists(&mut tx, org_id, e).await?;
        }
        let at = now();
        let (id,): (i64,) = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO control_reviews (org_id, applied_control_id, reviewed_on, result, reviewer_user_id, notes, evidence_id, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"
        )
        .bind(org_id)
        .bind(control_id)
        .bind(&reviewed_on)
        .bind(result.as_str())
        .bind(reviewer_id)
        .bind(&notes)
        .bind(input.evidence_id)
        .bind(&at)
        .bind(&actor.label)
        .fetch_one(c)
        .await
        })?;
        if let Some(s) = control.review_schedule {
            let last = rules::Date::parse("reviewed_on", &reviewed_on).map_err(invalid)?;
            let next = s.next_after(last).to_string();
            if next > control.next_review {
                // Derived from the review, not an edit of the control: the
                // version moves on so that open edit forms see the change.
                on_tx!(&mut tx, |c| {
                    sqlx::query(
                    "UPDATE applied_controls SET next_review = $1, version = version + 1 WHERE org_id = $2 AND id = $3"
                )
                .bind(&next)
                .bind(org_id)
                .bind(control_id)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
                })?;
            }
        }
        let review = ControlReview {
            id,
            applied_control_id: control_id,
            reviewed_on,
            result,
            reviewer: reviewer_email,
            notes,
            evidence_id: input.evidence_id,
            created_at: at,
        };
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "control_review",
                entity_id: id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&review).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(review)
    }

    /// A control's reviews, newest first.
    pub async fn control_reviews(
        &self,
        org_id: i64,
        control_id: i64,
    ) -> Result<Vec<ControlReview>> {
        let rows: Vec<ReviewRow> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT r.id, r.applied_control_id, r.reviewed_on, r.result, u.email, r.notes, r.evidence_id, r.created_at \
                 FROM control_reviews r JOIN users u ON u.id = r.reviewer_user_id \
                 WHERE r.org_id = $1 AND r.applied_control_id = $2 ORDER BY r.reviewed_on DESC, r.id DESC"
            )
            .bind(org_id)
            .bind(control_id)
            .fetch_all(p)
            .await
        })?;
        rows.into_iter()
            .map(
                |(id, c, on, result, reviewer, notes, evidence_id, created_at)| {
                    Ok(ControlReview {
                        id,
                        applied_control_id: c,
                        reviewed_on: on,
                        result: result.parse().map_err(invalid)?,
                        reviewer,
                        notes,
                        evidence_id,
                        created_at,
                    })
                },
            )
            .collect()
    }

    /// Live controls whose next review is before `today`, oldest first.
    pub async fn overdue_control_reviews(
        &self,
        org_id: i64,
        today: &str,
    ) -> Result<Vec<OverdueReview>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, OverdueReview>(
            "SELECT c.id, c.name, u.email AS owner, c.next_review FROM applied_controls c LEFT JOIN users u ON u.id = c.owner_user_id \
             WHERE c.org_id = $1 AND c.status <> 'retired' AND c.next_review <> '' AND c.next_review < $2 \
             ORDER BY c.next_review, c.id LIMIT 500"
        )
        .bind(org_id)
        .bind(today)
        .fetch_all(p)
        .await
        })?)
    }
}

// ---------------------------------------------------------------- evidence

async fn evidence_exists(tx: &mut Tx, org_id: i64, id: i64) -> Result<()> {
    let found: Option<(i64,)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT id FROM evidence WHERE org_id = $1 AND id = $2"
    )
    .bind(org_id)
    .bind(id)
    .fetch_optional(c)
    .await)?;
    found
        .map(|_| ())
        .ok_or_else(|| StoreError::NotFound(format!("no evidence {id} in this organisation")))
}

/// A file stored in the blob store, ready to be recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredFile {
    pub sha256: String,
    pub size: i64,
    /// Sniffed from the bytes, never taken from the client.
    pub content_type: String,
    pub file_name: String,
}

/// One revision of an evidence file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct EvidenceRevision {
    pub revision: i64,
    pub sha256: String,
    pub size: i64,
    pub content_type: String,
    pub file_name: String,
    pub uploaded_at: String,
    pub uploaded_by: String,
}

/// A piece of evidence: a file (with its revisions) or a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub id: i64,
    pub title: String,
    pub description: String,
    /// `file` or `link`.
    pub kind: String,
    pub url: String,
    pub collected_on: String,
    pub expires_on: String,
    pub expired: bool,
    /// Newest first; empty for links.
    pub revisions: Vec<EvidenceRevision>,
    /// Ids of the controls it proves.
    pub controls: Vec<i64>,
    pub requirements: Vec<RequirementKey>,
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
}

impl Evidence {
    pub fn current(&self) -> Option<&EvidenceRevision> {
        self.revisions.first()
    }
}

/// Fields of evidence to create.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EvidenceInput {
    pub title: Option<String>,
    pub description: Option<String>,
    /// For a link: http or https.
    pub url: Option<String>,
    /// YYYY-MM-DD; today when absent.
    pub collected_on: Option<String>,
    /// YYYY-MM-DD or empty.
    pub expires_on: Option<String>,
    /// Controls it proves.
    pub controls: Option<Vec<i64>>,
    pub requirements: Option<Vec<RequirementKey>>,
}

#[derive(sqlx::FromRow)]
struct EvidenceRow {
    id: i64,
    title: String,
    description: String,
    kind: String,
    url: String,
    collected_on: String,
    expires_on: String,
    version: i64,
    updated_at: String,
    updated_by: String,
}

const EVIDENCE_SELECT: &str = "SELECT e.id, e.title, e.description, e.kind, e.url, e.collected_on, e.expires_on, \
     e.version, e.updated_at, e.updated_by FROM evidence e WHERE e.org_id = $1";

/// Checks the fields of new evidence; returns (title, collected_on, expires_on).
fn check_evidence(input: &EvidenceInput, fallback_title: &str) -> Result<(String, String, String)> {
    let title = input
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(fallback_title)
        .to_owned();
    if title.is_empty() || title.chars().count() > 300 {
        return Err(invalid("title: 1 to 300 characters"));
    }
    let collected = match input.collected_on.as_deref().map(str::trim) {
        None | Some("") => today(),
        Some(d) => d.to_owned(),
    };
    let expires = input.expires_on.as_deref().unwrap_or("").trim().to_owned();
    rules::check_evidence_dates(&collected, &expires).map_err(invalid)?;
    Ok((title, collected, expires))
}

impl Store {
    /// Records new evidence, a file already in the blob store or a link,
    /// with its links to controls and requirements, all in one transaction.
    pub async fn create_evidence(
        &self,
        org_id: i64,
        input: &EvidenceInput,
        file: Option<&StoredFile>,
        actor: &Actor,
    ) -> Result<Evidence> {
        let mut tx = self.begin().await?;
        let e = create_evidence_in_tx(&mut tx, org_id, input, file, actor).await?;
        tx.commit().await?;
        Ok(e)
    }

    /// Adds a new revision of an evidence file; older revisions stay.
    pub async fn add_evidence_revision(
        &self,
        org_id: i64,
        id: i64,
        file: &StoredFile,
        actor: &Actor,
    ) -> Result<Evidence> {
        let mut tx = self.begin().await?;
        let before = evidence_in_tx(&mut tx, org_id, id)
            .await?
            .ok_or_else(|| evidence_missing(id))?;
        if before.kind != "file" {
            return Err(invalid(
                "file: this evidence is a link; it has no file revisions",
            ));
        }
        let next = before.revisions.first().map_or(1, |r| r.revision + 1);
        let at = now();
        insert_revision(&mut tx, org_id, id, next, file, &at, &actor.label).await?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE evidence SET version = version + 1, updated_at = $1, updated_by = $2 WHERE org_id = $3 AND id = $4"
        )
        .bind(&at)
        .bind(&actor.label)
        .bind(org_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        let after = evidence_in_tx(&mut tx, org_id, id)
            .await?
            .ok_or_else(|| evidence_missing(id))?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "revise",
                entity_type: "evidence",
                entity_id: id.to_string(),
                before: before.current().map(|r| json!(r)),
                after: after.current().map(|r| json!(r)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn evidence(&self, org_id: i64, id: i64) -> Result<Evidence> {
        let mut tx = self.begin_read().await?;
        evidence_in_tx(&mut tx, org_id, id)
            .await?
            .ok_or_else(|| evidence_missing(id))
    }

    /// All evidence, or only that linked to one control; expiring soonest first.
    pub async fn evidence_list(&self, org_id: i64, control: Option<i64>) -> Result<Vec<Evidence>> {
        let rows: Vec<EvidenceRow> = on_pool!(self, |p| {
            sqlx::query_as::<_, EvidenceRow>(&format!(
            "{EVIDENCE_SELECT} AND ($2 IS NULL OR EXISTS (SELECT 1 FROM evidence_controls ec \
               WHERE ec.org_id = e.org_id AND ec.evidence_id = e.id AND ec.applied_control_id = $2)) \
             ORDER BY e.expires_on = '', e.expires_on, e.id DESC LIMIT 1000"
        ))
        .bind(org_id)
        .bind(control)
        .fetch_all(p)
        .await
        })?;
        let revisions: Vec<(i64, EvidenceRevision)> = {
            let raw: Vec<RevisionRow> = on_pool!(self, |p| {
                sqlx::query_as(
                    "SELECT evidence_id, revision, sha256, size, content_type, file_name, uploaded_at, uploaded_by \
                     FROM evidence_revisions WHERE org_id = $1 ORDER BY evidence_id, revision DESC",
                )
                .bind(org_id)
                .fetch_all(p)
                .await
            })?;
            raw.into_iter()
                .map(
                    |(
                        e,
                        revision,
                        sha256,
                        size,
                        content_type,
                        file_name,
                        uploaded_at,
                        uploaded_by,
                    )| {
                        (
                            e,
                            EvidenceRevision {
                                revision,
                                sha256,
                                size,
                                content_type,
                                file_name,
                                uploaded_at,
                                uploaded_by,
                            },
                        )
                    },
                )
                .collect()
        };
        let links: Vec<(i64, i64)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT evidence_id, applied_control_id FROM evidence_controls WHERE org_id = $1 ORDER BY applied_control_id"
        )
        .bind(org_id)
        .fetch_all(p)
        .await
        })?;
        let mut revs: HashMap<i64, Vec<EvidenceRevision>> = HashMap::new();
        for (e, r) in revisions {
            revs.entry(e).or_default().push(r);
        }
        let mut ctl: HashMap<i64, Vec<i64>> = HashMap::new();
        for (e, c) in links {
            ctl.entry(e).or_default().push(c);
        }
        let today = today();
        Ok(rows
            .into_iter()
            .map(|r| {
                let mut e = evidence_from(r, &today);
                e.revisions = revs.remove(&e.id).unwrap_or_default();
                e.controls = ctl.remove(&e.id).unwrap_or_default();
                e
            })
            .collect())
    }

    /// Evidence expired, or expiring on or before `until`, soonest first.
    pub async fn expiring_evidence(&self, org_id: i64, until: &str) -> Result<Vec<Evidence>> {
        Ok(self
            .evidence_list(org_id, None)
            .await?
            .into_iter()
            .filter(|e| !e.expires_on.is_empty() && e.expires_on.as_str() <= until)
            .collect())
    }

    /// Whether any evidence of this organisation (or, with `None`, any
    /// organisation) refers to a blob: what a sweep of orphan blobs asks.
    pub async fn blob_in_use(&self, sha256: &str) -> Result<bool> {
        let (n,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM evidence_revisions WHERE sha256 = $1"
        )
        .bind(sha256)
        .fetch_one(p)
        .await)?;
        Ok(n > 0)
    }
}

fn evidence_from(r: EvidenceRow, today: &str) -> Evidence {
    Evidence {
        expired: rules::is_expired(&r.expires_on, today),
        id: r.id,
        title: r.title,
        description: r.description,
        kind: r.kind,
        url: r.url,
        collected_on: r.collected_on,
        expires_on: r.expires_on,
        revisions: Vec::new(),
        controls: Vec::new(),
        requirements: Vec::new(),
        version: r.version,
        updated_at: r.updated_at,
        updated_by: r.updated_by,
    }
}

fn evidence_missing(id: i64) -> StoreError {
    StoreError::NotFound(format!("no evidence {id} in this organisation"))
}

async fn insert_revision(
    tx: &mut Tx,
    org_id: i64,
    evidence_id: i64,
    revision: i64,
    f: &StoredFile,
    at: &str,
    by: &str,
) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO evidence_revisions (org_id, evidence_id, revision, sha256, size, content_type, file_name, uploaded_at, uploaded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )
    .bind(org_id)
    .bind(evidence_id)
    .bind(revision)
    .bind(&f.sha256)
    .bind(f.size)
    .bind(&f.content_type)
    .bind(&f.file_name)
    .bind(at)
    .bind(by)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

async fn evidence_in_tx(tx: &mut Tx, org_id: i64, id: i64) -> Result<Option<Evidence>> {
    let row = on_tx!(tx, |c| sqlx::query_as::<_, EvidenceRow>(&format!(
        "{EVIDENCE_SELECT} AND e.id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(c)
    .await)?;
    let Some(row) = row else { return Ok(None) };
    let mut e = evidence_from(row, &today());
    e.revisions = on_tx!(tx, |c| sqlx::query_as::<_, EvidenceRevision>(
        "SELECT revision, sha256, size, content_type, file_name, uploaded_at, uploaded_by \
         FROM evidence_revisions WHERE org_id = $1 AND evidence_id = $2 ORDER BY revision DESC"
    )
    .bind(org_id)
    .bind(id)
    .fetch_all(c)
    .await)?;
    let controls: Vec<(i64,)> = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT applied_control_id FROM evidence_controls WHERE org_id = $1 AND evidence_id = $2 ORDER BY applied_control_id"
    )
    .bind(org_id)
    .bind(id)
    .fetch_all(c)
    .await
    })?;
    e.controls = controls.into_iter().map(|(c,)| c).collect();
    let reqs: Vec<(String, String)> = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT framework, ref_id FROM evidence_requirements WHERE org_id = $1 AND evidence_id = $2 ORDER BY framework, ref_id"
    )
    .bind(org_id)
    .bind(id)
    .fetch_all(c)
    .await
    })?;
    e.requirements = reqs
        .into_iter()
        .map(|(framework, ref_id)| RequirementKey { framework, ref_id })
        .collect();
    Ok(Some(e))
}

/// Records new evidence inside `tx` (the caller commits): a file already in
/// the blob store or a link, with its links to controls and requirements.
pub(crate) async fn create_evidence_in_tx(
    tx: &mut Tx,
    org_id: i64,
    input: &EvidenceInput,
    file: Option<&StoredFile>,
    actor: &Actor,
) -> Result<Evidence> {
    let (title, collected, expires) =
        check_evidence(input, file.map_or("", |f| f.file_name.as_str()))?;
    let url = input.url.as_deref().unwrap_or("").trim().to_owned();
    let kind = match (file, url.is_empty()) {
        (Some(_), true) => "file",
        (None, false) => {
            let ok = url::Url::parse(&url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok || url.len() > 2000 {
                return Err(invalid(format!(
                    "url: '{url}' is not an http or https address"
                )));
            }
            "link"
        }
        (Some(_), false) => return Err(invalid("url: send a file or a link, not both")),
        (None, true) => return Err(invalid("file: required (or a url for a link)")),
    };
    let description = input.description.as_deref().unwrap_or("").trim().to_owned();
    let controls: BTreeSet<i64> = input.controls.iter().flatten().copied().collect();
    for c in &controls {
        let found: Option<(i64,)> = on_tx!(tx, |conn| sqlx::query_as(
            "SELECT id FROM applied_controls WHERE org_id = $1 AND id = $2"
        )
        .bind(org_id)
        .bind(*c)
        .fetch_optional(conn)
        .await)?;
        if found.is_none() {
            return Err(control_missing(*c));
        }
    }
    let reqs = if input.requirements.is_some() {
        resolve_links(
            tx,
            org_id,
            &ControlInput {
                requirements: input.requirements.clone(),
                ..ControlInput::default()
            },
        )
        .await?
        .unwrap_or_default()
    } else {
        Vec::new()
    };
    let at = now();
    let (id,): (i64,) = on_tx!(tx, |c| {
        sqlx::query_as(
        "INSERT INTO evidence (org_id, title, description, kind, url, collected_on, expires_on, created_at, created_by, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $9) RETURNING id"
    )
    .bind(org_id)
    .bind(&title)
    .bind(&description)
    .bind(kind)
    .bind(&url)
    .bind(&collected)
    .bind(&expires)
    .bind(&at)
    .bind(&actor.label)
    .fetch_one(c)
    .await
    })?;
    if let Some(f) = file {
        insert_revision(tx, org_id, id, 1, f, &at, &actor.label).await?;
    }
    for c in &controls {
        on_tx!(tx, |conn| {
            sqlx::query(
            "INSERT INTO evidence_controls (org_id, applied_control_id, evidence_id) VALUES ($1, $2, $3)"
        )
        .bind(org_id)
        .bind(*c)
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
    }
    for r in &reqs {
        on_tx!(tx, |conn| {
            sqlx::query(
            "INSERT INTO evidence_requirements (org_id, evidence_id, framework, ref_id) VALUES ($1, $2, $3, $4)"
        )
        .bind(org_id)
        .bind(id)
        .bind(&r.framework)
        .bind(&r.ref_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
    }
    let e = evidence_in_tx(tx, org_id, id)
        .await?
        .ok_or_else(|| evidence_missing(id))?;
    audit::record(
        tx,
        actor,
        Change {
            org_id,
            action: "create",
            entity_type: "evidence",
            entity_id: id.to_string(),
            before: None,
            after: Some(serde_json::to_value(&e).unwrap_or_default()),
        },
    )
    .await?;
    Ok(e)
}

versioned::versioned_record!(AppliedControl);
