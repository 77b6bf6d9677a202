//! The risk register's exports and heat map, shared by the pages, the API
//! and the CLI (`isms report risks`). Exports stream: the risks are read a
//! chunk at a time in one read transaction and written row by row on a
//! blocking thread, so memory stays flat however large the register.

use std::collections::HashMap;

use isms_domain::risk::Methodology;
use isms_reports::risk::{HeatMap, Kind, RiskExport, RiskLine, TreatmentExport, TreatmentLine};
use isms_store::{CursorFilter, Org, Risk, RiskAction, Store, StoreError};
use tokio::sync::mpsc;

use crate::isms_reports::Format;

/// Risks read per query while exporting.
const CHUNK: i64 = 1000;

fn kind(format: Format) -> Kind {
    match format {
        Format::Pdf => Kind::Pdf,
        Format::Xlsx => Kind::Xlsx,
        Format::Csv => Kind::Csv,
    }
}

/// One risk as a line of the register's exports.
fn risk_line(m: &Methodology, names: &HashMap<i64, String>, r: Risk) -> RiskLine {
    RiskLine {
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
    }
}

/// The register in one call: read in chunks, written on a blocking thread
/// as the chunks come (at most two chunks wait between the two). Returns
/// the file and how many risks it holds.
pub async fn risk_export(
    store: &Store,
    org: &Org,
    format: Format,
) -> Result<(Vec<u8>, usize), String> {
    let fail = |e: StoreError| e.to_string();
    let m = store.risk_methodology(org.id).await.map_err(fail)?;
    let names: HashMap<i64, String> = store
        .asset_names(org.id)
        .await
        .map_err(fail)?
        .into_iter()
        .collect();
    let mut cursor = store
        .risk_cursor(org.id, CursorFilter::default(), None)
        .await
        .map_err(fail)?;
    let date = cursor.last_change(false).await.map_err(fail)?;
    let mut out = RiskExport::new(kind(format), &org.name, &date).map_err(|e| e.to_string())?;
    let (tx, mut rx) = mpsc::channel::<Vec<RiskLine>>(2);
    let writer = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        while let Some(chunk) = rx.blocking_recv() {
            for l in &chunk {
                out.push(l).map_err(|e| e.to_string())?;
            }
        }
        out.finish().map_err(|e| e.to_string())
    });
    let mut n = 0;
    let mut failed = None;
    loop {
        match cursor.next_chunk(CHUNK).await {
            Ok(chunk) if chunk.is_empty() => break,
            Ok(chunk) => {
                n += chunk.len();
                let lines = chunk
                    .into_iter()
                    .map(|r| risk_line(&m, &names, r))
                    .collect();
                if tx.send(lines).await.is_err() {
                    break;
                }
            }
            Err(e) => {
                failed = Some(e.to_string());
                break;
            }
        }
    }
    drop(tx);
    drop(cursor);
    let bytes = writer.await.map_err(|e| e.to_string())??;
    match failed {
        Some(e) => Err(e),
        None => Ok((bytes, n)),
    }
}

/// The heat map of the organisation's open risks on its matrix, as SVG.
pub async fn heat_map(store: &Store, org_id: i64) -> Result<(Methodology, String), StoreError> {
    let (m, map) = heat_grid(store, org_id).await?;
    let svg = isms_reports::risk::heat_map_svg(&map);
    Ok((m, svg))
}

/// The heat map's counts: open risks per cell (likelihood row, impact
/// column), inherent and residual, with the matrix's names and colours.
pub async fn heat_grid(store: &Store, org_id: i64) -> Result<(Methodology, HeatMap), StoreError> {
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
    Ok((m, map))
}

/// The lines of the treatment plan for some open risks (register order)
/// and their actions (by risk then due date): a risk without actions keeps
/// one line saying so. `today` (YYYY-MM-DD) decides what is overdue.
pub fn plan_lines(
    m: &Methodology,
    risks: Vec<Risk>,
    actions: Vec<RiskAction>,
    today: &str,
) -> Vec<TreatmentLine> {
    let mut by_risk: HashMap<i64, Vec<RiskAction>> = HashMap::new();
    for a in actions {
        by_risk.entry(a.risk_id).or_default().push(a);
    }
    let mut lines = Vec::new();
    for r in risks {
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
            risk_title: r.title,
            risk_owner: r.owner.unwrap_or_default(),
            treatment: r.treatment.as_str().to_owned(),
            annex_a_controls: r.annex_a_controls,
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
    lines
}

/// The treatment plan export in one call, streamed like the register's;
/// also says how many lines it holds.
pub async fn treatment_export(
    store: &Store,
    org: &Org,
    format: Format,
) -> Result<(Vec<u8>, usize), String> {
    let fail = |e: StoreError| e.to_string();
    let now = isms_store::now();
    let today = now.get(..10).unwrap_or("").to_owned();
    let m = store.risk_methodology(org.id).await.map_err(fail)?;
    let currency = store.org_settings(org.id).await.map_err(fail)?.currency;
    let filter = CursorFilter {
        open_only: true,
        ..CursorFilter::default()
    };
    let mut cursor = store
        .risk_cursor(org.id, filter, None)
        .await
        .map_err(fail)?;
    let date = cursor.last_change(true).await.map_err(fail)?;
    let mut out = TreatmentExport::new(kind(format), &org.name, &date, &currency)
        .map_err(|e| e.to_string())?;
    let (tx, mut rx) = mpsc::channel::<Vec<TreatmentLine>>(2);
    let writer = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        while let Some(chunk) = rx.blocking_recv() {
            for l in &chunk {
                out.push(l).map_err(|e| e.to_string())?;
            }
        }
        out.finish().map_err(|e| e.to_string())
    });
    let mut n = 0;
    let mut failed = None;
    loop {
        let chunk = match cursor.next_chunk(CHUNK).await {
            Ok(c) => c,
            Err(e) => {
                failed = Some(e.to_string());
                break;
            }
        };
        if chunk.is_empty() {
            break;
        }
        let ids: Vec<i64> = chunk.iter().map(|r| r.id).collect();
        let actions = match cursor.actions_of(&ids).await {
            Ok(a) => a,
            Err(e) => {
                failed = Some(e.to_string());
                break;
            }
        };
        let lines = plan_lines(&m, chunk, actions, &today);
        n += lines.len();
        if tx.send(lines).await.is_err() {
            break;
        }
    }
    drop(tx);
    drop(cursor);
    let bytes = writer.await.map_err(|e| e.to_string())??;
    match failed {
        Some(e) => Err(e),
        None => Ok((bytes, n)),
    }
}
