//! The calendar feed: a member's dated items as all-day events.

use icalendar::{Calendar, Component, Event, EventLike};
use isms_store::DueItem;

/// The iCalendar text of `items` (those without a date are left out). Each
/// event's UID is stable per item (kind, id and organisation), so calendar
/// clients update an event when its date moves instead of adding another.
pub fn feed(org_id: i64, org_name: &str, base_url: &str, items: &[DueItem]) -> String {
    let mut cal = Calendar::new();
    cal.name(&format!("isms: {org_name}"));
    let base = base_url.trim_end_matches('/');
    for item in items {
        let Ok(day) = chrono::NaiveDate::parse_from_str(&item.due_date, "%Y-%m-%d") else {
            continue;
        };
        let mut event = Event::new();
        event
            .uid(&format!("{}-{}-org{org_id}@isms", item.kind, item.id))
            .summary(&item.title)
            .starts(day)
            .description(&format!("{base}{}", item.link))
            .url(&format!("{base}{}", item.link));
        if let Some(next) = day.succ_opt() {
            event.ends(next);
        }
        cal.push(event.done());
    }
    cal.done().to_string()
}
