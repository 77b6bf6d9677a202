//! Measurement (9.1, the ISO/IEC 27004 way): metric definitions with a
//! target and thresholds, measurements recorded by hand, by CSV or through
//! the API, and a status per metric. Rules in `isms_domain::controls`.

use std::collections::HashMap;

use isms_domain::controls::{Date, Direction, Frequency, Rag, Thresholds};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::controls::{control_missing, resolve_person, today};
use crate::versioned::{self, Key, Target};
use crate::{Result, Store, StoreError, Tx, is_unique_violation, now, on_pool, on_tx};

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(e.to_string())
}

/// A measurement as a CSV row gives it: metric (name or id), date, value
/// and unit (empty: not given).
pub type MeasurementRow = (String, String, String, String);

/// One recorded value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    pub id: i64,
    /// YYYY-MM-DD.
    pub date: String,
    pub value: f64,
    pub note: String,
    pub status: Rag,
}

/// A metric definition with its latest value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    pub id: i64,
    pub name: String,
    /// What the organisation wants to know.
    pub information_need: String,
    /// What is measured (the attribute of what object).
    pub measured: String,
    /// How: the method or formula.
    pub method: String,
    pub unit: String,
    pub target: f64,
    pub direction: Direction,
    /// Beyond this (on the bad side of the target) a value is red; between
    /// it and the target amber.
    pub red_threshold: Option<f64>,
    pub frequency: Frequency,
    /// E-mail of who collects the values.
    pub collector: Option<String>,
    #[serde(skip)]
    pub collector_user_id: Option<i64>,
    /// E-mail of who analyses them.
    pub analyst: Option<String>,
    #[serde(skip)]
    pub analyst_user_id: Option<i64>,
    /// The objective or control it evaluates, in words.
    pub evaluates: String,
    pub applied_control_id: Option<i64>,
    /// The URN of the library metric definition it was created from.
    pub metric_definition: Option<String>,
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
    pub latest: Option<Measurement>,
    /// The latest value's colour.
    pub status: Option<Rag>,
    /// Not measured within its frequency.
    pub overdue: bool,
}

impl Metric {
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            target: self.target,
            direction: self.direction,
            red_threshold: self.red_threshold,
        }
    }
}

/// Fields of a metric to create (`name`, `unit` and `target` required) or change (`version` required).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MetricInput {
    pub name: Option<String>,
    pub information_need: Option<String>,
    pub measured: Option<String>,
    pub method: Option<String>,
    pub unit: Option<String>,
    pub target: Option<f64>,
    /// higher or lower (which side of the target is good).
    pub direction: Option<String>,
    /// A number, or absent for no amber band.
    pub red_threshold: Option<f64>,
    /// Removes the red threshold when true.
    #[serde(default)]
    pub clear_red_threshold: bool,
    pub frequency: Option<String>,
    pub collector: Option<String>,
    pub analyst: Option<String>,
    pub evaluates: Option<String>,
    /// 0 removes the link.
    pub applied_control_id: Option<i64>,
    /// On create, a metric definition of an imported library (its URN or id): fills the
    /// name, unit, target, direction, frequency and information need not given, and keeps
    /// the link.
    pub metric_definition: Option<String>,
    pub version: Option<i64>,
}

/// A value to record.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MeasurementInput {
    pub value: Option<f64>,
    /// YYYY-MM-DD.
    pub date: Option<String>,
    /// When sent, must be the metric's unit.
    pub unit: Option<String>,
    pub note: Option<String>,
}

#[derive(sqlx::FromRow)]
struct MetricRow {
    id: i64,
    name: String,
    information_need: String,
    measured: String,
    method: String,
    unit: String,
    target: f64,
    direction: String,
    red_threshold: Option<f64>,
    frequency: String,
    collector_user_id: Option<i64>,
    collector: Option<String>,
    analyst_user_id: Option<i64>,
    analyst: Option<String>,
    evaluates: String,
    applied_control_id: Option<i64>,
    metric_definition: Option<String>,
    version: i64,
    updated_at: String,
    updated_by: String,
}

