//! The Statement of Applicability (ISO/IEC 27001:2022 6.1.3 d): one entry per
//! Annex A control for each organisation, always complete, edited with
//! optimistic concurrency, and approved into immutable numbered versions.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::versioned::{self, Claim, Key, Target};
use crate::{Result, Store, StoreError, Tx, is_unique_violation, now, on_pool, on_tx};

/// Implementation statuses, in order of progress.
pub const SOA_STATUSES: [&str; 4] = [
    "not_implemented",
    "planned",
    "partially_implemented",
    "implemented",
];

/// Reasons for including a control.
pub const SOA_REASONS: [&str; 4] = [
    "risk_treatment",
    "legal_regulatory",
    "contractual",
    "business",
];

/// How many Annex A controls ISO/IEC 27001:2022 has.
pub const ANNEX_A_CONTROL_COUNT: usize = 93;

/// A human label for a status or reason value.
pub fn soa_label(value: &str) -> &'static str {
    match value {
        "not_implemented" => "Not implemented",
        "planned" => "Planned",
        "partially_implemented" => "Partially implemented",
        "implemented" => "Implemented",
        "risk_treatment" => "Risk treatment",
        "legal_regulatory" => "Legal or regulatory",
        "contractual" => "Contractual",
        "business" => "Business or best practice",
        _ => "",
    }
}

/// One SoA entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoaEntry {
    pub control_id: String,
    pub applicable: bool,
    pub justification: String,
    /// Reasons for inclusion, a set in the order of [`SOA_REASONS`].
    pub reasons: Vec<String>,
    pub status: String,
    /// E-mail of the owner, a member of the organisation.
    pub owner: Option<String>,
    #[serde(default)]
    pub owner_user_id: Option<i64>,
    pub notes: String,
    /// Bumped by every saved change: send it back to update.
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
}

impl SoaEntry {
    /// The content that approval freezes and comparison looks at.
    fn content(&self) -> serde_json::Value {
        json!({
            "control_id": self.control_id,
            "applicable": self.applicable,
            "justification": self.justification,
            "reasons": self.reasons,
            "status": self.status,
            "owner": self.owner,
            "notes": self.notes,
        })
    }
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    control_id: String,
    applicable: bool,
    justification: String,
    reasons: String,
    status: String,
    owner_user_id: Option<i64>,
    owner: Option<String>,
    notes: String,
    version: i64,
    updated_at: String,
    updated_by: String,
}

impl From<EntryRow> for SoaEntry {
    fn from(r: EntryRow) -> Self {
        SoaEntry {
            control_id: r.control_id,
            applicable: r.applicable,
            justification: r.justification,
            reasons: r
                .reasons
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            status: r.status,
            owner: r.owner,
            owner_user_id: r.owner_user_id,
            notes: r.notes,
            version: r.version,
            updated_at: r.updated_at,
            updated_by: r.updated_by,
        }
    }
}

const ENTRY_SELECT: &str = "SELECT s.control_id, s.applicable, s.justification, s.reasons, s.status, \
     s.owner_user_id, u.email AS owner, s.notes, s.version, s.updated_at, s.updated_by \
     FROM soa_entries s JOIN annex_a_controls a ON a.control_id = s.control_id \
     LEFT JOIN users u ON u.id = s.owner_user_id WHERE s.org_id = $1";

/// A change to one entry. Fields left `None` keep their value; `version` is
/// the version the caller last read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SoaPatch {
    pub applicable: Option<bool>,
    pub justification: Option<String>,
    pub reasons: Option<Vec<String>>,
    pub status: Option<String>,
    /// E-mail of a member; an empty string removes the owner.
    pub owner: Option<String>,
    pub notes: Option<String>,
    pub version: Option<i64>,
}

/// One field that changed, and who changed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub from: serde_json::Value,
    pub to: serde_json::Value,
    /// The entry version this change produced (empty in version comparisons).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// The outcome of an update.
#[derive(Debug, Clone)]
pub enum SoaUpdate {
    Saved(SoaEntry),
    /// The caller's version is stale: nothing was written. `changes` are what
    /// others changed since the caller's version.
    Stale {
        current: SoaEntry,
        sent_version: i64,
        changes: Vec<FieldChange>,
    },
}

/// An approved version, without its entries.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SoaVersionInfo {
    pub number: i64,
    pub approved_at: String,
    pub approved_by: String,
    pub note: String,
    pub digest: String,
}

