//! The risk register's exports and heat map, shared by the pages, the API
//! and the CLI (`isms report risks`).

use std::collections::HashMap;

use isms_domain::risk::Methodology;
use isms_reports::risk::{HeatMap, RiskDocument, RiskLine, TreatmentDocument, TreatmentLine};
use isms_store::{Org, Store, StoreError};

use crate::isms_reports::Format;

/// The whole register as a document (two queries for the risks and their
/// links, one for the asset names).
pub async fn risk_document(store: &Store, org: &Org) -> Result<RiskDocument, StoreError> {
    let m = store.risk_methodology(org.id).await?;
    let risks = store.all_risks(org.id).await?;
    let names: HashMap<i64, String> = store.asset_names(org.id).await?.into_iter().collect();
    let date = risks
        .iter()
        .map(|r| r.updated_at.as_str())
        .max()
        .unwrap_or("")
        .to_owned();
    let lines = risks
        .into_iter()
        .map(|r| RiskLine {
            key: format!("RISK-{}", r.id),
            level: m.level_name(r.inherent_level as usize).to_owned(),
            residual_level: m.level_name(r.residual_level as usize).to_owned(),
            assets: r
                .asset_ids
                .iter()
                .filter_map(|a| names.get(a).cloned())
                .collect(),
            title: r.title,
            description: r.description,
            likelihood: r.likelihood,
            impact: r.impact,
            treatment: r.treatment.as_str().to_owned(),
            annex_a_controls: r.annex_a_controls,
            residual_likelihood: r.residual_likelihood,
            residual_impact: r.residual_impact,
            status: r.status.as_str().to_owned(),
            owner: r.owner.unwrap_or_default(),
            next_review: r.next_review,
        })
        .collect();
    Ok(RiskDocument {
        organisation: org.name.clone(),
        date,
        risks: lines,
    })
}

/// Renders the register (call from blocking code: a large PDF takes a while).
pub fn render(doc: &RiskDocument, format: Format) -> Result<Vec<u8>, String> {
    Ok(match format {
        Format::Pdf => isms_reports::risk::risk_pdf(doc),
        Format::Xlsx => isms_reports::risk::risk_xlsx(doc).map_err(|e| e.to_string())?,
        Format::Csv => isms_reports::risk::risk_csv(doc).map_err(|e| e.to_string())?,
    })
}

/// The export in one call, rendered off the async runtime.
pub async fn risk_export(
    store: &Store,
    org: &Org,
    format: Format,
) -> Result<(Vec<u8>, usize), String> {
    let doc = risk_document(store, org).await.map_err(|e| e.to_string())?;
    let n = doc.risks.len();
    let bytes = tokio::task::spawn_blocking(move || render(&doc, format))
        .await
        .map_err(|e| e.to_string())??;
    Ok((bytes, n))
}

/// The heat map of the organisation's open risks on its matrix.
pub async fn heat_map(store: &Store, org_id: i64) -> Result<(Methodology, String), StoreError> {
    let m = store.risk_methodology(org_id).await?;
    let (inherent, residual) = store.risk_heat(org_id).await?;
    let grid = |cells: &[(i64, i64, i64)]| {
        let mut g = vec![vec![0i64; m.impact.len()]; m.likelihood.len()];
        for &(l, i, n) in cells {
            if let Some(c) = g
                .get_mut((l - 1).max(0) as usize)
                .and_then(|r| r.get_mut((i - 1).max(0) as usize))
            {
                *c += n;
            }
        }
        g
    };
    let map = HeatMap {
        likelihood: m.likelihood.iter().map(|s| s.name.clone()).collect(),
        impact: m.impact.iter().map(|s| s.name.clone()).collect(),
        colours: m
            .matrix
            .iter()
            .map(|row| row.iter().map(|&l| m.level_colour(l).to_owned()).collect())
            .collect(),
        inherent: grid(&inherent),
        residual: grid(&residual),
    };
    let svg = isms_reports::risk::heat_map_svg(&map);
    Ok((m, svg))
}

