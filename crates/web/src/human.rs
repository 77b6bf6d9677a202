//! One shared way to show dates and status values on pages.
//!
//! Times are stored as UTC RFC 3339 strings. Pages show them as people
//! read them: "just now", "3 hours ago", "4 days ago", then a date; the
//! exact time is in a `<time datetime>` element with a `title` tooltip.
//! Times are shown in the organisation's time zone (a setting, UTC by
//! default) and money in its currency: the session layer sets both for the
//! request with [`with_org`], so templates call [`when`] and [`money`]
//! without passing them around.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

/// How one organisation shows times and money.
#[derive(Debug, Clone)]
pub struct Local {
    /// The IANA name, as shown after exact times.
    pub zone_name: String,
    pub zone: jiff::tz::TimeZone,
    /// An ISO 4217 code.
    pub currency: String,
}

impl Default for Local {
    fn default() -> Self {
        Local {
            zone_name: "UTC".to_owned(),
            zone: jiff::tz::TimeZone::UTC,
            currency: isms_store::DEFAULT_CURRENCY.to_owned(),
        }
    }
}

impl Local {
    /// From stored settings; a zone the database does not know (it cannot
    /// be saved, but the database may be older than the data) is UTC.
    pub fn of(settings: &isms_store::OrgSettings) -> Local {
        let (zone_name, zone) = match jiff::tz::db().get(&settings.time_zone) {
            Ok(z) => (settings.time_zone.clone(), z),
            Err(_) => ("UTC".to_owned(), jiff::tz::TimeZone::UTC),
        };
        Local {
            zone_name,
            zone,
            currency: settings.currency.clone(),
        }
    }

    /// `t` moved to this zone's offset at that instant.
    fn shift(&self, t: OffsetDateTime) -> OffsetDateTime {
        let offset = jiff::Timestamp::from_second(t.unix_timestamp())
            .map_or(0, |ts| self.zone.to_offset(ts).seconds());
        time::UtcOffset::from_whole_seconds(offset).map_or(t, |o| t.to_offset(o))
    }
}

tokio::task_local! {
    static LOCAL: Local;
}

/// Runs `f` (a request) with `local` as the way times and money are shown.
pub async fn with_org<F: std::future::Future>(local: Local, f: F) -> F::Output {
    LOCAL.scope(local, f).await
}

/// The current request's way of showing times and money (the defaults
/// outside a request).
fn local() -> Local {
    LOCAL.try_with(Clone::clone).unwrap_or_default()
}

/// The current organisation's currency code.
pub fn currency() -> String {
    local().currency
}

/// A money amount, rounded to a whole unit, with the currency's symbol and
/// thousands separators: "€ 1,234,567", "CHF 25,000".
/// Takes the amount or a reference to it (templates pass references).
pub fn money(amount: impl std::borrow::Borrow<f64>) -> String {
    money_in(*amount.borrow(), &local().currency)
}

fn money_in(amount: f64, currency: &str) -> String {
    let symbol = isms_store::currency_symbol(currency);
    let sign = if amount < 0.0 { "-" } else { "" };
    // The FAIR report's figures: whole units with thousands separators,
    // cents below 100.
    format!("{sign}{symbol} {}", isms_fair::money(amount.abs()))
}

/// `<time>` markup for a stored timestamp or date (HTML, already escaped;
/// use with `|safe`). Text that is neither is shown escaped as it is.
pub fn when(stored: &str) -> String {
    when_at(stored, OffsetDateTime::now_utc(), &local())
}

fn when_at(stored: &str, now: OffsetDateTime, local: &Local) -> String {
    let s = stored.trim();
    if s.is_empty() {
        return String::new();
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        let t = local.shift(t);
        let exact = exact(t, &local.zone_name);
        let secs = (now - t).whole_seconds();
        let shown = match secs {
            s if s < -60 => day(t.date()),
            s if s < 60 => "just now".to_owned(),
            s if s < 3_600 => plural(s / 60, "minute"),
            s if s < 86_400 => plural(s / 3_600, "hour"),
            s if s < 7 * 86_400 => plural(s / 86_400, "day"),
            _ => day(t.date()),
        };
        return format!(
            "<time datetime=\"{}\" title=\"{exact}\">{shown}</time>",
            escape(s)
        );
    }
    if let Ok(d) = Date::parse(s, format_description!("[year]-[month]-[day]")) {
        return format!("<time datetime=\"{}\">{}</time>", escape(s), day(d));
    }
    escape(s)
}

/// A date as "30 Nov 2026".
fn day(d: Date) -> String {
    d.format(format_description!(
        "[day padding:none] [month repr:short] [year]"
    ))
    .unwrap_or_default()
}

