//! Documented information: documents, their versions and workflow, the
//! requirements they address, acknowledgements and review dates. The rules
//! (states, four-eyes, version numbers, audiences, review dates) live in
//! `isms_domain::document`; this file loads, locks the document, calls them,
//! writes and audits, all in one transaction.

use std::collections::HashMap;
use std::fmt::Write as _;

use isms_domain::Role;
use isms_domain::document::{
    self as rules, Audience, Classification, DocStatus, DocType, Refused, Step, VersionNo,
    VersionState,
};
use isms_domain::document_templates::{self as templates, OrgFacts};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::due::DueItem;
use crate::notifications::NewNotification;
use crate::users::member_id;
use crate::versioned::{self, Claim, Key, Target};
use crate::{Result, Store, StoreError, Tx, is_unique_violation, now, on_pool, on_tx};

/// The longest Markdown body a version may have, in bytes.
pub const MAX_BODY: usize = 200_000;

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(e.to_string())
}

fn refused(e: &Refused) -> StoreError {
    StoreError::Conflict(e.to_string())
}

fn missing(id: i64) -> StoreError {
    StoreError::NotFound(format!(
        "document {id}: no such document in this organisation"
    ))
}

/// One version of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocVersion {
    pub id: i64,
    pub major: i64,
    pub minor: i64,
    /// "1.2".
    pub label: String,
    pub state: VersionState,
    pub body: String,
    pub change_note: String,
    pub author: String,
    #[serde(skip)]
    pub author_user_id: Option<i64>,
    #[serde(skip)]
    pub editor_user_id: Option<i64>,
    pub reviewers: Vec<String>,
    pub submitted_at: String,
    pub approved_by: String,
    pub approved_at: String,
    pub published_by: String,
    pub published_at: String,
    /// Who must acknowledge it, as sent when publishing ("" for nobody).
    pub acknowledge: String,
    /// YYYY-MM-DD: the day by which those asked must have acknowledged it
    /// ("" while unpublished).
    pub read_by: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    id: i64,
    document_id: i64,
    major: i64,
    minor: i64,
    state: String,
    body: String,
    change_note: String,
    author: String,
    author_user_id: Option<i64>,
    editor_user_id: Option<i64>,
    reviewers: String,
    submitted_at: String,
    approved_by: String,
    approved_at: String,
    published_by: String,
    published_at: String,
    acknowledge: String,
    read_by: String,
    created_at: String,
    updated_at: String,
}

impl VersionRow {
    fn into_version(self) -> (i64, DocVersion) {
        let read_by = if self.read_by.is_empty() {
            rules::read_by(&self.published_at, rules::DEFAULT_READING_DAYS)
        } else {
            self.read_by
        };
        (
            self.document_id,
            DocVersion {
                id: self.id,
                major: self.major,
                minor: self.minor,
                label: format!("{}.{}", self.major, self.minor),
                state: self.state.parse().unwrap_or(VersionState::Draft),
                body: self.body,
                change_note: self.change_note,
                author: self.author,
                author_user_id: self.author_user_id,
                editor_user_id: self.editor_user_id,
                reviewers: serde_json::from_str(&self.reviewers).unwrap_or_default(),
                submitted_at: self.submitted_at,
                approved_by: self.approved_by,
                approved_at: self.approved_at,
                published_by: self.published_by,
                published_at: self.published_at,
                acknowledge: self.acknowledge,
                read_by,
                created_at: self.created_at,
                updated_at: self.updated_at,
            },
        )
    }
}

const VERSION_COLS: &str = "id, document_id, major, minor, state, body, change_note, author, author_user_id, editor_user_id, \
     reviewers, submitted_at, approved_by, approved_at, published_by, published_at, acknowledge, read_by, created_at, updated_at";
const VERSION_COLS_NO_BODY: &str = "id, document_id, major, minor, state, '' AS body, change_note, author, author_user_id, editor_user_id, \
     reviewers, submitted_at, approved_by, approved_at, published_by, published_at, acknowledge, read_by, created_at, updated_at";

/// A document with its current and published versions and acknowledgement counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    pub id: i64,
    pub title: String,
    #[serde(rename = "type")]
    pub doc_type: DocType,
    /// The template it was created from, "" if none.
    pub template: String,
    /// E-mail of the owner.
    pub owner: Option<String>,
    #[serde(skip)]
    pub owner_user_id: Option<i64>,
    pub classification: Classification,
    pub review_months: i64,
    /// Days people have to read and acknowledge a published version.
    pub reading_days: i64,
    pub status: DocStatus,
    /// The last publication or confirmed review, "" before the first.
    pub reviewed_at: String,
    /// YYYY-MM-DD, "" while nothing is published.
    pub review_due: String,
    /// Clauses and Annex A controls addressed, e.g. `["5.2", "A.5.1"]`.
    pub requirements: Vec<String>,
    /// The latest version (the one the workflow moves).
    pub current: Option<DocVersion>,
    /// The version in force.
    pub published: Option<DocVersion>,
    /// People who must acknowledge the published version.
    pub required: i64,
    /// Of those, how many did (this major version).
    pub acknowledged: i64,
    pub version: i64,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub updated_by: String,
}

impl Document {
    /// Whether the review date has passed on `today` (YYYY-MM-DD).
    pub fn review_overdue(&self, today: &str) -> bool {
        self.status == DocStatus::Active
            && !self.review_due.is_empty()
            && self.review_due.as_str() < today
    }
    /// Acknowledgement completion in percent (100 when nobody must).
    pub fn percent(&self) -> i64 {
        if self.required == 0 {
            100
        } else {
            self.acknowledged * 100 / self.required
        }
    }
}

#[derive(sqlx::FromRow)]
struct DocRow {
    id: i64,
    title: String,
    doc_type: String,
    template: String,
    owner: Option<String>,
    owner_user_id: Option<i64>,
    classification: String,
    review_months: i64,
    reading_days: i64,
    status: String,
    reviewed_at: String,
    version: i64,
    created_at: String,
    created_by: String,
    updated_at: String,
    updated_by: String,
}

impl DocRow {
    fn into_document(self) -> Document {
        Document {
            id: self.id,
            title: self.title,
            doc_type: self.doc_type.parse().unwrap_or(DocType::Policy),
            template: self.template,
            owner: self.owner,
            owner_user_id: self.owner_user_id,
            classification: self
                .classification
                .parse()
                .unwrap_or(Classification::Internal),
            review_months: self.review_months,
            reading_days: self.reading_days,
            status: self.status.parse().unwrap_or(DocStatus::Active),
            review_due: rules::review_due(&self.reviewed_at, self.review_months),
            reviewed_at: self.reviewed_at,
            requirements: Vec::new(),
            current: None,
            published: None,
            required: 0,
            acknowledged: 0,
            version: self.version,
            created_at: self.created_at,
            created_by: self.created_by,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
        }
    }
}

const DOC_SELECT: &str = "SELECT d.id, d.title, d.doc_type, d.template, u.email AS owner, d.owner_user_id, d.classification, \
     d.review_months, d.reading_days, d.status, d.reviewed_at, d.version, d.created_at, d.created_by, d.updated_at, d.updated_by \
     FROM documents d LEFT JOIN users u ON u.id = d.owner_user_id";