impl MetricRow {
    fn into_metric(self) -> Result<Metric> {
        Ok(Metric {
            id: self.id,
            name: self.name,
            information_need: self.information_need,
            measured: self.measured,
            method: self.method,
            unit: self.unit,
            target: self.target,
            direction: self.direction.parse().map_err(invalid)?,
            red_threshold: self.red_threshold,
            frequency: self.frequency.parse().map_err(invalid)?,
            collector: self.collector,
            collector_user_id: self.collector_user_id,
            analyst: self.analyst,
            analyst_user_id: self.analyst_user_id,
            evaluates: self.evaluates,
            applied_control_id: self.applied_control_id,
            metric_definition: self.metric_definition,
            version: self.version,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
            latest: None,
            status: None,
            overdue: false,
        })
    }
}

const METRIC_SELECT: &str = "SELECT m.id, m.name, m.information_need, m.measured, m.method, m.unit, m.target, m.direction, \
     m.red_threshold, m.frequency, m.collector_user_id, uc.email AS collector, m.analyst_user_id, ua.email AS analyst, \
     m.evaluates, m.applied_control_id, m.metric_definition, m.version, m.updated_at, m.updated_by FROM metrics m \
     LEFT JOIN users uc ON uc.id = m.collector_user_id LEFT JOIN users ua ON ua.id = m.analyst_user_id WHERE m.org_id = $1";

fn text(field: &str, v: &str, max: usize) -> Result<String> {
    let v = v.trim();
    if v.chars().count() > max {
        return Err(invalid(format!("{field}: at most {max} characters")));
    }
    Ok(v.to_owned())
}

fn apply_metric_input(m: &mut Metric, input: &MetricInput) -> Result<()> {
    if let Some(n) = &input.name {
        let n = text("name", n, 300)?;
        if n.is_empty() {
            return Err(invalid("name: required"));
        }
        m.name = n;
    }
    if let Some(v) = &input.information_need {
        m.information_need = text("information_need", v, 4000)?;
    }
    if let Some(v) = &input.measured {
        m.measured = text("measured", v, 4000)?;
    }
    if let Some(v) = &input.method {
        m.method = text("method", v, 4000)?;
    }
    if let Some(v) = &input.unit {
        let u = text("unit", v, 40)?;
        if u.is_empty() {
            return Err(invalid("unit: required, e.g. % or days"));
        }
        m.unit = u;
    }
    if let Some(t) = input.target {
        m.target = t;
    }
    if let Some(d) = &input.direction {
        m.direction = d.parse().map_err(invalid)?;
    }
    if input.clear_red_threshold {
        m.red_threshold = None;
    } else if let Some(r) = input.red_threshold {
        m.red_threshold = Some(r);
    }
    if let Some(f) = &input.frequency {
        m.frequency = f.parse().map_err(invalid)?;
    }
    if let Some(v) = &input.evaluates {
        m.evaluates = text("evaluates", v, 1000)?;
    }
    m.thresholds().check().map_err(invalid)?;
    Ok(())
}

/// When a metric measured on `last` is next due.
fn next_due(f: Frequency, last: &str) -> Option<String> {
    let d = Date::parse("date", last).ok()?;
    Some(
        match f {
            Frequency::Weekly => d.add_days(7),
            Frequency::Monthly => d.add_months(1),
            Frequency::Quarterly => d.add_months(3),
            Frequency::HalfYearly => d.add_months(6),
            Frequency::Yearly => d.add_months(12),
        }
        .to_string(),
    )
}