/// The risk treatment plan: every risk that is not closed with its actions
/// (a risk without actions keeps one line saying so), register order.
/// `today` (YYYY-MM-DD) decides what is overdue.
pub async fn treatment_document(
    store: &Store,
    org: &Org,
    today: &str,
) -> Result<TreatmentDocument, StoreError> {
    let m = store.risk_methodology(org.id).await?;
    let currency = store.org_settings(org.id).await?.currency;
    let risks = store.all_risks(org.id).await?;
    let mut by_risk: HashMap<i64, Vec<isms_store::RiskAction>> = HashMap::new();
    let mut date = String::new();
    for a in store.all_risk_actions(org.id).await? {
        if a.updated_at > date {
            date.clone_from(&a.updated_at);
        }
        by_risk.entry(a.risk_id).or_default().push(a);
    }
    let mut lines = Vec::new();
    for r in risks
        .into_iter()
        .filter(|r| r.status != isms_domain::risk::RiskStatus::Closed)
    {
        if r.updated_at > date {
            date.clone_from(&r.updated_at);
        }
        let acceptance = r
            .acceptance
            .as_ref()
            .map(|a| {
                format!(
                    "accepted by {} on {}{}{}",
                    a.accepted_by,
                    a.accepted_at.get(..10).unwrap_or(""),
                    if a.valid_until.is_empty() {
                        String::new()
                    } else {
                        format!(" until {}", a.valid_until)
                    },
                    if a.is_override {
                        " (administrator's override)"
                    } else {
                        ""
                    }
                )
            })
            .unwrap_or_default();
        let base = TreatmentLine {
            risk_key: format!("RISK-{}", r.id),
            risk_title: r.title.clone(),
            risk_owner: r.owner.clone().unwrap_or_default(),
            treatment: r.treatment.as_str().to_owned(),
            annex_a_controls: r.annex_a_controls.clone(),
            level: m.level_name(r.inherent_level as usize).to_owned(),
            residual_level: m.level_name(r.residual_level as usize).to_owned(),
            acceptance,
            action: String::new(),
            action_owner: String::new(),
            due_date: String::new(),
            action_status: String::new(),
            cost: 0,
            overdue: false,
        };
        match by_risk.remove(&r.id) {
            None => lines.push(base),
            Some(actions) => {
                for a in actions {
                    lines.push(TreatmentLine {
                        overdue: a.status.is_pending()
                            && !a.due_date.is_empty()
                            && a.due_date.as_str() < today,
                        action: a.title,
                        action_owner: a.owner.unwrap_or_default(),
                        due_date: a.due_date,
                        action_status: a.status.label().to_owned(),
                        cost: a.cost,
                        ..base.clone()
                    });
                }
            }
        }
    }
    Ok(TreatmentDocument {
        organisation: org.name.clone(),
        date,
        currency,
        lines,
    })
}

/// Renders the treatment plan (call from blocking code).
pub fn render_treatment(doc: &TreatmentDocument, format: Format) -> Result<Vec<u8>, String> {
    Ok(match format {
        Format::Pdf => isms_reports::risk::treatment_pdf(doc),
        Format::Xlsx => isms_reports::risk::treatment_xlsx(doc).map_err(|e| e.to_string())?,
        Format::Csv => isms_reports::risk::treatment_csv(doc).map_err(|e| e.to_string())?,
    })
}

/// The treatment plan export in one call, rendered off the async runtime;
/// also says how many lines it holds.
pub async fn treatment_export(
    store: &Store,
    org: &Org,
    format: Format,
) -> Result<(Vec<u8>, usize), String> {
    let today = isms_store::now();
    let doc = treatment_document(store, org, today.get(..10).unwrap_or(""))
        .await
        .map_err(|e| e.to_string())?;
    let n = doc.lines.len();
    let bytes = tokio::task::spawn_blocking(move || render_treatment(&doc, format))
        .await
        .map_err(|e| e.to_string())??;
    Ok((bytes, n))
}