/// An approved version with its frozen entries.
#[derive(Debug, Clone, Serialize)]
pub struct SoaVersion {
    #[serde(flatten)]
    pub info: SoaVersionInfo,
    pub entries: Vec<SoaEntry>,
}

/// What changed in one control between two states of the SoA.
#[derive(Debug, Clone, Serialize)]
pub struct ControlDiff {
    pub control_id: String,
    pub changes: Vec<FieldChange>,
}

/// Where the SoA stands.
#[derive(Debug, Clone, Serialize)]
pub struct SoaSummary {
    pub entries: usize,
    pub applicable: usize,
    pub not_applicable: usize,
    pub implemented: usize,
    /// Control ids whose entry has no justification yet.
    pub unjustified: Vec<String>,
    pub latest: Option<SoaVersionInfo>,
    /// The draft differs from the latest approved version (or none is approved).
    pub draft_changed: bool,
}

fn canonical_reasons(reasons: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for r in reasons {
        let r = r.trim();
        if !SOA_REASONS.contains(&r) {
            return Err(StoreError::Invalid(format!(
                "reasons: unknown reason '{r}': use risk_treatment, legal_regulatory, contractual or business"
            )));
        }
    }
    for known in SOA_REASONS {
        if reasons.iter().any(|r| r.trim() == known) {
            out.push(known.to_owned());
        }
    }
    Ok(out)
}

/// Checks a control id against Annex A, with a message that names it.
fn unknown_control(control_id: &str) -> StoreError {
    StoreError::NotFound(format!(
        "'{control_id}' is not an ISO/IEC 27001:2022 Annex A control: ids run from 5.1 to 8.34"
    ))
}

/// The digest of the SoA's content, for "has anything changed since approval".
fn digest(entries: &[SoaEntry]) -> String {
    use sha2::{Digest, Sha256};
    let content: Vec<serde_json::Value> = entries.iter().map(SoaEntry::content).collect();
    hex::encode(Sha256::digest(
        serde_json::Value::Array(content).to_string().as_bytes(),
    ))
}

/// Field-by-field differences of two entries' content.
fn diff_entries(a: &SoaEntry, b: &SoaEntry) -> Vec<FieldChange> {
    let (ca, cb) = (a.content(), b.content());
    [
        "applicable",
        "justification",
        "reasons",
        "status",
        "owner",
        "notes",
    ]
    .into_iter()
    .filter(|f| ca[f] != cb[f])
    .map(|f| FieldChange {
        field: f.to_owned(),
        from: ca[f].clone(),
        to: cb[f].clone(),
        version: None,
        by: None,
        at: None,
    })
    .collect()
}

/// Creates the missing entries of an organisation's SoA (all of them, for a
/// new organisation) inside `tx`, recording it when anything was created.
///
/// The creation is the installation's work, not the reader's: it is made and
/// logged under [`Actor::system`], whoever's read (`_reader`) triggered it.
/// Makes sure the SoA has every entry, inside another module's transaction.
pub(crate) async fn ensure_in_tx_for(tx: &mut Tx, org_id: i64) -> Result<()> {
    ensure_in_tx(tx, org_id, &Actor::system()).await
}

async fn ensure_in_tx(tx: &mut Tx, org_id: i64, _reader: &Actor) -> Result<()> {
    let actor = &Actor::system();
    let created = on_tx!(tx, |c| sqlx::query(
        "INSERT INTO soa_entries (org_id, control_id, updated_at, updated_by) \
         SELECT $1, control_id, $2, $3 FROM annex_a_controls WHERE TRUE \
         ON CONFLICT (org_id, control_id) DO NOTHING"
    )
    .bind(org_id)
    .bind(now())
    .bind(&actor.label)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if created > 0 {
        audit::record(
            tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "soa",
                entity_id: "draft".into(),
                before: None,
                after: Some(json!({"entries_created": created})),
            },
        )
        .await?;
    }
    Ok(())
}

async fn entries_in_tx(tx: &mut Tx, org_id: i64) -> Result<Vec<SoaEntry>> {
    let rows = on_tx!(tx, |c| sqlx::query_as::<_, EntryRow>(&format!(
        "{ENTRY_SELECT} ORDER BY a.ord"
    ))
    .bind(org_id)
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(SoaEntry::from).collect())
}

