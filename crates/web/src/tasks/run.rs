//! One run of the reminder work: in-app reminders for items due within a
//! week, and each member's daily e-mail digest while something of theirs is
//! overdue. `isms notify run-once` calls it; `isms serve` calls it every few
//! minutes on the one instance that holds the scheduler's lock.

use std::collections::HashMap;
use std::time::Duration;

use isms_domain::tasks::{DigestLine, digest_text};
use isms_store::{NewNotification, Store, StoreError};

use super::mail::Mailer;

/// Reminders are written for items due within this many days.
pub const REMIND_DAYS: i64 = 7;

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// In-app reminders written (repeats are deduplicated).
    pub reminders: usize,
    pub digests_sent: usize,
    /// Digests already sent today (by this or another instance).
    pub digests_skipped: usize,
    /// Set when e-mail could not be sent: nothing was marked sent, the next
    /// run tries again.
    pub mail_error: Option<String>,
}

/// Today (UTC) and the day `days` later, as YYYY-MM-DD.
pub fn today_plus(days: i64) -> (String, String) {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let today = time::OffsetDateTime::now_utc().date();
    let later = today + time::Duration::days(days);
    (
        today.format(fmt).unwrap_or_default(),
        later.format(fmt).unwrap_or_default(),
    )
}

/// Runs once over every organisation. `base_url` (no trailing slash) makes
/// the links in e-mails absolute.
pub async fn run_once(
    store: &Store,
    mailer: Option<&Mailer>,
    base_url: &str,
) -> Result<RunSummary, StoreError> {
    let (today, week) = today_plus(REMIND_DAYS);
    let mut summary = RunSummary::default();
    // One connection test per run: an SMTP server that is down or refuses
    // the login is reported once, and no digest is decided.
    let mut mailer = mailer;
    if let Some(m) = mailer
        && let Err(e) = m.check().await
    {
        tracing::warn!("no e-mail digests this run: {e}; the next run tries again");
        summary.mail_error = Some(e);
        mailer = None;
    }
    let base = base_url.trim_end_matches('/');
    for org in store.list_orgs().await? {
        let members: HashMap<String, i64> = store
            .members(org.id)
            .await?
            .into_iter()
            .filter(|m| m.active)
            .map(|m| (m.email, m.user_id))
            .collect();
        let items = store.due_items(org.id, &week).await?;
        let mut per_member: HashMap<i64, Vec<&isms_store::DueItem>> = HashMap::new();
        for item in &items {
            let Some(user) = item.owner.as_ref().and_then(|o| members.get(o)) else {
                continue;
            };
            per_member.entry(*user).or_default().push(item);
            let when = match item.due_date.cmp(&today) {
                std::cmp::Ordering::Less => format!("Overdue since {}", item.due_date),
                std::cmp::Ordering::Equal => "Due today".to_owned(),
                std::cmp::Ordering::Greater => format!("Due on {}", item.due_date),
            };
            let written = store
                .notify(
                    org.id,
                    *user,
                    &NewNotification {
                        category: item.kind,
                        title: &format!("{when}: {}", item.title),
                        body: "",
                        link: &item.link,
                        dedupe_key: Some(&format!(
                            "due:{}:{}:{}",
                            item.kind, item.id, item.due_date
                        )),
                    },
                )
                .await?;
            summary.reminders += usize::from(written);
        }
        let Some(m) = mailer else { continue };
        let emails: HashMap<i64, &String> = members.iter().map(|(e, id)| (*id, e)).collect();
        let mut users: Vec<i64> = per_member.keys().copied().collect();
        users.sort_unstable();
        for user in users {
            let optouts = store.optouts(org.id, user).await?;
            let mine: Vec<&&isms_store::DueItem> = per_member[&user]
                .iter()
                .filter(|i| !optouts.iter().any(|o| o == i.kind))
                .collect();
            let line = |i: &&&isms_store::DueItem| DigestLine {
                title: i.title.clone(),
                due_date: i.due_date.clone(),
                url: format!("{base}{}", i.link),
            };
            let overdue: Vec<DigestLine> = mine
                .iter()
                .filter(|i| i.due_date < today)
                .map(line)
                .collect();
            if overdue.is_empty() {
                continue;
            }
            let upcoming: Vec<DigestLine> = mine
                .iter()
                .filter(|i| i.due_date >= today)
                .map(line)
                .collect();
            let Some(claim) = store
                .claim_digest(
                    org.id,
                    user,
                    &today,
                    (overdue.len() + upcoming.len()) as i64,
                )
                .await?
            else {
                summary.digests_skipped += 1;
                continue;
            };
            let (subject, body) = digest_text(&org.name, &today, &overdue, &upcoming);
            match m.send(emails[&user], &subject, body).await {
                Ok(()) => {
                    claim.sent().await?;
                    summary.digests_sent += 1;
                }
                Err(e) => {
                    // Dropping the claim rolls it back: not marked sent.
                    drop(claim);
                    tracing::warn!("e-mail digests stopped for this run: {e}");
                    summary.mail_error = Some(e);
                    mailer = None;
                    break;
                }
            }
        }
    }
    Ok(summary)
}

/// Runs [`run_once`] every `every`, on the instance that holds the
/// scheduler's lock (PostgreSQL) or in this process (SQLite). Errors are
/// logged; the web keeps working.
pub async fn scheduler(store: Store, mailer: Option<Mailer>, base_url: String, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let lock = match store.try_scheduler_lock().await {
            Ok(Some(lock)) => lock,
            Ok(None) => {
                tracing::debug!("another instance runs the reminders");
                continue;
            }
            Err(e) => {
                tracing::warn!("reminders skipped: {e}");
                continue;
            }
        };
        match run_once(&store, mailer.as_ref(), &base_url).await {
            Ok(s) => tracing::info!(
                reminders = s.reminders,
                digests = s.digests_sent,
                "reminders run"
            ),
            Err(e) => tracing::warn!("reminders run failed: {e}"),
        }
        drop(lock);
    }
}
