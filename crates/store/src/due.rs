//! Due items: everything a module holds with an owner and a date (a review
//! due, an expiry, an action due), in one shape. The task engine, the inbox,
//! the e-mail digest, the calendar feed and the roadmap read this one
//! source. A module adds its items by writing a `<module>_due_items`
//! function in its own store file and one line in [`Store::due_items`].

use serde::Serialize;

use crate::{Result, Store};

/// Something with an owner and a date.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DueItem {
    /// What it is, e.g. `risk_action`, `risk_review` (snake case, stable:
    /// notification categories and calendar UIDs are built from it).
    pub kind: &'static str,
    /// The id of the record within its kind.
    pub id: i64,
    pub title: String,
    /// The owner's e-mail address, when someone owns it.
    pub owner: Option<String>,
    /// YYYY-MM-DD.
    pub due_date: String,
    /// Where it is handled in the web application (a local path).
    pub link: String,
}

impl Store {
    /// Every module's due items of an organisation, due on or before
    /// `until` (YYYY-MM-DD), ordered by date.
    pub async fn due_items(&self, org_id: i64, until: &str) -> Result<Vec<DueItem>> {
        let mut out = Vec::new();
        out.extend(self.risk_due_items(org_id, until).await?);
        out.extend(self.training_due_items(org_id, until).await?);
        out.extend(self.tasks_due_items(org_id, until).await?);
        out.extend(self.internal_audit_due_items(org_id, until).await?);
        out.extend(self.nonconformity_due_items(org_id, until).await?);
        out.extend(self.management_review_due_items(org_id, until).await?);
        out.extend(self.controls_due_items(org_id, until).await?);
        out.extend(self.document_due_items(org_id, until).await?);
        out.extend(self.document_ack_due_items(org_id, until).await?);
        // Each module adds one line here.
        out.sort_by(|a, b| {
            a.due_date
                .cmp(&b.due_date)
                .then(a.kind.cmp(b.kind))
                .then(a.id.cmp(&b.id))
        });
        Ok(out)
    }
}
