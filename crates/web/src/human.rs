//! One shared way to show dates and status values on pages.
//!
//! Times are stored as UTC RFC 3339 strings. Pages show them as people
//! read them: "just now", "3 hours ago", "4 days ago", then a date; the
//! exact time is in a `<time datetime>` element with a `title` tooltip.
//! Times are shown in UTC, and say so, until organisations have a time
//! zone setting.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

/// `<time>` markup for a stored timestamp or date (HTML, already escaped;
/// use with `|safe`). Text that is neither is shown escaped as it is.
pub fn when(stored: &str) -> String {
    when_at(stored, OffsetDateTime::now_utc())
}

fn when_at(stored: &str, now: OffsetDateTime) -> String {
    let s = stored.trim();
    if s.is_empty() {
        return String::new();
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        let t = t.to_offset(time::UtcOffset::UTC);
        let exact = exact(t);
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

/// "30 Nov 2026, 07:32:40 UTC".
fn exact(t: OffsetDateTime) -> String {
    format!(
        "{}, {} UTC",
        day(t.date()),
        t.format(format_description!("[hour]:[minute]:[second]"))
            .unwrap_or_default()
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
            when_at("2026-12-03T07:32:40.394542Z", NOW),
            "<time datetime=\"2026-12-03T07:32:40.394542Z\" title=\"3 Dec 2026, 07:32:40 UTC\">3 days ago</time>"
        );
        assert!(when_at("2026-12-06T07:59:30Z", NOW).contains(">just now<"));
        assert!(when_at("2026-12-06T07:00:00Z", NOW).contains(">1 hour ago<"));
        assert!(when_at("2026-12-06T07:15:00Z", NOW).contains(">45 minutes ago<"));
    }

    #[test]
    fn older_and_future_times_and_dates_are_dates() {
        assert!(when_at("2026-11-20T10:00:00Z", NOW).contains(">20 Nov 2026<"));
        assert!(when_at("2027-01-02T10:00:00Z", NOW).contains(">2 Jan 2027<"));
        assert_eq!(
            when_at("2026-12-31", NOW),
            "<time datetime=\"2026-12-31\">31 Dec 2026</time>"
        );
        assert_eq!(when_at("", NOW), "");
        assert_eq!(when_at("<b>", NOW), "&lt;b&gt;");
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