async fn latest_in_tx(tx: &mut Tx, org_id: i64) -> Result<Option<SoaVersionInfo>> {
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, SoaVersionInfo>(
        "SELECT number, approved_at, approved_by, note, digest FROM soa_versions \
         WHERE org_id = $1 ORDER BY number DESC LIMIT 1"
    )
    .bind(org_id)
    .fetch_optional(c)
    .await)?)
}

impl Store {
    async fn soa_count(&self, org_id: i64) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM soa_entries WHERE org_id = $1"
        )
        .bind(org_id)
        .fetch_one(p)
        .await)?;
        Ok(n)
    }

    /// Makes sure the organisation's SoA has an entry for every Annex A control.
    pub async fn ensure_soa(&self, org_id: i64, actor: &Actor) -> Result<()> {
        if self.soa_count(org_id).await? >= ANNEX_A_CONTROL_COUNT as i64 {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        ensure_in_tx(&mut tx, org_id, actor).await?;
        tx.commit().await
    }

    /// The draft SoA: all 93 entries in Annex A order.
    pub async fn soa_entries(&self, org_id: i64, actor: &Actor) -> Result<Vec<SoaEntry>> {
        self.ensure_soa(org_id, actor).await?;
        let rows = on_pool!(self, |p| sqlx::query_as::<_, EntryRow>(&format!(
            "{ENTRY_SELECT} ORDER BY a.ord"
        ))
        .bind(org_id)
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(SoaEntry::from).collect())
    }

    /// One entry; an id outside Annex A is a not-found error naming it.
    pub async fn soa_entry(
        &self,
        org_id: i64,
        control_id: &str,
        actor: &Actor,
    ) -> Result<SoaEntry> {
        self.ensure_soa(org_id, actor).await?;
        let row = on_pool!(self, |p| sqlx::query_as::<_, EntryRow>(&format!(
            "{ENTRY_SELECT} AND s.control_id = $2"
        ))
        .bind(org_id)
        .bind(control_id)
        .fetch_optional(p)
        .await)?;
        row.map(SoaEntry::from)
            .ok_or_else(|| unknown_control(control_id))
    }

    /// Applies `patch` to one entry if the caller's version is current.
    /// The justification is required: an entry is never saved without one.
    pub async fn update_soa_entry(
        &self,
        org_id: i64,
        control_id: &str,
        patch: &SoaPatch,
        actor: &Actor,
    ) -> Result<SoaUpdate> {
        let Some(sent_version) = patch.version else {
            return Err(StoreError::Invalid(
                "version: required; send the version you last read so that nobody's change is overwritten".into(),
            ));
        };
        if let Some(j) = &patch.justification
            && j.trim().is_empty()
        {
            return Err(StoreError::Invalid(format!(
                "justification: required for {control_id}, both for including and for excluding a control"
            )));
        }
        if patch.applicable.is_some() && patch.justification.is_none() {
            return Err(StoreError::Invalid(format!(
                "justification: required for {control_id} when deciding whether it applies"
            )));
        }
        let mut tx = self.begin().await?;
        ensure_in_tx(&mut tx, org_id, actor).await?;
        let target = Target {
            table: "soa_entries",
            org_id,
            keys: &[("control_id", Key::Text(control_id))],
        };
        let claim = versioned::claim(&mut tx, &target, sent_version).await?;
        let row = on_tx!(&mut tx, |c| sqlx::query_as::<_, EntryRow>(&format!(
            "{ENTRY_SELECT} AND s.control_id = $2"
        ))
        .bind(org_id)
        .bind(control_id)
        .fetch_optional(c)
        .await)?;
        let mut before = SoaEntry::from(row.ok_or_else(|| unknown_control(control_id))?);
        if let Claim::Stale { .. } = claim {
            // Keeps the entries created above; nothing else was written.
            tx.commit().await?;
            let changes = self
                .soa_changes_since(org_id, control_id, sent_version)
                .await?;
            return Ok(SoaUpdate::Stale {
                current: before,
                sent_version,
                changes,
            });
        }
        before.version = sent_version;
        let mut after = before.clone();
        if let Some(a) = patch.applicable {
            after.applicable = a;
        }
        if let Some(j) = &patch.justification {
            after.justification = j.trim().to_owned();
        }
        if let Some(r) = &patch.reasons {
            after.reasons = canonical_reasons(r)?;
        }
        if let Some(s) = &patch.status {
            let s = s.trim();
            if !SOA_STATUSES.contains(&s) {
                return Err(StoreError::Invalid(format!(
                    "status: unknown status '{s}': use not_implemented, planned, partially_implemented or implemented"
                )));
            }
            s.clone_into(&mut after.status);
        }
        if let Some(n) = &patch.notes {
            n.trim().clone_into(&mut after.notes);
        }
        if let Some(o) = &patch.owner {
            let email = o.trim().to_lowercase();
            if email.is_empty() {
                after.owner = None;
                after.owner_user_id = None;
            } else {
                let found: Option<(i64,)> = on_tx!(&mut tx, |c| sqlx::query_as(
                    "SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id \
                     WHERE m.org_id = $1 AND m.active AND u.email = $2"
                )
                .bind(org_id)
                .bind(&email)
                .fetch_optional(c)
                .await)?;
                let (id,) = found.ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "owner: {email} is not an active member of this organisation"
                    ))
                })?;
                after.owner = Some(email);
                after.owner_user_id = Some(id);
            }
        }
        if !after.applicable && !after.reasons.is_empty() {
            if patch.reasons.as_ref().is_some_and(|r| !r.is_empty()) {
                return Err(StoreError::Invalid(format!(
                    "reasons: {control_id} is excluded; reasons for inclusion apply only to applicable controls"
                )));
            }
            after.reasons.clear();
        }
        if after.justification.is_empty() {
            return Err(StoreError::Invalid(format!(
                "justification: required for {control_id}, both for including and for excluding a control"
            )));
        }
        if diff_entries(&before, &after).is_empty() {
            return Ok(SoaUpdate::Saved(before));
        }
        after.version = before.version + 1;
        after.updated_at = now();
        after.updated_by.clone_from(&actor.label);
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE soa_entries SET applicable = $1, justification = $2, reasons = $3, status = $4, \
             owner_user_id = $5, notes = $6, version = $7, updated_at = $8, updated_by = $9 \
             WHERE org_id = $10 AND control_id = $11"
        )
        .bind(after.applicable)
        .bind(&after.justification)
        .bind(after.reasons.join(","))
        .bind(&after.status)
        .bind(after.owner_user_id)
        .bind(&after.notes)
        .bind(after.version)
        .bind(&after.updated_at)
        .bind(&after.updated_by)
        .bind(org_id)
        .bind(control_id)
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
                entity_type: "soa_entry",
                entity_id: control_id.to_owned(),
                before: Some(serde_json::to_value(&before).unwrap_or_default()),
                after: Some(serde_json::to_value(&after).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(SoaUpdate::Saved(after))
    }

    /// What changed in one entry after `version`, from the audit log.
    pub async fn soa_changes_since(
        &self,
        org_id: i64,
        control_id: &str,
        version: i64,
    ) -> Result<Vec<FieldChange>> {
        let rows: Vec<(String, String, Option<String>, Option<String>)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT at, actor, before_json, after_json FROM audit_log \
                 WHERE org_id = $1 AND entity_type = 'soa_entry' AND entity_id = $2 ORDER BY seq",
            )
            .bind(org_id)
            .bind(control_id)
            .fetch_all(p)
            .await
        })?;
        let mut out = Vec::new();
        for (at, actor, before, after) in rows {
            let parse =
                |s: Option<String>| s.and_then(|s| serde_json::from_str::<SoaEntry>(&s).ok());
            let (Some(b), Some(a)) = (parse(before), parse(after)) else {
                continue;
            };
            if a.version <= version {
                continue;
            }
            for mut c in diff_entries(&b, &a) {
                c.version = Some(a.version);
                c.by = Some(actor.clone());
                c.at = Some(at.clone());
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Freezes the current SoA as the next numbered version. Refused when
    /// nothing changed since the latest approved version.
    pub async fn approve_soa(
        &self,
        org_id: i64,
        note: &str,
        actor: &Actor,
    ) -> Result<SoaVersionInfo> {
        let mut tx = self.begin().await?;
        ensure_in_tx(&mut tx, org_id, actor).await?;
        let entries = entries_in_tx(&mut tx, org_id).await?;
        let digest = digest(&entries);
        let latest = latest_in_tx(&mut tx, org_id).await?;
        if let Some(l) = &latest
            && l.digest == digest
        {
            return Err(StoreError::Conflict(format!(
                "nothing has changed since version {} was approved by {} at {}: edit the SoA before approving a new version",
                l.number, l.approved_by, l.approved_at
            )));
        }
        let info = SoaVersionInfo {
            number: latest.map_or(1, |l| l.number + 1),
            approved_at: now(),
            approved_by: actor.label.clone(),
            note: note.trim().to_owned(),
            digest,
        };
        let inserted = on_tx!(&mut tx, |c| {
            sqlx::query(
            "INSERT INTO soa_versions (org_id, number, approved_at, approved_by_user_id, approved_by, note, digest, entries_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(org_id)
        .bind(info.number)
        .bind(&info.approved_at)
        .bind(actor.user_id)
        .bind(&info.approved_by)
        .bind(&info.note)
        .bind(&info.digest)
        .bind(serde_json::to_string(&entries).unwrap_or_default())
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        });
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict(
                    "someone approved the SoA at the same moment: reload and check the latest version".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "approve",
                entity_type: "soa_version",
                entity_id: info.number.to_string(),
                before: None,
                after: Some(
                    json!({"number": info.number, "digest": info.digest, "note": info.note}),
                ),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(info)
    }

    /// The approved versions, newest first.
    pub async fn soa_versions(&self, org_id: i64) -> Result<Vec<SoaVersionInfo>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, SoaVersionInfo>(
            "SELECT number, approved_at, approved_by, note, digest FROM soa_versions \
             WHERE org_id = $1 ORDER BY number DESC"
        )
        .bind(org_id)
        .fetch_all(p)
        .await)?)
    }

    /// One approved version with its entries.
    pub async fn soa_version(&self, org_id: i64, number: i64) -> Result<SoaVersion> {
        let row: Option<(i64, String, String, String, String, String)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT number, approved_at, approved_by, note, digest, entries_json FROM soa_versions \
                 WHERE org_id = $1 AND number = $2",
            )
            .bind(org_id)
            .bind(number)
            .fetch_optional(p)
            .await
        })?;
        let (number, approved_at, approved_by, note, digest, json) = row.ok_or_else(|| {
            StoreError::NotFound(format!("the SoA has no approved version {number}"))
        })?;
        let entries = serde_json::from_str(&json).map_err(|e| {
            StoreError::Invalid(format!("version {number} of the SoA cannot be read: {e}"))
        })?;
        Ok(SoaVersion {
            info: SoaVersionInfo {
                number,
                approved_at,
                approved_by,
                note,
                digest,
            },
            entries,
        })
    }

    /// The entries of a version, or of the draft for `None`.
    async fn soa_state(
        &self,
        org_id: i64,
        number: Option<i64>,
        actor: &Actor,
    ) -> Result<Vec<SoaEntry>> {
        match number {
            Some(n) => Ok(self.soa_version(org_id, n).await?.entries),
            None => self.soa_entries(org_id, actor).await,
        }
    }

    /// What changed per control from `from` to `to` (a version number, or
    /// `None` for the current draft).
    pub async fn compare_soa(
        &self,
        org_id: i64,
        from: Option<i64>,
        to: Option<i64>,
        actor: &Actor,
    ) -> Result<Vec<ControlDiff>> {
        let a = self.soa_state(org_id, from, actor).await?;
        let b = self.soa_state(org_id, to, actor).await?;
        Ok(a.iter()
            .zip(&b)
            .filter_map(|(x, y)| {
                let changes = diff_entries(x, y);
                (!changes.is_empty()).then(|| ControlDiff {
                    control_id: y.control_id.clone(),
                    changes,
                })
            })
            .collect())
    }

    /// Counts for pages, readiness and the dashboard.
    pub async fn soa_summary(&self, org_id: i64, actor: &Actor) -> Result<SoaSummary> {
        let entries = self.soa_entries(org_id, actor).await?;
        let versions = self.soa_versions(org_id).await?;
        let latest = versions.into_iter().next();
        let draft_changed = latest.as_ref().is_none_or(|l| l.digest != digest(&entries));
        Ok(SoaSummary {
            entries: entries.len(),
            applicable: entries.iter().filter(|e| e.applicable).count(),
            not_applicable: entries.iter().filter(|e| !e.applicable).count(),
            implemented: entries
                .iter()
                .filter(|e| e.applicable && e.status == "implemented")
                .count(),
            unjustified: entries
                .iter()
                .filter(|e| e.justification.is_empty())
                .map(|e| e.control_id.clone())
                .collect(),
            latest,
            draft_changed,
        })
    }
}
