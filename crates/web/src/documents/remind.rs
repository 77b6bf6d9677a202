//! "Remind the late ones": everyone who has not yet acknowledged the
//! published version gets an inbox message (at most one a day) and, when an
//! SMTP relay is configured, an e-mail too (unless they opted out of the
//! `document_acknowledgement` category). Shared by the API, the page and
//! `isms doc remind`.

use isms_store::{Org, Store, StoreError};
use serde::Serialize;

use crate::tasks::Mailer;

/// What a reminder run did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RemindOutcome {
    /// Inbox messages written (people reminded today already are skipped).
    pub sent: usize,
    /// E-mails sent (0 without an SMTP relay).
    pub emailed: usize,
    /// Why e-mail stopped, when it did (the inbox messages stay written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail_error: Option<String>,
}

/// Reminds the late ones of document `id`. `base_url` (no trailing slash)
/// makes the link in the e-mail absolute.
pub async fn remind_late(
    store: &Store,
    mailer: Option<&Mailer>,
    base_url: &str,
    org: &Org,
    id: i64,
) -> Result<RemindOutcome, StoreError> {
    let reminded = store.remind_document_late(org.id, id).await?;
    let mut out = RemindOutcome {
        sent: reminded.len(),
        ..RemindOutcome::default()
    };
    let Some(mailer) = mailer else {
        return Ok(out);
    };
    if reminded.is_empty() {
        return Ok(out);
    }
    let d = store.document(org.id, id).await?;
    let label = d.published.as_ref().map_or("", |p| p.label.as_str());
    let url = format!("{}/documents/{id}", base_url.trim_end_matches('/'));
    let subject = format!(
        "[{}] Please read and acknowledge “{}” version {label}",
        org.name, d.title
    );
    for r in &reminded {
        if store
            .optouts(org.id, r.user_id)
            .await?
            .iter()
            .any(|o| o == "document_acknowledgement")
        {
            continue;
        }
        let by = if r.read_by.is_empty() {
            String::new()
        } else {
            format!(" It was due by {}.", r.read_by)
        };
        let body = format!(
            "Hello,\n\nyou are asked to read “{}” version {label} of {} and to acknowledge that you have read it.{by}\n\nOpen it here, read it and press \"I have read it\":\n{url}\n\nThis reminder was sent by isms on behalf of your ISMS manager.\n",
            d.title, org.name
        );
        match mailer.send(&r.email, &subject, body).await {
            Ok(()) => out.emailed += 1,
            Err(e) => {
                tracing::warn!("document reminder e-mails stopped: {e}");
                out.mail_error = Some(e);
                break;
            }
        }
    }
    Ok(out)
}