/// A document to create (`template`, or `title` and `type`) or a change to
/// its details (`version` required).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DocumentInput {
    pub template: Option<String>,
    pub title: Option<String>,
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    pub body: Option<String>,
    /// E-mail of a member; "" removes the owner.
    pub owner: Option<String>,
    pub classification: Option<String>,
    pub review_months: Option<i64>,
    /// Days to read and acknowledge a published version (0 to 365, default 14).
    pub reading_days: Option<i64>,
    pub requirements: Option<Vec<String>>,
    pub version: Option<i64>,
}

/// A change to the text of the current draft (or a new draft after publication).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DraftInput {
    pub body: Option<String>,
    pub change_note: Option<String>,
    /// After publication: start a new major version (everyone acknowledges again).
    #[serde(default)]
    pub major: bool,
    /// The document's version you last read (optional: when sent, a stale one is refused).
    pub version: Option<i64>,
}

/// Filters of the register.
#[derive(Debug, Clone, Default)]
pub struct DocumentQuery {
    pub q: Option<String>,
    pub doc_type: Option<DocType>,
    pub status: Option<DocStatus>,
    /// The current version's state.
    pub state: Option<VersionState>,
    /// Only documents whose review date has passed.
    pub overdue: bool,
}

/// Something a member must still read and acknowledge.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ToRead {
    pub document_id: i64,
    pub title: String,
    pub doc_type: String,
    pub version: String,
    pub published_at: String,
}

/// A recorded acknowledgement.
#[derive(Debug, Clone, Serialize)]
pub struct Acknowledgement {
    pub document_id: i64,
    pub version: String,
    pub email: String,
    pub acknowledged_at: String,
}

/// One person asked to acknowledge the published version, and whether they did.
#[derive(Debug, Clone, Serialize)]
pub struct AckStatus {
    pub email: String,
    pub display_name: String,
    pub role: String,
    /// The version they acknowledged (of the same major), if any.
    pub version: Option<String>,
    pub acknowledged_at: Option<String>,
}

/// One row of the acknowledgement records export.
#[derive(Debug, Clone, Serialize)]
pub struct AckRecord {
    pub document_id: i64,
    pub title: String,
    pub version: String,
    pub email: String,
    pub display_name: String,
    /// "" while pending.
    pub acknowledged_at: String,
}

/// One person's acknowledgements of the versions in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PersonAcks {
    pub email: String,
    pub display_name: String,
    /// Published versions of active documents they are asked to acknowledge.
    pub required: i64,
    /// Of those, how many they did.
    pub acknowledged: i64,
}

impl PersonAcks {
    /// Completion in percent (100 when nothing is asked).
    pub fn percent(&self) -> i64 {
        if self.required == 0 {
            100
        } else {
            self.acknowledged * 100 / self.required
        }
    }
}

/// Someone reminded to acknowledge a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reminded {
    #[serde(skip)]
    pub user_id: i64,
    pub email: String,
    /// The day they were asked to acknowledge it by.
    pub read_by: String,
}

/// The organisation's document settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentSettings {
    /// Authors and editors may not approve their own versions.
    pub four_eyes: bool,
    /// 0 while never saved.
    pub version: i64,
}

async fn load_versions(tx: &mut Tx, org_id: i64, id: i64, bodies: bool) -> Result<Vec<DocVersion>> {
    let sql = format!(
        "SELECT {} FROM document_versions WHERE org_id = $1 AND document_id = $2 ORDER BY id",
        if bodies {
            VERSION_COLS
        } else {
            VERSION_COLS_NO_BODY
        }
    );
    let rows: Vec<VersionRow> = on_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(org_id)
        .bind(id)
        .fetch_all(c)
        .await)?;
    Ok(rows.into_iter().map(|r| r.into_version().1).collect())
}

/// Counts of (required, acknowledged) per document for the published versions.
async fn ack_counts(
    tx: &mut Tx,
    org_id: i64,
    only: Option<i64>,
) -> Result<HashMap<i64, (i64, i64)>> {
    let rows: Vec<(i64, i64, i64)> = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT r.document_id, COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM document_acks a \
           WHERE a.org_id = r.org_id AND a.document_id = r.document_id AND a.major = v.major AND a.user_id = r.user_id) \
           THEN 1 ELSE 0 END), 0) \
         FROM document_ack_requests r \
         JOIN document_versions v ON v.org_id = r.org_id AND v.id = r.version_id \
         JOIN memberships m ON m.org_id = r.org_id AND m.user_id = r.user_id AND m.active \
         WHERE r.org_id = $1 AND v.state = 'published' AND ($2 = 0 OR r.document_id = $2) \
         GROUP BY r.document_id"
    )
    .bind(org_id)
    .bind(only.unwrap_or(0))
    .fetch_all(c)
    .await
    })?;
    Ok(rows.into_iter().map(|(d, r, a)| (d, (r, a))).collect())
}

async fn document_in_tx(tx: &mut Tx, org_id: i64, id: i64) -> Result<Option<Document>> {
    let sql = format!("{DOC_SELECT} WHERE d.org_id = $1 AND d.id = $2");
    let row: Option<DocRow> = on_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(org_id)
        .bind(id)
        .fetch_optional(c)
        .await)?;
    let Some(row) = row else { return Ok(None) };
    let mut d = row.into_document();
    let refs: Vec<(String,)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT ref_id FROM document_requirements WHERE org_id = $1 AND document_id = $2"
    )
    .bind(org_id)
    .bind(id)
    .fetch_all(c)
    .await)?;
    d.requirements = refs.into_iter().map(|(r,)| r).collect();
    rules::sort_requirements(&mut d.requirements);
    let sql = format!(
        "SELECT {VERSION_COLS} FROM document_versions WHERE org_id = $1 AND document_id = $2 \
         AND (state = 'published' OR id = (SELECT MAX(id) FROM document_versions WHERE org_id = $1 AND document_id = $2)) ORDER BY id"
    );
    let rows: Vec<VersionRow> = on_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(org_id)
        .bind(id)
        .fetch_all(c)
        .await)?;
    for r in rows {
        let (_, v) = r.into_version();
        if v.state == VersionState::Published {
            d.published = Some(v.clone());
        }
        d.current = Some(v);
    }
    if let Some((r, a)) = ack_counts(tx, org_id, Some(id)).await?.remove(&id) {
        d.required = r;
        d.acknowledged = a;
    }
    Ok(Some(d))
}

fn check_requirements(list: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for r in list {
        out.push(rules::check_requirement(r).map_err(invalid)?);
    }
    rules::sort_requirements(&mut out);
    Ok(out)
}