async fn metric_in_tx(tx: &mut Tx, org_id: i64, id: i64) -> Result<Option<Metric>> {
    let row = on_tx!(tx, |c| sqlx::query_as::<_, MetricRow>(&format!(
        "{METRIC_SELECT} AND m.id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(c)
    .await)?;
    row.map(MetricRow::into_metric).transpose()
}

fn metric_missing(id: i64) -> StoreError {
    StoreError::NotFound(format!("no metric {id} in this organisation"))
}

async fn check_control(tx: &mut Tx, org_id: i64, id: Option<i64>) -> Result<Option<i64>> {
    match id {
        None | Some(0) => Ok(None),
        Some(c) => {
            let found: Option<(i64,)> = on_tx!(tx, |conn| sqlx::query_as(
                "SELECT id FROM applied_controls WHERE org_id = $1 AND id = $2"
            )
            .bind(org_id)
            .bind(c)
            .fetch_optional(conn)
            .await)?;
            found.map(|_| Some(c)).ok_or_else(|| control_missing(c))
        }
    }
}

fn name_taken(name: &str) -> StoreError {
    StoreError::Conflict(format!("a metric named '{name}' exists already"))
}

/// A starter metric: (name, information need, measured, method, unit,
/// target, direction, red threshold, frequency).
pub type StarterMetric = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    f64,
    &'static str,
    f64,
    &'static str,
);

/// Ten metrics to start from, in our own words: (name, information need,
/// measured, method, unit, target, direction, red threshold, frequency).
pub const STARTER_METRICS: &[StarterMetric] = &[
    (
        "Staff who completed security awareness training",
        "Do people know what is expected of them?",
        "Members with a completed training in the last 12 months",
        "completed / all staff x 100",
        "%",
        95.0,
        "higher",
        80.0,
        "monthly",
    ),
    (
        "Critical patches applied within 14 days",
        "Are known weaknesses closed quickly?",
        "Critical patches released in the period and when each was applied",
        "applied within 14 days / released x 100",
        "%",
        95.0,
        "higher",
        80.0,
        "monthly",
    ),
    (
        "Median days to patch critical vulnerabilities",
        "How long do critical weaknesses stay open?",
        "Days between a critical patch's release and its installation",
        "median over the period",
        "days",
        14.0,
        "lower",
        30.0,
        "monthly",
    ),
    (
        "Phishing simulation report rate",
        "Do people recognise and report phishing?",
        "Simulated phishing messages reported by recipients",
        "reported / delivered x 100",
        "%",
        60.0,
        "higher",
        30.0,
        "quarterly",
    ),
    (
        "Phishing simulation click rate",
        "How many people fall for phishing?",
        "Simulated phishing messages whose link was followed",
        "clicked / delivered x 100",
        "%",
        5.0,
        "lower",
        15.0,
        "quarterly",
    ),
    (
        "Access reviews completed on time",
        "Are access rights checked as planned?",
        "Scheduled access reviews finished by their due date",
        "on time / scheduled x 100",
        "%",
        100.0,
        "higher",
        80.0,
        "quarterly",
    ),
    (
        "Accounts of leavers disabled within one day",
        "Do leavers lose access promptly?",
        "Leavers whose accounts were disabled by the day after they left",
        "on time / leavers x 100",
        "%",
        100.0,
        "higher",
        90.0,
        "monthly",
    ),
    (
        "Backups restored successfully in tests",
        "Can we get our data back?",
        "Restore tests that recovered the data completely",
        "successful / attempted x 100",
        "%",
        100.0,
        "higher",
        90.0,
        "quarterly",
    ),
    (
        "Days to close high-severity incidents",
        "How fast do we recover from serious incidents?",
        "Days from detection to closure of high-severity incidents",
        "mean over the period",
        "days",
        5.0,
        "lower",
        10.0,
        "quarterly",
    ),
    (
        "Corrective actions closed by their due date",
        "Do we fix what we find?",
        "Corrective actions due in the period and closed in time",
        "closed on time / due x 100",
        "%",
        90.0,
        "higher",
        70.0,
        "quarterly",
    ),
];

impl Store {
    /// Defines a metric.
    pub async fn create_metric(
        &self,
        org_id: i64,
        input: &MetricInput,
        actor: &Actor,
    ) -> Result<Metric> {
        let mut filled = input.clone();
        let mut definition = None;
        if let Some(d) = input
            .metric_definition
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            let Some(t) = self.metric_template(crate::Tenant::Org(org_id), d).await? else {
                return Err(invalid(format!(
                    "metric_definition: '{d}' is not a metric definition of an imported library"
                )));
            };
            let blank = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().is_empty());
            if blank(&filled.name) {
                filled.name = Some(t.name.chars().take(300).collect());
            }
            if blank(&filled.unit) && !t.unit.is_empty() {
                filled.unit = Some(t.unit.chars().take(40).collect());
            }
            if filled.target.is_none() {
                filled.target = t.target;
            }
            if blank(&filled.direction) {
                filled.direction.clone_from(&t.direction);
            }
            if blank(&filled.frequency)
                && let Some(f) = t.frequency.as_deref()
                && f.parse::<Frequency>().is_ok()
            {
                filled.frequency = Some(f.to_owned());
            }
            if blank(&filled.information_need) {
                filled.information_need = Some(t.description.chars().take(4000).collect());
            }
            definition = Some(t.urn);
        }
        let input = &filled;
        if input.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
            return Err(invalid("name: required"));
        }
        if input.unit.as_deref().is_none_or(|n| n.trim().is_empty()) {
            return Err(invalid("unit: required, e.g. % or days"));
        }
        let Some(_) = input.target else {
            return Err(invalid("target: required, a number"));
        };
        let at = now();
        let mut m = Metric {
            id: 0,
            name: String::new(),
            information_need: String::new(),
            measured: String::new(),
            method: String::new(),
            unit: String::new(),
            target: 0.0,
            direction: Direction::Higher,
            red_threshold: None,
            frequency: Frequency::Monthly,
            collector: None,
            collector_user_id: None,
            analyst: None,
            analyst_user_id: None,
            evaluates: String::new(),
            applied_control_id: None,
            metric_definition: definition,
            version: 1,
            updated_at: at.clone(),
            updated_by: actor.label.clone(),
            latest: None,
            status: None,
            overdue: false,
        };
        apply_metric_input(&mut m, input)?;
        let mut tx = self.begin().await?;
        (m.collector_user_id, m.collector) = resolve_person(
            &mut tx,
            org_id,
            "collector",
            input.collector.as_deref(),
            (None, None),
        )
        .await?;
        (m.analyst_user_id, m.analyst) = resolve_person(
            &mut tx,
            org_id,
            "analyst",
            input.analyst.as_deref(),
            (None, None),
        )
        .await?;
        m.applied_control_id = check_control(&mut tx, org_id, input.applied_control_id).await?;
        let inserted: std::result::Result<(i64,), sqlx::Error> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
                "INSERT INTO metrics (org_id, name, information_need, measured, method, unit, target, direction, red_threshold, \
                 frequency, collector_user_id, analyst_user_id, evaluates, applied_control_id, created_at, updated_at, updated_by, metric_definition) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16, $17) RETURNING id",
            )
            .bind(org_id)
            .bind(&m.name)
            .bind(&m.information_need)
            .bind(&m.measured)
            .bind(&m.method)
            .bind(&m.unit)
            .bind(m.target)
            .bind(m.direction.as_str())
            .bind(m.red_threshold)
            .bind(m.frequency.as_str())
            .bind(m.collector_user_id)
            .bind(m.analyst_user_id)
            .bind(&m.evaluates)
            .bind(m.applied_control_id)
            .bind(&at)
            .bind(&actor.label)
            .bind(&m.metric_definition)
            .fetch_one(c)
            .await
        });
        let (id,) = match inserted {
            Ok(r) => r,
            Err(e) if is_unique_violation(&e) => return Err(name_taken(&m.name)),
            Err(e) => return Err(e.into()),
        };
        m.id = id;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "metric",
                entity_id: id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&m).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(m)
    }

    /// Changes a metric if `version` is current.
    pub async fn update_metric(
        &self,
        org_id: i64,
        id: i64,
        input: &MetricInput,
        actor: &Actor,
    ) -> Result<Metric> {
        let Some(sent) = input.version else {
            return Err(versioned::version_required(" of the metric"));
        };
        let mut tx = self.begin().await?;
        let before = versioned::claim_and_load(
            &mut tx,
            &Target {
                table: "metrics",
                org_id,
                keys: &[("id", Key::Int(id))],
            },
            sent,
            &format!("metric {id}"),
            async |tx| metric_in_tx(tx, org_id, id).await,
            || metric_missing(id),
        )
        .await?;
        let mut after = before.clone();
        apply_metric_input(&mut after, input)?;
        (after.collector_user_id, after.collector) = resolve_person(
            &mut tx,
            org_id,
            "collector",
            input.collector.as_deref(),
            (before.collector_user_id, before.collector.clone()),
        )
        .await?;
        (after.analyst_user_id, after.analyst) = resolve_person(
            &mut tx,
            org_id,
            "analyst",
            input.analyst.as_deref(),
            (before.analyst_user_id, before.analyst.clone()),
        )
        .await?;
        if input.applied_control_id.is_some() {
            after.applied_control_id =
                check_control(&mut tx, org_id, input.applied_control_id).await?;
        }
        if after == before {
            return Ok(before);
        }
        after.version = sent + 1;
        after.updated_at = now();
        after.updated_by.clone_from(&actor.label);
        let updated = on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE metrics SET name = $1, information_need = $2, measured = $3, method = $4, unit = $5, target = $6, \
                 direction = $7, red_threshold = $8, frequency = $9, collector_user_id = $10, analyst_user_id = $11, \
                 evaluates = $12, applied_control_id = $13, updated_at = $14, updated_by = $15 WHERE org_id = $16 AND id = $17",
            )
            .bind(&after.name)
            .bind(&after.information_need)
            .bind(&after.measured)
            .bind(&after.method)
            .bind(&after.unit)
            .bind(after.target)
            .bind(after.direction.as_str())
            .bind(after.red_threshold)
            .bind(after.frequency.as_str())
            .bind(after.collector_user_id)
            .bind(after.analyst_user_id)
            .bind(&after.evaluates)
            .bind(after.applied_control_id)
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
                entity_type: "metric",
                entity_id: id.to_string(),
                before: Some(serde_json::to_value(&before).unwrap_or_default()),
                after: Some(serde_json::to_value(&after).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// A metric with its latest value.
    pub async fn metric(&self, org_id: i64, id: i64) -> Result<Metric> {
        let row = on_pool!(self, |p| sqlx::query_as::<_, MetricRow>(&format!(
            "{METRIC_SELECT} AND m.id = $2"
        ))
        .bind(org_id)
        .bind(id)
        .fetch_optional(p)
        .await)?;
        let mut m = row
            .map(MetricRow::into_metric)
            .transpose()?
            .ok_or_else(|| metric_missing(id))?;
        let last = self.measurements(org_id, &m).await?.pop();
        set_latest(&mut m, last, &today());
        Ok(m)
    }

    /// A metric's measurements, oldest first.
    pub async fn measurements(&self, org_id: i64, m: &Metric) -> Result<Vec<Measurement>> {
        let rows: Vec<(i64, String, f64, String)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, measured_on, value, note FROM metric_measurements WHERE org_id = $1 AND metric_id = $2 \
             ORDER BY measured_on, id LIMIT 5000"
        )
        .bind(org_id)
        .bind(m.id)
        .fetch_all(p)
        .await
        })?;
        let t = m.thresholds();
        Ok(rows
            .into_iter()
            .map(|(id, date, value, note)| Measurement {
                id,
                date,
                value,
                note,
                status: t.status(value),
            })
            .collect())
    }

    /// Every metric, by name, with its latest value and status.
    pub async fn metrics(&self, org_id: i64) -> Result<Vec<Metric>> {
        let rows: Vec<MetricRow> = on_pool!(self, |p| sqlx::query_as::<_, MetricRow>(&format!(
            "{METRIC_SELECT} ORDER BY lower(m.name), m.id"
        ))
        .bind(org_id)
        .fetch_all(p)
        .await)?;
        let latest: Vec<(i64, i64, String, f64, String)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT mm.metric_id, mm.id, mm.measured_on, mm.value, mm.note FROM metric_measurements mm \
             WHERE mm.org_id = $1 AND mm.id = (SELECT x.id FROM metric_measurements x WHERE x.org_id = mm.org_id \
               AND x.metric_id = mm.metric_id ORDER BY x.measured_on DESC, x.id DESC LIMIT 1)"
        )
        .bind(org_id)
        .fetch_all(p)
        .await
        })?;
        let mut by: HashMap<i64, (i64, String, f64, String)> = latest
            .into_iter()
            .map(|(m, id, d, v, n)| (m, (id, d, v, n)))
            .collect();
        let today = today();
        rows.into_iter()
            .map(|r| {
                let mut m = r.into_metric()?;
                let last = by.remove(&m.id).map(|(id, date, value, note)| Measurement {
                    id,
                    date,
                    value,
                    note,
                    status: m.thresholds().status(value),
                });
                set_latest(&mut m, last, &today);
                Ok(m)
            })
            .collect()
    }

    /// Records a measurement of a metric.
    pub async fn add_measurement(
        &self,
        org_id: i64,
        metric_id: i64,
        input: &MeasurementInput,
        actor: &Actor,
    ) -> Result<Measurement> {
        let mut tx = self.begin().await?;
        let m = metric_in_tx(&mut tx, org_id, metric_id)
            .await?
            .ok_or_else(|| metric_missing(metric_id))?;
        let out = insert_measurement(&mut tx, org_id, &m, input, actor).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Records measurements from CSV rows `(metric name or id, date, value,
    /// unit)` (an empty unit is not checked; another than the metric's is
    /// refused): all or nothing; errors name the row.
    pub async fn import_measurements(
        &self,
        org_id: i64,
        rows: &[MeasurementRow],
        actor: &Actor,
    ) -> Result<usize> {
        if rows.is_empty() {
            return Err(invalid("file: no measurements in it"));
        }
        if rows.len() > 10_000 {
            return Err(invalid("file: at most 10,000 measurements at once"));
        }
        let metrics = self.metrics(org_id).await?;
        let mut tx = self.begin().await?;
        for (i, (metric, date, value, unit)) in rows.iter().enumerate() {
            let line = i + 2;
            let m = metrics
                .iter()
                .find(|m| {
                    m.name.eq_ignore_ascii_case(metric.trim()) || m.id.to_string() == metric.trim()
                })
                .ok_or_else(|| {
                    invalid(format!("row {line}: metric: there is no metric '{metric}'"))
                })?;
            let value: f64 = value
                .trim()
                .parse()
                .map_err(|_| invalid(format!("row {line}: value: '{value}' is not a number")))?;
            insert_measurement(
                &mut tx,
                org_id,
                m,
                &MeasurementInput {
                    value: Some(value),
                    date: Some(date.clone()),
                    unit: Some(unit.clone()),
                    note: None,
                },
                actor,
            )
            .await
            .map_err(|e| invalid(format!("row {line}: {e}")))?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    /// Adds the starter metrics the organisation does not have yet; returns how many.
    pub async fn add_starter_metrics(&self, org_id: i64, actor: &Actor) -> Result<usize> {
        let have: Vec<String> = self
            .metrics(org_id)
            .await?
            .into_iter()
            .map(|m| m.name.to_lowercase())
            .collect();
        let mut added = 0;
        for &(name, need, measured, method, unit, target, direction, red, frequency) in
            STARTER_METRICS
        {
            if have.contains(&name.to_lowercase()) {
                continue;
            }
            self.create_metric(
                org_id,
                &MetricInput {
                    name: Some(name.into()),
                    information_need: Some(need.into()),
                    measured: Some(measured.into()),
                    method: Some(method.into()),
                    unit: Some(unit.into()),
                    target: Some(target),
                    direction: Some(direction.into()),
                    red_threshold: Some(red),
                    frequency: Some(frequency.into()),
                    ..MetricInput::default()
                },
                actor,
            )
            .await?;
            added += 1;
        }
        Ok(added)
    }
}

fn set_latest(m: &mut Metric, last: Option<Measurement>, today: &str) {
    m.status = last.as_ref().map(|l| l.status);
    m.overdue = last
        .as_ref()
        .and_then(|l| next_due(m.frequency, &l.date))
        .is_some_and(|due| due.as_str() < today);
    m.latest = last;
}

async fn insert_measurement(
    tx: &mut Tx,
    org_id: i64,
    m: &Metric,
    input: &MeasurementInput,
    actor: &Actor,
) -> Result<Measurement> {
    let Some(value) = input.value.filter(|v| v.is_finite()) else {
        return Err(invalid("value: required, a number"));
    };
    let date = input
        .date
        .as_deref()
        .ok_or_else(|| invalid("date: required, YYYY-MM-DD"))?;
    let date = Date::parse("date", date).map_err(invalid)?.to_string();
    if date > today() {
        return Err(invalid(format!("date: {date} is in the future")));
    }
    if let Some(u) = input
        .unit
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        && !u.eq_ignore_ascii_case(m.unit.trim())
    {
        return Err(invalid(format!(
            "unit: '{u}' is not the unit of '{}', which is measured in '{}'",
            m.name, m.unit
        )));
    }
    let note = text("note", input.note.as_deref().unwrap_or(""), 1000)?;
    let (id,): (i64,) = on_tx!(tx, |c| {
        sqlx::query_as(
        "INSERT INTO metric_measurements (org_id, metric_id, measured_on, value, note, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
    )
    .bind(org_id)
    .bind(m.id)
    .bind(&date)
    .bind(value)
    .bind(&note)
    .bind(now())
    .bind(&actor.label)
    .fetch_one(c)
    .await
    })?;
    let out = Measurement {
        id,
        date,
        value,
        note,
        status: m.thresholds().status(value),
    };
    audit::record(
        tx,
        actor,
        Change {
            org_id,
            action: "create",
            entity_type: "measurement",
            entity_id: id.to_string(),
            before: None,
            after: Some(json!({"metric": m.id, "date": out.date, "value": out.value})),
        },
    )
    .await?;
    Ok(out)
}

versioned::versioned_record!(Metric);
