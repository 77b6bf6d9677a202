//! Failed-login counting, kept in the database so that every instance
//! enforces the same limits.

use crate::{Result, Store, now, on_pool};

impl Store {
    pub async fn record_login_failure(&self, key: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO login_failures (key, at) VALUES ($1, $2)"
        )
        .bind(key)
        .bind(now())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Failures recorded for `key` since `since`.
    pub async fn login_failures_since(&self, key: &str, since: &str) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at >= $2"
        )
        .bind(key)
        .bind(since)
        .fetch_one(p)
        .await)?;
        Ok(n)
    }

    /// Forgets an account's failures after a successful login, and old rows.
    pub async fn clear_login_failures(&self, key: &str, older_than: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "DELETE FROM login_failures WHERE key = $1 OR at < $2"
        )
        .bind(key)
        .bind(older_than)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