async fn write_requirements(
    tx: &mut Tx,
    org_id: i64,
    id: i64,
    refs: &[String],
    replace: bool,
) -> Result<()> {
    if replace {
        on_tx!(tx, |c| sqlx::query(
            "DELETE FROM document_requirements WHERE org_id = $1 AND document_id = $2"
        )
        .bind(org_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    for r in refs {
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO document_requirements (org_id, document_id, ref_id) VALUES ($1, $2, $3)"
        )
        .bind(org_id)
        .bind(id)
        .bind(r)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

fn check_body(body: &str) -> Result<()> {
    if body.len() > MAX_BODY {
        return Err(invalid(format!(
            "body: {} bytes is more than the {MAX_BODY} a version may hold",
            body.len()
        )));
    }
    Ok(())
}

fn parse_field<T: std::str::FromStr<Err = String>>(field: &str, v: &str) -> Result<T> {
    v.parse()
        .map_err(|e: String| invalid(format!("{field}: {e}")))
}

fn audit_json(d: &Document) -> serde_json::Value {
    serde_json::to_value(d).unwrap_or_default()
}

/// Inserts a new version; returns its id.
#[allow(clippy::too_many_arguments)]
async fn insert_version(
    tx: &mut Tx,
    org_id: i64,
    doc_id: i64,
    no: VersionNo,
    body: &str,
    note: &str,
    actor: &Actor,
    at: &str,
) -> Result<i64> {
    let r: std::result::Result<(i64,), sqlx::Error> = on_tx!(tx, |c| {
        sqlx::query_as(
        "INSERT INTO document_versions (org_id, document_id, major, minor, state, body, change_note, author_user_id, author, \
         editor_user_id, created_at, updated_at) VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8, $7, $9, $9) RETURNING id"
    )
    .bind(org_id)
    .bind(doc_id)
    .bind(no.major)
    .bind(no.minor)
    .bind(body)
    .bind(note)
    .bind(actor.user_id)
    .bind(&actor.label)
    .bind(at)
    .fetch_one(c)
    .await
    });
    match r {
        Ok((id,)) => Ok(id),
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
            "version {no} of document {doc_id} exists already: reload the document"
        ))),
        Err(e) => Err(e.into()),
    }
}

async fn audit_change(
    tx: &mut Tx,
    actor: &Actor,
    org_id: i64,
    action: &str,
    before: Option<&Document>,
    after: Option<&Document>,
    id: i64,
) -> Result<()> {
    audit::record(
        tx,
        actor,
        Change {
            org_id,
            action,
            entity_type: "document",
            entity_id: id.to_string(),
            before: before.map(audit_json),
            after: after.map(audit_json),
        },
    )
    .await
}

/// Markdown describing the scope, for the templates.
fn scope_markdown(s: &crate::Scope) -> String {
    let mut out = s.statement.trim().to_owned();
    for (label, v) in [
        ("Organisational units", &s.units),
        ("Locations", &s.locations),
        ("Processes and services", &s.processes),
        ("Systems included", &s.systems_in),
        ("Systems excluded", &s.systems_out),
        ("Interfaces and dependencies", &s.interfaces),
        ("Exclusions and their justification", &s.exclusions),
    ] {
        let v = v.trim();
        if !v.is_empty() {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            let _ = write!(out, "**{label}:** {}", v.replace('\n', " "));
        }
    }
    out
}

fn methodology_markdown(m: &isms_domain::risk::Methodology) -> String {
    let names = |s: &[isms_domain::risk::ScaleStep]| {
        s.iter()
            .map(|x| x.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "Each risk is rated for likelihood on a {}-step scale ({}) and for impact on a {}-step scale ({}). \
         A matrix maps each pair to one of {} levels ({}). Risk owners may accept risks up to the level {}; \
         above it management decides and the reason is recorded.",
        m.likelihood.len(),
        names(&m.likelihood),
        m.impact.len(),
        names(&m.impact),
        m.levels.len(),
        m.levels
            .iter()
            .map(|l| l.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        m.level_name(m.max_acceptable_level)
    )
}

impl Store {
    /// A transaction used only to read, so helpers shared with writes work.
    async fn documents_read_tx(&self) -> Result<Tx> {
        Ok(match &self.pool {
            crate::Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            crate::Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// What fills the templates' placeholders.
    pub async fn template_facts(&self, org_id: i64) -> Result<OrgFacts> {
        let org = self.org_by_id(org_id).await?;
        let scope = self.scope(org_id).await?;
        let mut roles: Vec<(String, Vec<String>)> = Vec::new();
        for role in Role::ALL {
            if role == Role::Employee {
                continue;
            }
            let people: Vec<String> = self
                .members(org_id)
                .await?
                .into_iter()
                .filter(|m| m.active && m.role == role)
                .map(|m| {
                    if m.display_name.trim().is_empty() {
                        m.email
                    } else {
                        format!("{} ({})", m.display_name, m.email)
                    }
                })
                .collect();
            if !people.is_empty() {
                roles.push((role.label().to_owned(), people));
            }
        }
        let m = self.risk_methodology(org_id).await?;
        Ok(OrgFacts {
            organisation: org.map(|o| o.name).unwrap_or_default(),
            scope: scope_markdown(&scope),
            roles,
            risk_methodology: methodology_markdown(&m),
        })
    }

    /// Creates a document from a template (placeholders filled) or from a
    /// title, type and body; its first version is a draft 1.0.
    pub async fn create_document(
        &self,
        org_id: i64,
        input: &DocumentInput,
        actor: &Actor,
    ) -> Result<Document> {
        let tpl = match input
            .template
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            Some(id) => Some(templates::template(id).ok_or_else(|| {
                invalid(format!(
                    "template: '{id}' is not a template; GET /api/v1/document-templates lists them"
                ))
            })?),
            None => None,
        };
        let title = input
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .or_else(|| tpl.map(|t| t.title.to_owned()))
            .ok_or_else(|| invalid("title: required (or send a template)"))?;
        if title.chars().count() > 300 {
            return Err(invalid("title: at most 300 characters"));
        }
        let doc_type = match (input.doc_type.as_deref(), tpl) {
            (Some(t), _) => parse_field::<DocType>("type", t)?,
            (None, Some(t)) => t.doc_type,
            (None, None) => {
                return Err(invalid(
                    "type: required (policy, procedure, standard, record, plan or statement)",
                ));
            }
        };
        let classification = match (input.classification.as_deref(), tpl) {
            (Some(c), _) => parse_field::<Classification>("classification", c)?,
            (None, Some(t)) => t.classification,
            (None, None) => Classification::Internal,
        };
        let review_months =
            rules::check_review_months(input.review_months.unwrap_or(12)).map_err(invalid)?;
        let reading_days =
            rules::check_reading_days(input.reading_days.unwrap_or(rules::DEFAULT_READING_DAYS))
                .map_err(invalid)?;
        let mut refs: Vec<String> = tpl
            .map(|t| t.requirements.iter().map(|r| (*r).to_owned()).collect())
            .unwrap_or_default();
        refs.extend(check_requirements(
            input.requirements.as_deref().unwrap_or(&[]),
        )?);
        let refs = check_requirements(&refs)?;
        let body = match (&input.body, tpl) {
            (Some(b), _) => b.clone(),
            (None, Some(t)) => templates::fill(t.body, &self.template_facts(org_id).await?),
            (None, None) => String::new(),
        };
        check_body(&body)?;
        let mut tx = self.begin().await?;
        let owner_user_id = match input.owner.as_deref().map(str::trim) {
            Some("") => None,
            Some(email) => Some(member_id(&mut tx, org_id, "owner", email).await?),
            None => actor.user_id,
        };
        let at = now();
        let (id,): (i64,) = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO documents (org_id, title, doc_type, template, owner_user_id, classification, review_months, \
             search_text, created_at, created_by, updated_at, updated_by, reading_days) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9, $10, $11) RETURNING id"
        )
        .bind(org_id)
        .bind(&title)
        .bind(doc_type.as_str())
        .bind(tpl.map_or("", |t| t.id))
        .bind(owner_user_id)
        .bind(classification.as_str())
        .bind(review_months)
        .bind(title.to_lowercase())
        .bind(&at)
        .bind(&actor.label)
        .bind(reading_days)
        .fetch_one(c)
        .await
        })?;
        write_requirements(&mut tx, org_id, id, &refs, false).await?;
        insert_version(&mut tx, org_id, id, VersionNo::FIRST, &body, "", actor, &at).await?;
        let d = document_in_tx(&mut tx, org_id, id)
            .await?
            .ok_or_else(|| missing(id))?;
        audit_change(&mut tx, actor, org_id, "create", None, Some(&d), id).await?;
        tx.commit().await?;
        Ok(d)
    }

    pub async fn document(&self, org_id: i64, id: i64) -> Result<Document> {
        let mut tx = self.documents_read_tx().await?;
        document_in_tx(&mut tx, org_id, id)
            .await?
            .ok_or_else(|| missing(id))
    }

    /// Every version of a document, oldest first.
    pub async fn document_versions(&self, org_id: i64, id: i64) -> Result<Vec<DocVersion>> {
        let mut tx = self.documents_read_tx().await?;
        load_versions(&mut tx, org_id, id, true).await
    }

    /// The register, filtered, by title.
    pub async fn documents(&self, org_id: i64, q: &DocumentQuery) -> Result<Vec<Document>> {
        let mut tx = self.documents_read_tx().await?;
        let sql = format!("{DOC_SELECT} WHERE d.org_id = $1 ORDER BY d.title, d.id");
        let rows: Vec<DocRow> = on_tx!(&mut tx, |c| sqlx::query_as(&sql)
            .bind(org_id)
            .fetch_all(c)
            .await)?;
        let mut docs: Vec<Document> = rows.into_iter().map(DocRow::into_document).collect();
        let refs: Vec<(i64, String)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT document_id, ref_id FROM document_requirements WHERE org_id = $1"
        )
        .bind(org_id)
        .fetch_all(c)
        .await)?;
        let mut by_doc: HashMap<i64, Vec<String>> = HashMap::new();
        for (d, r) in refs {
            by_doc.entry(d).or_default().push(r);
        }
        let sql = format!(
            "SELECT {VERSION_COLS_NO_BODY} FROM document_versions WHERE org_id = $1 AND state <> 'superseded' ORDER BY id"
        );
        let versions: Vec<VersionRow> = on_tx!(&mut tx, |c| sqlx::query_as(&sql)
            .bind(org_id)
            .fetch_all(c)
            .await)?;
        let mut vs: HashMap<i64, Vec<DocVersion>> = HashMap::new();
        for v in versions {
            let (d, v) = v.into_version();
            vs.entry(d).or_default().push(v);
        }
        let counts = ack_counts(&mut tx, org_id, None).await?;
        for d in &mut docs {
            d.requirements = by_doc.remove(&d.id).unwrap_or_default();
            rules::sort_requirements(&mut d.requirements);
            for v in vs.remove(&d.id).unwrap_or_default() {
                if v.state == VersionState::Published {
                    d.published = Some(v.clone());
                }
                d.current = Some(v);
            }
            if let Some(&(r, a)) = counts.get(&d.id) {
                d.required = r;
                d.acknowledged = a;
            }
        }
        let today = now();
        let today = today.get(..10).unwrap_or("");
        let text =
            q.q.as_deref()
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty());
        docs.retain(|d| {
            text.as_ref().is_none_or(|t| {
                d.title.to_lowercase().contains(t.as_str())
                    || d.requirements.iter().any(|r| r.eq_ignore_ascii_case(t))
            }) && q.doc_type.is_none_or(|t| d.doc_type == t)
                && q.status.is_none_or(|s| d.status == s)
                && q.state
                    .is_none_or(|s| d.current.as_ref().is_some_and(|v| v.state == s))
                && (!q.overdue || d.review_overdue(today))
        });
        Ok(docs)
    }

    /// Locks the document for a change: claims `sent` when given, else the
    /// row as it is. Returns the transaction and the document before the change.
    async fn lock_document(
        &self,
        org_id: i64,
        id: i64,
        sent: Option<i64>,
    ) -> Result<(Tx, Document)> {
        let mut tx = self.begin().await?;
        let sent = if let Some(s) = sent {
            s
        } else {
            let v: Option<(i64,)> = on_tx!(&mut tx, |c| sqlx::query_as(
                "SELECT version FROM documents WHERE org_id = $1 AND id = $2"
            )
            .bind(org_id)
            .bind(id)
            .fetch_optional(c)
            .await)?;
            v.ok_or_else(|| missing(id))?.0
        };
        let before = versioned::claim_and_load(
            &mut tx,
            &Target {
                table: "documents",
                org_id,
                keys: &[("id", Key::Int(id))],
            },
            sent,
            &format!("document {id}"),
            async |tx| document_in_tx(tx, org_id, id).await,
            || missing(id),
        )
        .await?;
        Ok((tx, before))
    }

    /// Stamps the document as changed by `actor` and writes the audit entry;
    /// returns the document after.
    async fn finish_change(
        &self,
        mut tx: Tx,
        org_id: i64,
        before: &Document,
        action: &str,
        actor: &Actor,
    ) -> Result<Document> {
        let at = now();
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE documents SET updated_at = $1, updated_by = $2 WHERE org_id = $3 AND id = $4"
        )
        .bind(&at)
        .bind(&actor.label)
        .bind(org_id)
        .bind(before.id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        let after = document_in_tx(&mut tx, org_id, before.id)
            .await?
            .ok_or_else(|| missing(before.id))?;
        audit_change(
            &mut tx,
            actor,
            org_id,
            action,
            Some(before),
            Some(&after),
            before.id,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Changes the details of a document (title, type, owner, classification,
    /// review interval, requirements); `version` required.
    pub async fn update_document(
        &self,
        org_id: i64,
        id: i64,
        input: &DocumentInput,
        actor: &Actor,
    ) -> Result<Document> {
        let Some(sent) = input.version else {
            return Err(versioned::version_required(" of the document"));
        };
        let refs = input
            .requirements
            .as_deref()
            .map(check_requirements)
            .transpose()?;
        let (mut tx, before) = self.lock_document(org_id, id, Some(sent)).await?;
        let mut title = before.title.clone();
        if let Some(t) = &input.title {
            let t = t.trim();
            if t.is_empty() || t.chars().count() > 300 {
                return Err(invalid("title: required, at most 300 characters"));
            }
            t.clone_into(&mut title);
        }
        let doc_type = match &input.doc_type {
            Some(t) => parse_field::<DocType>("type", t)?,
            None => before.doc_type,
        };
        let classification = match &input.classification {
            Some(c) => parse_field::<Classification>("classification", c)?,
            None => before.classification,
        };
        let review_months = match input.review_months {
            Some(m) => rules::check_review_months(m).map_err(invalid)?,
            None => before.review_months,
        };
        let reading_days = match input.reading_days {
            Some(d) => rules::check_reading_days(d).map_err(invalid)?,
            None => before.reading_days,
        };
        let owner = match input.owner.as_deref().map(str::trim) {
            None => before.owner_user_id,
            Some("") => None,
            Some(e) => Some(member_id(&mut tx, org_id, "owner", e).await?),
        };
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE documents SET title = $1, doc_type = $2, classification = $3, review_months = $4, owner_user_id = $5, \
             search_text = $6, reading_days = $9 WHERE org_id = $7 AND id = $8"
        )
        .bind(&title)
        .bind(doc_type.as_str())
        .bind(classification.as_str())
        .bind(review_months)
        .bind(owner)
        .bind(title.to_lowercase())
        .bind(org_id)
        .bind(id)
        .bind(reading_days)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if let Some(refs) = &refs {
            write_requirements(&mut tx, org_id, id, refs, true).await?;
        }
        self.finish_change(tx, org_id, &before, "update", actor)
            .await
    }

    /// Saves the text of the current draft; after publication (or with
    /// nothing in progress) starts a new draft version.
    pub async fn save_document_draft(
        &self,
        org_id: i64,
        id: i64,
        input: &DraftInput,
        actor: &Actor,
    ) -> Result<Document> {
        if let Some(b) = &input.body {
            check_body(b)?;
        }
        let (mut tx, before) = self.lock_document(org_id, id, input.version).await?;
        if before.status == DocStatus::Retired {
            return Err(refused(&Refused::Retired));
        }
        let Some(current) = &before.current else {
            return Err(missing(id));
        };
        let at = now();
        if current.state == VersionState::Published {
            let no = VersionNo::after(
                Some(VersionNo {
                    major: current.major,
                    minor: current.minor,
                }),
                input.major,
            );
            let body = input.body.clone().unwrap_or_else(|| current.body.clone());
            insert_version(
                &mut tx,
                org_id,
                id,
                no,
                &body,
                input.change_note.as_deref().unwrap_or(""),
                actor,
                &at,
            )
            .await?;
        } else {
            rules::next_state(current.state, Step::Edit, &current.label)
                .map_err(|e| refused(&e))?;
            let body = input.body.as_deref().unwrap_or(&current.body);
            let note = input.change_note.as_deref().unwrap_or(&current.change_note);
            on_tx!(&mut tx, |c| {
                sqlx::query(
                "UPDATE document_versions SET body = $1, change_note = $2, editor_user_id = $3, updated_at = $4 \
                 WHERE org_id = $5 AND id = $6"
            )
            .bind(body)
            .bind(note)
            .bind(actor.user_id)
            .bind(&at)
            .bind(org_id)
            .bind(current.id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
            })?;
        }
        self.finish_change(tx, org_id, &before, "save_draft", actor)
            .await
    }

    /// Locks the document and checks that its current version may take `step`.
    async fn step(&self, org_id: i64, id: i64, step: Step) -> Result<(Tx, Document, DocVersion)> {
        let (tx, before) = self.lock_document(org_id, id, None).await?;
        if before.status == DocStatus::Retired {
            return Err(refused(&Refused::Retired));
        }
        let current = before.current.clone().ok_or_else(|| missing(id))?;
        rules::next_state(current.state, step, &current.label).map_err(|e| refused(&e))?;
        Ok((tx, before, current))
    }

    /// Hands the current draft to reviewers (e-mail addresses of members).
    /// Returns the document and the reviewers' user ids to tell.
    pub async fn submit_document(
        &self,
        org_id: i64,
        id: i64,
        reviewers: &[String],
        actor: &Actor,
    ) -> Result<Document> {
        let (mut tx, before, current) = self.step(org_id, id, Step::Submit).await?;
        let mut emails = Vec::new();
        let mut ids = Vec::new();
        for r in reviewers {
            let e = r.trim().to_lowercase();
            if e.is_empty() || emails.contains(&e) {
                continue;
            }
            ids.push(member_id(&mut tx, org_id, "reviewers", &e).await?);
            emails.push(e);
        }
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE document_versions SET state = 'in_review', reviewers = $1, submitted_at = $2, updated_at = $2 \
             WHERE org_id = $3 AND id = $4"
        )
        .bind(serde_json::to_string(&emails).unwrap_or_else(|_| "[]".into()))
        .bind(now())
        .bind(org_id)
        .bind(current.id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        let after = self
            .finish_change(tx, org_id, &before, "submit", actor)
            .await?;
        let link = format!("/documents/{id}");
        let title = format!("Please review “{}” version {}", after.title, current.label);
        for uid in ids {
            self.notify(
                org_id,
                uid,
                &NewNotification {
                    category: "document_review",
                    title: &title,
                    body: "You were named as a reviewer. Read it, then approve it or send it back to draft.",
                    link: &link,
                    dedupe_key: Some(&format!("document-review-{}", current.id)),
                },
            )
            .await?;
        }
        Ok(after)
    }

    /// Sends a version in review (or approved, not yet published) back to draft.
    pub async fn reject_document(&self, org_id: i64, id: i64, actor: &Actor) -> Result<Document> {
        let (mut tx, before, current) = self.step(org_id, id, Step::Reject).await?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE document_versions SET state = 'draft', approved_by = '', approved_by_user_id = NULL, approved_at = '', \
             updated_at = $1 WHERE org_id = $2 AND id = $3"
        )
        .bind(now())
        .bind(org_id)
        .bind(current.id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        self.finish_change(tx, org_id, &before, "reject", actor)
            .await
    }

    /// Approves the version in review. Under four-eyes its author and last
    /// editor may not.
    pub async fn approve_document(&self, org_id: i64, id: i64, actor: &Actor) -> Result<Document> {
        let settings = self.document_settings(org_id).await?;
        let (mut tx, before, current) = self.step(org_id, id, Step::Approve).await?;
        rules::check_approver(
            settings.four_eyes,
            actor.user_id,
            &[current.author_user_id, current.editor_user_id],
            &current.label,
        )
        .map_err(|e| refused(&e))?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE document_versions SET state = 'approved', approved_by = $1, approved_by_user_id = $2, approved_at = $3, \
             updated_at = $3 WHERE org_id = $4 AND id = $5"
        )
        .bind(&actor.label)
        .bind(actor.user_id)
        .bind(now())
        .bind(org_id)
        .bind(current.id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        self.finish_change(tx, org_id, &before, "approve", actor)
            .await
    }

    /// Puts the approved version in force; the one before is superseded.
    /// `audience` (or, when absent, the previous version's) must acknowledge
    /// it within `reading_days` (absent: the document's reading period);
    /// they are told in their inbox.
    pub async fn publish_document(
        &self,
        org_id: i64,
        id: i64,
        audience: Option<&Audience>,
        reading_days: Option<i64>,
        actor: &Actor,
    ) -> Result<Document> {
        let reading_days = reading_days
            .map(rules::check_reading_days)
            .transpose()
            .map_err(invalid)?;
        let (mut tx, before, current) = self.step(org_id, id, Step::Publish).await?;
        let reading_days = reading_days.unwrap_or(before.reading_days);
        let audience: Option<Audience> = match audience {
            Some(a) => Some(a.clone()),
            None => before
                .published
                .as_ref()
                .and_then(|p| serde_json::from_str::<serde_json::Value>(&p.acknowledge).ok())
                .and_then(|v| Audience::parse(&v).ok()),
        };
        let mut required: Vec<i64> = Vec::new();
        if let Some(a) = &audience {
            if let Audience::People(emails) = a {
                for e in emails {
                    required.push(member_id(&mut tx, org_id, "acknowledge", e).await?);
                }
            } else {
                let members: Vec<(i64, String, String)> = on_tx!(&mut tx, |c| {
                    sqlx::query_as(
                    "SELECT u.id, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id \
                     WHERE m.org_id = $1 AND m.active ORDER BY u.id"
                )
                .bind(org_id)
                .fetch_all(c)
                .await
                })?;
                for (uid, email, role) in members {
                    if let Ok(role) = role.parse::<Role>()
                        && a.includes(&email, role)
                    {
                        required.push(uid);
                    }
                }
            }
        }
        let at = now();
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE document_versions SET state = 'superseded', updated_at = $1 WHERE org_id = $2 AND document_id = $3 AND state = 'published'"
        )
        .bind(&at)
        .bind(org_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE document_versions SET state = 'published', published_by = $1, published_at = $2, acknowledge = $3, \
             updated_at = $2, read_by = $6 WHERE org_id = $4 AND id = $5"
        )
        .bind(&actor.label)
        .bind(&at)
        .bind(audience.as_ref().map(|a| a.to_json().to_string()).unwrap_or_default())
        .bind(org_id)
        .bind(current.id)
        .bind(rules::read_by(&at, reading_days))
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE documents SET reviewed_at = $1 WHERE org_id = $2 AND id = $3"
        )
        .bind(&at)
        .bind(org_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        for uid in &required {
            on_tx!(&mut tx, |c| {
                sqlx::query(
                "INSERT INTO document_ack_requests (org_id, document_id, version_id, user_id, requested_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"
            )
            .bind(org_id)
            .bind(id)
            .bind(current.id)
            .bind(uid)
            .bind(&at)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
            })?;
        }
        let after = self
            .finish_change(tx, org_id, &before, "publish", actor)
            .await?;
        self.notify_pending(org_id, &after, &format!("document-ack-{}", current.id))
            .await?;
        Ok(after)
    }

    /// Messages everyone who must still acknowledge the published version;
    /// returns those told (not told before under `key`).
    async fn notify_pending(&self, org_id: i64, d: &Document, key: &str) -> Result<Vec<Reminded>> {
        let Some(p) = &d.published else {
            return Ok(Vec::new());
        };
        let title = format!(
            "Please read and acknowledge “{}” version {}",
            d.title, p.label
        );
        let link = format!("/documents/{}", d.id);
        let mut told = Vec::new();
        for (s, email) in self.pending_acknowledgers(org_id, d.id).await? {
            if self
                .notify(
                    org_id,
                    s,
                    &NewNotification {
                        category: "document_acknowledgement",
                        title: &title,
                        body: "Open the document, read it and acknowledge it.",
                        link: &link,
                        dedupe_key: Some(key),
                    },
                )
                .await?
            {
                told.push(Reminded {
                    user_id: s,
                    email,
                    read_by: p.read_by.clone(),
                });
            }
        }
        Ok(told)
    }

    async fn pending_acknowledgers(&self, org_id: i64, id: i64) -> Result<Vec<(i64, String)>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT r.user_id, u.email FROM document_ack_requests r \
             JOIN users u ON u.id = r.user_id \
             JOIN document_versions v ON v.org_id = r.org_id AND v.id = r.version_id AND v.state = 'published' \
             JOIN memberships m ON m.org_id = r.org_id AND m.user_id = r.user_id AND m.active \
             WHERE r.org_id = $1 AND r.document_id = $2 AND NOT EXISTS (SELECT 1 FROM document_acks a \
               WHERE a.org_id = r.org_id AND a.document_id = r.document_id AND a.major = v.major AND a.user_id = r.user_id) \
             ORDER BY r.user_id"
        )
        .bind(org_id)
        .bind(id)
        .fetch_all(p)
        .await
        })?)
    }

    /// Reminds those who have not acknowledged yet in their inbox (once a
    /// day at most); returns who was reminded now, so the caller can e-mail
    /// them too.
    pub async fn remind_document_late(&self, org_id: i64, id: i64) -> Result<Vec<Reminded>> {
        let d = self.document(org_id, id).await?;
        let Some(p) = &d.published else {
            return Err(StoreError::Conflict(format!(
                "document {id} has no published version: nobody has anything to acknowledge"
            )));
        };
        let today = now();
        self.notify_pending(
            org_id,
            &d,
            &format!("document-remind-{}-{}", p.id, today.get(..10).unwrap_or("")),
        )
        .await
    }

    /// Retires a document: it stays readable, no longer in force or due.
    pub async fn retire_document(&self, org_id: i64, id: i64, actor: &Actor) -> Result<Document> {
        let (mut tx, before) = self.lock_document(org_id, id, None).await?;
        if before.status == DocStatus::Retired {
            return Err(refused(&Refused::Retired));
        }
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE documents SET status = 'retired' WHERE org_id = $1 AND id = $2"
        )
        .bind(org_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        self.finish_change(tx, org_id, &before, "retire", actor)
            .await
    }

    /// Records that the published version was reviewed and still holds.
    pub async fn mark_document_reviewed(
        &self,
        org_id: i64,
        id: i64,
        actor: &Actor,
    ) -> Result<Document> {
        let (mut tx, before) = self.lock_document(org_id, id, None).await?;
        if before.status == DocStatus::Retired {
            return Err(refused(&Refused::Retired));
        }
        if before.published.is_none() {
            return Err(StoreError::Conflict(format!(
                "document {id} has no published version to confirm: publish one first"
            )));
        }
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE documents SET reviewed_at = $1 WHERE org_id = $2 AND id = $3"
        )
        .bind(now())
        .bind(org_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        self.finish_change(tx, org_id, &before, "review", actor)
            .await
    }

    /// Records that `user_id` read and acknowledged the published version.
    /// Twice for the same major version is refused (409) and records nothing.
    pub async fn acknowledge_document(
        &self,
        org_id: i64,
        id: i64,
        user_id: i64,
        actor: &Actor,
    ) -> Result<Acknowledgement> {
        let mut tx = self.begin().await?;
        let d = document_in_tx(&mut tx, org_id, id)
            .await?
            .ok_or_else(|| missing(id))?;
        if d.status == DocStatus::Retired {
            return Err(refused(&Refused::Retired));
        }
        let Some(p) = &d.published else {
            return Err(StoreError::Conflict(format!(
                "document {id} has no published version to acknowledge yet"
            )));
        };
        let at = now();
        let r = on_tx!(&mut tx, |c| {
            sqlx::query(
            "INSERT INTO document_acks (org_id, document_id, major, user_id, version_id, acknowledged_at) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(org_id)
        .bind(id)
        .bind(p.major)
        .bind(user_id)
        .bind(p.id)
        .bind(&at)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        });
        if let Err(e) = r {
            if is_unique_violation(&e) {
                drop(tx);
                let prior: Option<(i64, i64, String)> = on_pool!(self, |pool| sqlx::query_as(
                    "SELECT v.major, v.minor, a.acknowledged_at FROM document_acks a \
                     JOIN document_versions v ON v.org_id = a.org_id AND v.id = a.version_id \
                     WHERE a.org_id = $1 AND a.document_id = $2 AND a.major = $3 AND a.user_id = $4"
                )
                .bind(org_id)
                .bind(id)
                .bind(p.major)
                .bind(user_id)
                .fetch_optional(pool)
                .await)?;
                let (ver, when) = prior.map_or((p.label.clone(), String::new()), |(a, b, w)| {
                    (format!("{a}.{b}"), w)
                });
                return Err(StoreError::Conflict(format!(
                    "already acknowledged: you acknowledged version {ver} of “{}” on {}; nothing was recorded again",
                    d.title,
                    when.get(..10).unwrap_or(&when)
                )));
            }
            return Err(e.into());
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "acknowledge",
                entity_type: "document",
                entity_id: id.to_string(),
                before: None,
                after: Some(json!({"version": p.label, "user_id": user_id, "acknowledged_at": at})),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Acknowledgement {
            document_id: id,
            version: p.label.clone(),
            email: actor.label.clone(),
            acknowledged_at: at,
        })
    }

    /// What `user_id` must still read and acknowledge.
    pub async fn documents_to_read(&self, org_id: i64, user_id: i64) -> Result<Vec<ToRead>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT d.id AS document_id, d.title, d.doc_type, \
             CAST(v.major AS TEXT) || '.' || CAST(v.minor AS TEXT) AS version, v.published_at \
             FROM document_ack_requests r \
             JOIN documents d ON d.org_id = r.org_id AND d.id = r.document_id AND d.status = 'active' \
             JOIN document_versions v ON v.org_id = r.org_id AND v.id = r.version_id AND v.state = 'published' \
             WHERE r.org_id = $1 AND r.user_id = $2 AND NOT EXISTS (SELECT 1 FROM document_acks a \
               WHERE a.org_id = r.org_id AND a.document_id = r.document_id AND a.major = v.major AND a.user_id = r.user_id) \
             ORDER BY v.published_at, d.id"
        )
        .bind(org_id)
        .bind(user_id)
        .fetch_all(p)
        .await
        })?)
    }

    /// Whether `user_id` acknowledged the published version's major version: when.
    pub async fn acknowledged_at(
        &self,
        org_id: i64,
        id: i64,
        user_id: i64,
    ) -> Result<Option<String>> {
        let r: Option<(String,)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT a.acknowledged_at FROM document_acks a JOIN document_versions v \
             ON v.org_id = a.org_id AND v.document_id = a.document_id AND v.state = 'published' AND v.major = a.major \
             WHERE a.org_id = $1 AND a.document_id = $2 AND a.user_id = $3"
        )
        .bind(org_id)
        .bind(id)
        .bind(user_id)
        .fetch_optional(p)
        .await
        })?;
        Ok(r.map(|(a,)| a))
    }

    /// Everyone asked to acknowledge the published version, and who did.
    pub async fn document_ack_status(&self, org_id: i64, id: i64) -> Result<Vec<AckStatus>> {
        type Row = (
            String,
            String,
            String,
            Option<i64>,
            Option<i64>,
            Option<String>,
        );
        let rows: Vec<Row> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT u.email, u.display_name, m.role, av.major, av.minor, a.acknowledged_at \
             FROM document_ack_requests r \
             JOIN document_versions v ON v.org_id = r.org_id AND v.id = r.version_id AND v.state = 'published' \
             JOIN users u ON u.id = r.user_id \
             JOIN memberships m ON m.org_id = r.org_id AND m.user_id = r.user_id AND m.active \
             LEFT JOIN document_acks a ON a.org_id = r.org_id AND a.document_id = r.document_id AND a.major = v.major AND a.user_id = r.user_id \
             LEFT JOIN document_versions av ON av.org_id = a.org_id AND av.id = a.version_id \
             WHERE r.org_id = $1 AND r.document_id = $2 ORDER BY u.email"
        )
        .bind(org_id)
        .bind(id)
        .fetch_all(p)
        .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(email, display_name, role, ma, mi, at)| AckStatus {
                email,
                display_name,
                role,
                version: ma.zip(mi).map(|(a, b)| format!("{a}.{b}")),
                acknowledged_at: at,
            })
            .collect())
    }

    /// Acknowledgement completion per person over the versions in force, by e-mail.
    pub async fn acknowledgements_by_person(&self, org_id: i64) -> Result<Vec<PersonAcks>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT u.email, u.display_name, COUNT(*) AS required, COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM document_acks a \
               WHERE a.org_id = r.org_id AND a.document_id = r.document_id AND a.major = v.major AND a.user_id = r.user_id) \
               THEN 1 ELSE 0 END), 0) AS acknowledged \
             FROM document_ack_requests r \
             JOIN documents d ON d.org_id = r.org_id AND d.id = r.document_id AND d.status = 'active' \
             JOIN document_versions v ON v.org_id = r.org_id AND v.id = r.version_id AND v.state = 'published' \
             JOIN users u ON u.id = r.user_id \
             JOIN memberships m ON m.org_id = r.org_id AND m.user_id = r.user_id AND m.active \
             WHERE r.org_id = $1 GROUP BY u.email, u.display_name ORDER BY u.email"
        )
        .bind(org_id)
        .fetch_all(p)
        .await
        })?)
    }

    /// Every acknowledgement ever recorded, and who is still pending on the
    /// published versions, for the auditor.
    pub async fn acknowledgement_records(&self, org_id: i64) -> Result<Vec<AckRecord>> {
        type Row = (i64, String, i64, i64, String, String, String);
        let done: Vec<Row> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT d.id, d.title, v.major, v.minor, u.email, u.display_name, a.acknowledged_at FROM document_acks a \
             JOIN documents d ON d.org_id = a.org_id AND d.id = a.document_id \
             JOIN document_versions v ON v.org_id = a.org_id AND v.id = a.version_id \
             JOIN users u ON u.id = a.user_id WHERE a.org_id = $1 ORDER BY d.id, a.acknowledged_at, u.email"
        )
        .bind(org_id)
        .fetch_all(p)
        .await
        })?;
        let pending: Vec<Row> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT d.id, d.title, v.major, v.minor, u.email, u.display_name, '' FROM document_ack_requests r \
             JOIN documents d ON d.org_id = r.org_id AND d.id = r.document_id AND d.status = 'active' \
             JOIN document_versions v ON v.org_id = r.org_id AND v.id = r.version_id AND v.state = 'published' \
             JOIN users u ON u.id = r.user_id \
             JOIN memberships m ON m.org_id = r.org_id AND m.user_id = r.user_id AND m.active \
             WHERE r.org_id = $1 AND NOT EXISTS (SELECT 1 FROM document_acks a WHERE a.org_id = r.org_id \
               AND a.document_id = r.document_id AND a.major = v.major AND a.user_id = r.user_id) ORDER BY d.id, u.email"
        )
        .bind(org_id)
        .fetch_all(p)
        .await
        })?;
        let mut out: Vec<AckRecord> = done
            .into_iter()
            .chain(pending)
            .map(
                |(document_id, title, ma, mi, email, display_name, at)| AckRecord {
                    document_id,
                    title,
                    version: format!("{ma}.{mi}"),
                    email,
                    display_name,
                    acknowledged_at: at,
                },
            )
            .collect();
        out.sort_by(|a, b| {
            (
                a.document_id,
                a.acknowledged_at.is_empty(),
                &a.acknowledged_at,
                &a.email,
            )
                .cmp(&(
                    b.document_id,
                    b.acknowledged_at.is_empty(),
                    &b.acknowledged_at,
                    &b.email,
                ))
        });
        Ok(out)
    }

    pub async fn document_settings(&self, org_id: i64) -> Result<DocumentSettings> {
        let r: Option<(bool, i64)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT four_eyes, version FROM document_settings WHERE org_id = $1"
        )
        .bind(org_id)
        .fetch_optional(p)
        .await)?;
        Ok(r.map_or(
            DocumentSettings {
                four_eyes: true,
                version: 0,
            },
            |(four_eyes, version)| DocumentSettings { four_eyes, version },
        ))
    }

    /// Turns four-eyes approval on or off; `version` is the one read (0 before the first save).
    pub async fn set_document_settings(
        &self,
        org_id: i64,
        four_eyes: bool,
        sent: i64,
        actor: &Actor,
    ) -> Result<DocumentSettings> {
        let before = self.document_settings(org_id).await?;
        let mut tx = self.begin().await?;
        let at = now();
        if sent == 0 {
            let r = on_tx!(&mut tx, |c| {
                sqlx::query(
                "INSERT INTO document_settings (org_id, four_eyes, version, updated_at, updated_by) VALUES ($1, $2, 1, $3, $4)"
            )
            .bind(org_id)
            .bind(four_eyes)
            .bind(&at)
            .bind(&actor.label)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
            });
            match r {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict(
                        "the document settings were saved by someone else meanwhile: nothing was saved; reload, then apply your change again".into(),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            match versioned::claim(
                &mut tx,
                &Target {
                    table: "document_settings",
                    org_id,
                    keys: &[],
                },
                sent,
            )
            .await?
            {
                Claim::Won => {}
                Claim::Stale { current } => {
                    return Err(versioned::stale(
                        "the document settings",
                        current,
                        sent,
                        "",
                        "",
                    ));
                }
                Claim::Missing => {
                    return Err(StoreError::NotFound(
                        "document settings: never saved; send version 0".into(),
                    ));
                }
            }
            on_tx!(&mut tx, |c| {
                sqlx::query(
                "UPDATE document_settings SET four_eyes = $1, updated_at = $2, updated_by = $3 WHERE org_id = $4"
            )
            .bind(four_eyes)
            .bind(&at)
            .bind(&actor.label)
            .bind(org_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
            })?;
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "update",
                entity_type: "document_settings",
                entity_id: org_id.to_string(),
                before: Some(json!({"four_eyes": before.four_eyes})),
                after: Some(json!({"four_eyes": four_eyes})),
            },
        )
        .await?;
        tx.commit().await?;
        self.document_settings(org_id).await
    }

    /// The active documents addressing an ISO/IEC 27001:2022 ref id (`A.5.1`, `5.2`).
    pub async fn documents_addressing(
        &self,
        org_id: i64,
        ref_id: &str,
    ) -> Result<Vec<(i64, String)>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT d.id, d.title FROM document_requirements r JOIN documents d ON d.org_id = r.org_id AND d.id = r.document_id \
             WHERE r.org_id = $1 AND r.ref_id = $2 AND d.status = 'active' ORDER BY d.title, d.id"
        )
        .bind(org_id)
        .bind(ref_id)
        .fetch_all(p)
        .await
        })?)
    }

    /// Document reviews due on or before `until` (YYYY-MM-DD).
    pub async fn document_due_items(&self, org_id: i64, until: &str) -> Result<Vec<DueItem>> {
        let rows: Vec<(i64, String, Option<String>, String, i64)> =
            on_pool!(self, |p| sqlx::query_as(
                "SELECT d.id, d.title, u.email, d.reviewed_at, d.review_months FROM documents d \
             LEFT JOIN users u ON u.id = d.owner_user_id \
             WHERE d.org_id = $1 AND d.status = 'active' AND d.reviewed_at <> '' ORDER BY d.id"
            )
            .bind(org_id)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, title, owner, reviewed, months)| {
                let due = rules::review_due(&reviewed, months);
                (!due.is_empty() && due.as_str() <= until).then(|| DueItem {
                    kind: "document_review",
                    id,
                    title: format!("Review “{title}”"),
                    owner,
                    due_date: due,
                    link: format!("/documents/{id}"),
                })
            })
            .collect())
    }

    /// Acknowledgements still pending, one per person and document, due on
    /// the published version's read-by date, on or before `until`.
    pub async fn document_ack_due_items(&self, org_id: i64, until: &str) -> Result<Vec<DueItem>> {
        type Row = (i64, String, i64, i64, String, String, String);
        let rows: Vec<Row> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT d.id, d.title, v.major, v.minor, v.read_by, v.published_at, u.email FROM document_ack_requests r \
             JOIN documents d ON d.org_id = r.org_id AND d.id = r.document_id AND d.status = 'active' \
             JOIN document_versions v ON v.org_id = r.org_id AND v.id = r.version_id AND v.state = 'published' \
             JOIN users u ON u.id = r.user_id \
             JOIN memberships m ON m.org_id = r.org_id AND m.user_id = r.user_id AND m.active \
             WHERE r.org_id = $1 AND NOT EXISTS (SELECT 1 FROM document_acks a WHERE a.org_id = r.org_id \
               AND a.document_id = r.document_id AND a.major = v.major AND a.user_id = r.user_id) ORDER BY d.id, u.email"
        )
        .bind(org_id)
        .fetch_all(p)
        .await
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, title, ma, mi, read_by, published_at, email)| {
                let due = if read_by.is_empty() {
                    rules::read_by(&published_at, rules::DEFAULT_READING_DAYS)
                } else {
                    read_by
                };
                (!due.is_empty() && due.as_str() <= until).then(|| DueItem {
                    kind: "document_acknowledgement",
                    id,
                    title: format!("Read and acknowledge “{title}” version {ma}.{mi}"),
                    owner: Some(email),
                    due_date: due,
                    link: format!("/documents/{id}"),
                })
            })
            .collect())
    }

    /// The readiness item "information security policy" (5.2).
    pub(crate) async fn document_readiness(
        &self,
        org_id: i64,
        year_ago: &str,
    ) -> Result<crate::ReadinessItem> {
        type Row = (i64, String, Option<i64>, Option<i64>, Option<String>);
        let rows: Vec<Row> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT d.id, d.reviewed_at, v.major, v.minor, v.approved_by FROM documents d \
             JOIN document_requirements r ON r.org_id = d.org_id AND r.document_id = d.id AND r.ref_id = '5.2' \
             LEFT JOIN document_versions v ON v.org_id = d.org_id AND v.document_id = d.id AND v.state = 'published' \
             WHERE d.org_id = $1 AND d.status = 'active'"
        )
        .bind(org_id)
        .fetch_all(p)
        .await
        })?;
        let mut f = rules::PolicyFacts {
            documents: rows.len() as i64,
            ..Default::default()
        };
        for (_, reviewed, ma, mi, by) in rows {
            if let (Some(ma), Some(mi)) = (ma, mi)
                && f.last_review
                    .as_deref()
                    .is_none_or(|r| r < reviewed.as_str())
            {
                f.last_review = Some(reviewed);
                f.published = Some((format!("{ma}.{mi}"), by.unwrap_or_default()));
            }
        }
        let (state, detail) = rules::policy_readiness(&f, year_ago);
        Ok(crate::ReadinessItem {
            key: "policy",
            clause: "5.2",
            title: "Information security policy",
            state: match state {
                isms_domain::risk::Readiness::Ready => crate::ReadinessState::Ready,
                isms_domain::risk::Readiness::Incomplete => crate::ReadinessState::Incomplete,
                isms_domain::risk::Readiness::Missing => crate::ReadinessState::Missing,
            },
            detail,
            link: "/documents",
        })
    }
}

versioned::versioned_record!(Document);
