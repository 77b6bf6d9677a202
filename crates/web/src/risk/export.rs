//! The risk register's exports and heat map, shared by the pages, the API
//! and the CLI (`isms report risks`).

use std::collections::HashMap;

use isms_domain::risk::Methodology;
use isms_reports::risk::{HeatMap, RiskDocument, RiskLine};
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
