//! What a risk and an asset look like to API clients and pages: levels by
//! name and colour from the organisation's methodology.

use isms_domain::risk::Methodology;
use isms_store::{Acceptance, Asset, Risk, RiskRef};
use serde::Serialize;
use utoipa::ToSchema;

/// An asset (Annex A 5.9).
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetOut {
    pub id: i64,
    pub name: String,
    /// information, software, hardware, service, people, site or supplier.
    #[serde(rename = "type")]
    pub asset_type: String,
    pub description: String,
    /// E-mail of the owner.
    pub owner: Option<String>,
    pub location: String,
    pub classification: String,
    pub confidentiality: i64,
    pub integrity: i64,
    pub availability: i64,
    /// Ids of the assets this one depends on.
    pub depends_on: Vec<i64>,
    /// How many risks name this asset.
    pub risk_count: i64,
    /// Send it back with a change: a stale version gets 409.
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
}

impl From<Asset> for AssetOut {
    fn from(a: Asset) -> Self {
        AssetOut {
            id: a.id,
            name: a.name,
            asset_type: a.asset_type.as_str().to_owned(),
            description: a.description,
            owner: a.owner,
            location: a.location,
            classification: a.classification,
            confidentiality: a.confidentiality,
            integrity: a.integrity,
            availability: a.availability,
            depends_on: a.depends_on,
            risk_count: a.risk_count,
            version: a.version,
            updated_at: a.updated_at,
            updated_by: a.updated_by,
        }
    }
}

/// The acceptance of a residual risk in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptanceOut {
    pub accepted_by: String,
    pub accepted_at: String,
    pub comment: String,
    /// YYYY-MM-DD or empty.
    pub until: String,
    /// The residual level was above the acceptance criteria and an
    /// administrator accepted it anyway.
    #[serde(rename = "override")]
    pub is_override: bool,
    /// The residual level accepted.
    pub level: String,
}

/// A risk of the register.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskOut {
    pub id: i64,
    /// `RISK-<id>`.
    pub key: String,
    pub title: String,
    pub description: String,
    pub threat: String,
    pub vulnerability: String,
    pub consequence: String,
    /// E-mail of the risk owner.
    pub owner: Option<String>,
    pub likelihood: i64,
    pub impact: i64,
    /// The inherent level's name on the organisation's matrix.
    pub level: String,
    /// 0 = lowest level.
    pub level_rank: i64,
    pub level_colour: String,
    /// modify, retain, avoid or share.
    pub treatment: String,
    pub residual_likelihood: i64,
    pub residual_impact: i64,
    pub residual_level: String,
    pub residual_level_rank: i64,
    pub residual_level_colour: String,
    /// Whether the risk owner may accept the residual level without an override.
    pub residual_within_criteria: bool,
    /// identified, assessed, treating, accepted or closed.
    pub status: String,
    /// YYYY-MM-DD or empty.
    pub next_review: String,
    pub asset_ids: Vec<i64>,
    /// Annex A controls that treat the risk.
    pub annex_a_controls: Vec<String>,
    /// Ids of the organisation's applied controls that treat the risk.
    pub applied_controls: Vec<i64>,
    /// Controls the library suggests for the threat and vulnerability, not yet linked.
    pub suggested_controls: Vec<String>,
    pub acceptance: Option<AcceptanceOut>,
    /// Send it back with a change: a stale version gets 409.
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub updated_by: String,
}

fn acceptance(m: &Methodology, a: Acceptance) -> AcceptanceOut {
    AcceptanceOut {
        accepted_by: a.accepted_by,
        accepted_at: a.accepted_at,
        comment: a.comment,
        until: a.valid_until,
        is_override: a.is_override,
        level: m.level_name(a.residual_level as usize).to_owned(),
    }
}

impl RiskOut {
    pub fn new(m: &Methodology, r: Risk) -> Self {
        let lvl = r.inherent_level as usize;
        let rlvl = r.residual_level as usize;
        let suggested_controls =
            isms_domain::risk_library::suggested_controls(&r.threat, &r.vulnerability)
                .into_iter()
                .filter(|c| !r.annex_a_controls.iter().any(|l| l == c))
                .map(str::to_owned)
                .collect();
        RiskOut {
            suggested_controls,
            id: r.id,
            key: format!("RISK-{}", r.id),
            title: r.title,
            description: r.description,
            threat: r.threat,
            vulnerability: r.vulnerability,
            consequence: r.consequence,
            owner: r.owner,
            likelihood: r.likelihood,
            impact: r.impact,
            level: m.level_name(lvl).to_owned(),
            level_rank: r.inherent_level,
            level_colour: m.level_colour(lvl).to_owned(),
            treatment: r.treatment.as_str().to_owned(),
            residual_likelihood: r.residual_likelihood,
            residual_impact: r.residual_impact,
            residual_level: m.level_name(rlvl).to_owned(),
            residual_level_rank: r.residual_level,
            residual_level_colour: m.level_colour(rlvl).to_owned(),
            residual_within_criteria: m.acceptable(rlvl),
            status: r.status.as_str().to_owned(),
            next_review: r.next_review,
            asset_ids: r.asset_ids,
            annex_a_controls: r.annex_a_controls,
            applied_controls: r.applied_controls,
            acceptance: r.acceptance.map(|a| acceptance(m, a)),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            updated_by: r.updated_by,
        }
    }
}

/// A risk named from elsewhere (the SoA entry of a control that treats it).
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskRefOut {
    pub id: i64,
    pub key: String,
    pub title: String,
    pub residual_level: String,
    pub status: String,
}

impl RiskRefOut {
    pub fn new(m: &Methodology, r: RiskRef) -> Self {
        RiskRefOut {
            id: r.id,
            key: format!("RISK-{}", r.id),
            title: r.title,
            residual_level: m.level_name(r.residual_level as usize).to_owned(),
            status: r.status,
        }
    }
}