/// "30 Nov 2026, 07:32:40 UTC", "30 Nov 2026, 08:32:40 Europe/Berlin".
fn exact(t: OffsetDateTime, zone: &str) -> String {
    format!(
        "{}, {} {}",
        day(t.date()),
        t.format(format_description!("[hour]:[minute]:[second]"))
            .unwrap_or_default(),
        escape(zone)
    )
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit} ago")
    } else {
        format!("{n} {unit}s ago")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A stored value as words when no label is known: `not_started` ->
/// "Not started". Labels below are preferred; this keeps an unknown value
/// readable rather than leaking an identifier.
fn words(v: &str) -> String {
    let s = v.replace('_', " ");
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// The label of a gap-assessment status.
pub fn gap_status(v: &str) -> String {
    match isms_store::gap_status_label(v) {
        "" => words(v),
        l => l.to_owned(),
    }
}

/// The label of an SoA status or reason for inclusion.
pub fn soa_value(v: &str) -> String {
    match isms_store::soa_label(v) {
        "" => words(v),
        l => l.to_owned(),
    }
}

/// What to call a requirement: its title, or its statement when the title
/// only repeats the id (NIST CSF subcategories as CISO Assistant ships them).
pub fn requirement_title(r: &isms_store::RequirementRow) -> &str {
    let title = r.title.trim();
    if title.is_empty() || title == r.ref_id.trim() {
        r.description.as_deref().map_or(title, str::trim)
    } else {
        title
    }
}

/// An identifier stored in the audit log (an action or an entity type) as
/// words: `soa_entry` -> "SoA entry", `api_token` -> "API token".
pub fn identifier(v: &str) -> String {
    words(v)
        .split(' ')
        .map(|w| match w.to_lowercase().as_str() {
            "soa" => "SoA".to_owned(),
            "api" => "API".to_owned(),
            "fair" => "FAIR".to_owned(),
            "totp" => "TOTP".to_owned(),
            _ => w.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The label of a readiness state, lower case for use inside a sentence.
pub fn readiness_state(v: &str) -> String {
    match v {
        "ready" => "ready".to_owned(),
        "incomplete" => "incomplete".to_owned(),
        "missing" => "missing".to_owned(),
        _ => words(v).to_lowercase(),
    }
}

/// The label of the direction a requirement moved between assessments.
pub fn direction(v: &str) -> String {
    match v {
        "improved" => "Improved".to_owned(),
        "regressed" => "Regressed".to_owned(),
        "unchanged" => "Unchanged".to_owned(),
        _ => words(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-06 08:00:00 UTC);

    #[test]
    fn recent_times_are_relative_with_the_exact_time_in_a_tooltip() {
        assert_eq!(
            when_at("2026-12-03T07:32:40.394542Z", NOW, &Local::default()),
            "<time datetime=\"2026-12-03T07:32:40.394542Z\" title=\"3 Dec 2026, 07:32:40 UTC\">3 days ago</time>"
        );
        assert!(when_at("2026-12-06T07:59:30Z", NOW, &Local::default()).contains(">just now<"));
        assert!(when_at("2026-12-06T07:00:00Z", NOW, &Local::default()).contains(">1 hour ago<"));
        assert!(
            when_at("2026-12-06T07:15:00Z", NOW, &Local::default()).contains(">45 minutes ago<")
        );
    }

    #[test]
    fn older_and_future_times_and_dates_are_dates() {
        assert!(when_at("2026-11-20T10:00:00Z", NOW, &Local::default()).contains(">20 Nov 2026<"));
        assert!(when_at("2027-01-02T10:00:00Z", NOW, &Local::default()).contains(">2 Jan 2027<"));
        assert_eq!(
            when_at("2026-12-31", NOW, &Local::default()),
            "<time datetime=\"2026-12-31\">31 Dec 2026</time>"
        );
        assert_eq!(when_at("", NOW, &Local::default()), "");
        assert_eq!(when_at("<b>", NOW, &Local::default()), "&lt;b&gt;");
    }

    #[test]
    fn times_are_shown_in_the_organisation_time_zone() {
        let berlin = Local::of(&isms_store::OrgSettings {
            time_zone: "Europe/Berlin".into(),
            ..Default::default()
        });
        // Winter: UTC+1; the date can move to the next day.
        let w = when_at("2026-11-20T23:30:00Z", NOW, &berlin);
        assert!(
            w.contains("title=\"21 Nov 2026, 00:30:00 Europe/Berlin\""),
            "{w}"
        );
        assert!(w.contains(">21 Nov 2026<"), "{w}");
        // Summer: UTC+2.
        assert!(when_at("2026-07-01T10:00:00Z", NOW, &berlin).contains("12:00:00 Europe/Berlin"));
        let unknown = Local::of(&isms_store::OrgSettings {
            time_zone: "Nowhere/Atlantis".into(),
            ..Default::default()
        });
        assert!(when_at("2026-07-01T10:00:00Z", NOW, &unknown).contains("10:00:00 UTC"));
    }

    #[test]
    fn money_has_the_currency_and_thousands_separators() {
        assert_eq!(money_in(1_234_567.4, "EUR"), "€ 1,234,567");
        assert_eq!(money_in(999.7, "USD"), "$ 1,000");
        assert_eq!(money_in(12.5, "USD"), "$ 12.50");
        assert_eq!(money_in(0.0, "CHF"), "CHF 0");
        assert_eq!(money_in(-25_000.0, "GBP"), "-£ 25,000");
        assert_eq!(money("100".parse::<f64>().unwrap()), "€ 100");
    }

    #[test]
    fn statuses_have_labels_and_unknown_values_become_words() {
        assert_eq!(gap_status("not_started"), "Not started");
        assert_eq!(gap_status("not_applicable"), "Not applicable");
        assert_eq!(soa_value("partially_implemented"), "Partially implemented");
        assert_eq!(soa_value("legal_regulatory"), "Legal or regulatory");
        assert_eq!(direction("regressed"), "Regressed");
        assert_eq!(words("some_new_state"), "Some new state");
        assert_eq!(identifier("soa_entry"), "SoA entry");
        assert_eq!(identifier("api_token"), "API token");
        assert_eq!(identifier("fair_scenario"), "FAIR scenario");
        assert_eq!(identifier("update"), "Update");
    }
}
