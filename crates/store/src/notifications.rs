//! The in-app inbox. Any module sends a member a message with
//! [`Store::notify`]; the inbox page, the unread count in the header and the
//! e-mail digest read them. Messages belong to one organisation and one
//! member: a member of several organisations sees each organisation's
//! messages there only.

use serde::Serialize;

use crate::{Result, Store, StoreError, now, on_pool};

/// One message.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Notification {
    pub id: i64,
    /// What it is about (a due item's kind, `reminder`, `assignment`, ...):
    /// the e-mail opt-out is per category.
    pub category: String,
    pub title: String,
    pub body: String,
    /// A local path to the item.
    pub link: String,
    pub created_at: String,
    pub read_at: Option<String>,
}

/// A message to send.
#[derive(Debug, Clone, Default)]
pub struct NewNotification<'a> {
    pub category: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub link: &'a str,
    /// When set, the message is written at most once per member and key.
    pub dedupe_key: Option<&'a str>,
}

/// Messages listed per page at most.
pub const INBOX_PAGE: i64 = 200;

impl Store {
    /// Sends a member of `org_id` a message. Returns whether it was written
    /// (false when a message with the same dedupe key exists). A user who is
    /// not an active member of the organisation is refused.
    pub async fn notify(&self, org_id: i64, user_id: i64, n: &NewNotification<'_>) -> Result<bool> {
        let title = n.title.trim();
        if title.is_empty() {
            return Err(StoreError::Invalid("title: required".into()));
        }
        let title: String = title.chars().take(500).collect();
        let member: Option<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT user_id FROM memberships WHERE org_id = $1 AND user_id = $2 AND active"
        )
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(p)
        .await)?;
        if member.is_none() {
            return Err(StoreError::Invalid(
                "recipient: not a member of this organisation".into(),
            ));
        }
        let at = now();
        let written = on_pool!(self, |p| {
            sqlx::query(
            "INSERT INTO notifications (org_id, user_id, category, title, body, link, dedupe_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING"
        )
        .bind(org_id)
        .bind(user_id)
        .bind(n.category)
        .bind(&title)
        .bind(n.body)
        .bind(n.link)
        .bind(n.dedupe_key)
        .bind(&at)
        .execute(p)
        .await
        .map(|r| r.rows_affected() == 1)
        })?;
        Ok(written)
    }

    /// A member's messages in an organisation, newest first (at most
    /// [`INBOX_PAGE`]), optionally only the unread ones.
    pub async fn inbox(
        &self,
        org_id: i64,
        user_id: i64,
        unread_only: bool,
    ) -> Result<Vec<Notification>> {
        let sql = format!(
            "SELECT id, category, title, body, link, created_at, read_at FROM notifications \
             WHERE org_id = $1 AND user_id = $2 {} ORDER BY id DESC LIMIT {INBOX_PAGE}",
            if unread_only {
                "AND read_at IS NULL"
            } else {
                ""
            }
        );
        let rows = on_pool!(self, |p| sqlx::query_as::<_, Notification>(&sql)
            .bind(org_id)
            .bind(user_id)
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }

    /// How many of a member's messages are unread.
    pub async fn unread_count(&self, org_id: i64, user_id: i64) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT COUNT(*) FROM notifications WHERE org_id = $1 AND user_id = $2 AND read_at IS NULL"
        )
        .bind(org_id)
        .bind(user_id)
        .fetch_one(p)
        .await
        })?;
        Ok(n)
    }

    /// Marks one message (or, with `None`, all) of a member read. Returns how
    /// many changed; another member's message is not found.
    pub async fn mark_read(&self, org_id: i64, user_id: i64, id: Option<i64>) -> Result<u64> {
        let at = now();
        let n = on_pool!(self, |p| sqlx::query(
            "UPDATE notifications SET read_at = $3 WHERE org_id = $1 AND user_id = $2 \
             AND read_at IS NULL AND ($4 IS NULL OR id = $4)"
        )
        .bind(org_id)
        .bind(user_id)
        .bind(&at)
        .bind(id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n)
    }
}
