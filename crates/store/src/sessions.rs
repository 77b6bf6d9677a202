//! Browser sessions, stored in the database so any instance can serve any
//! request. The cookie holds a random token; only its SHA-256 is stored.

use isms_domain::Role;
use isms_domain::audit::{SESSION_ENTITY, SessionEvent};
use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, Tx, hash_token, now, on_pool, on_tx, random_token};

#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    /// The secret for the cookie; never stored.
    pub token: String,
    pub csrf_token: String,
    pub expires_at: String,
}

/// A session joined with its user and current organisation.
#[derive(Debug, Clone, Serialize)]
pub struct SessionUser {
    pub session_id: i64,
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    pub org_id: i64,
    pub org_slug: String,
    pub org_name: String,
    pub role: Role,
    pub csrf_token: String,
    pub expires_at: String,
    pub last_seen_at: String,
}

impl SessionUser {
    /// The organisation the session is in, as the exports name it.
    pub fn org(&self) -> crate::Org {
        crate::Org {
            id: self.org_id,
            slug: self.org_slug.clone(),
            name: self.org_name.clone(),
            created_at: String::new(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    session_id: i64,
    user_id: i64,
    email: String,
    display_name: String,
    org_id: i64,
    org_slug: String,
    org_name: String,
    role: String,
    csrf_token: String,
    expires_at: String,
    last_seen_at: String,
}

impl Store {
    /// Starts a session for a user in an organisation.
    pub async fn create_session(
        &self,
        user_id: i64,
        org_id: i64,
        expires_at: &str,
    ) -> Result<Session> {
        let token = random_token(32);
        let csrf_token = random_token(32);
        let at = now();
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO sessions (token_hash, user_id, org_id, csrf_token, created_at, expires_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $5) RETURNING id"
        )
        .bind(hash_token(&token))
        .bind(user_id)
        .bind(org_id)
        .bind(&csrf_token)
        .bind(&at)
        .bind(expires_at)
        .fetch_one(p)
        .await
        })?;
        Ok(Session {
            id,
            token,
            csrf_token,
            expires_at: expires_at.to_owned(),
        })
    }

    /// Finds the session for a cookie token, whatever its expiry (the caller
    /// tells an expired session apart to say so). Sessions whose membership
    /// was deactivated are not found.
    pub async fn session_by_token(&self, token: &str) -> Result<Option<SessionUser>> {
        let row = on_pool!(self, |p| {
            sqlx::query_as::<_, Row>(
            "SELECT s.id AS session_id, u.id AS user_id, u.email, u.display_name, o.id AS org_id, \
                    o.slug AS org_slug, o.name AS org_name, m.role, s.csrf_token, s.expires_at, s.last_seen_at \
             FROM sessions s \
             JOIN users u ON u.id = s.user_id \
             JOIN organisations o ON o.id = s.org_id \
             JOIN memberships m ON m.user_id = s.user_id AND m.org_id = s.org_id AND m.active \
             WHERE s.token_hash = $1"
        )
        .bind(hash_token(token))
        .fetch_optional(p)
        .await
        })?;
        row.map(|r| {
            Ok(SessionUser {
                session_id: r.session_id,
                user_id: r.user_id,
                email: r.email,
                display_name: r.display_name,
                org_id: r.org_id,
                org_slug: r.org_slug,
                org_name: r.org_name,
                role: r
                    .role
                    .parse()
                    .map_err(|e: isms_domain::role::UnknownRole| {
                        StoreError::Invalid(e.to_string())
                    })?,
                csrf_token: r.csrf_token,
                expires_at: r.expires_at,
                last_seen_at: r.last_seen_at,
            })
        })
        .transpose()
    }

    /// Slides a session's expiry forward.
    pub async fn touch_session(&self, session_id: i64, expires_at: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3"
        )
        .bind(now())
        .bind(expires_at)
        .bind(session_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Moves a session to another organisation the user is an active member
    /// of, recording the switch in both organisations' logs (each entry
    /// names only its own organisation).
    pub async fn switch_session_org(
        &self,
        session_id: i64,
        user_id: i64,
        org_id: i64,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let from: Option<(i64, String)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT s.org_id, u.email FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id = $1 AND s.user_id = $2"
        )
        .bind(session_id)
        .bind(user_id)
        .fetch_optional(c)
        .await)?;
        let r = on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE sessions SET org_id = $1 WHERE id = $2 AND user_id = $3 AND EXISTS \
             (SELECT 1 FROM memberships m WHERE m.user_id = $3 AND m.org_id = $1 AND m.active)"
        )
        .bind(org_id)
        .bind(session_id)
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        let Some((from, email)) = from.filter(|_| r > 0) else {
            return Err(StoreError::NotFound(
                "you are not a member of that organisation".into(),
            ));
        };
        if from != org_id {
            let details = json!({"email": email});
            session_event(
                &mut tx,
                from,
                user_id,
                actor,
                SessionEvent::SwitchAway,
                &details,
            )
            .await?;
            session_event(
                &mut tx,
                org_id,
                user_id,
                actor,
                SessionEvent::SwitchTo,
                &details,
            )
            .await?;
        }
        tx.commit().await
    }

    pub async fn delete_session(&self, session_id: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(session_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Ends a session at the user's request, recorded in the log of the
    /// organisation it was in.
    pub async fn logout_session(&self, session_id: i64, actor: &Actor) -> Result<()> {
        let mut tx = self.begin().await?;
        let row: Option<(i64, i64)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "DELETE FROM sessions WHERE id = $1 RETURNING org_id, user_id"
        )
        .bind(session_id)
        .fetch_optional(c)
        .await)?;
        if let Some((org_id, user_id)) = row {
            session_event(
                &mut tx,
                org_id,
                user_id,
                actor,
                SessionEvent::Logout,
                &json!({"email": actor.label}),
            )
            .await?;
        }
        tx.commit().await
    }

    /// Records a security event about `user_id` in the log of `org_id`, or
    /// (`None`) of every organisation where the user holds a membership,
    /// active or not. `details` must hold nothing of another organisation.
    pub async fn record_session_event(
        &self,
        org_id: Option<i64>,
        user_id: i64,
        actor: &Actor,
        event: SessionEvent,
        details: &serde_json::Value,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let orgs = match org_id {
            Some(id) => vec![id],
            None => crate::users::membership_orgs(&mut tx, user_id).await?,
        };
        for org in orgs {
            session_event(&mut tx, org, user_id, actor, event, details).await?;
        }
        tx.commit().await
    }

    /// Removes sessions that expired before `now`.
    pub async fn purge_expired_sessions(&self) -> Result<u64> {
        let r = on_pool!(self, |p| sqlx::query(
            "DELETE FROM sessions WHERE expires_at < $1"
        )
        .bind(now())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(r)
    }

    /// Records a one-time set-up token (for the first administrator).
    pub async fn create_setup_token(&self, expires_at: &str) -> Result<String> {
        let token = random_token(24);
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES ($1, $2, $3)"
        )
        .bind(hash_token(&token))
        .bind(now())
        .bind(expires_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(token)
    }

    /// Whether a set-up token is valid now (exists, not expired, and no user exists yet).
    pub async fn setup_token_valid(&self, token: &str) -> Result<bool> {
        let (n,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM setup_tokens WHERE token_hash = $1 AND expires_at > $2 \
             AND NOT EXISTS (SELECT 1 FROM users)"
        )
        .bind(hash_token(token))
        .bind(now())
        .fetch_one(p)
        .await)?;
        Ok(n > 0)
    }

    /// Deletes all set-up tokens (once the first administrator exists).
    pub async fn clear_setup_tokens(&self) -> Result<()> {
        on_pool!(self, |p| sqlx::query("DELETE FROM setup_tokens")
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Store {
    /// A random secret of the installation, created on first use and the
    /// same for every instance sharing the database.
    pub async fn installation_secret(&self, name: &str) -> Result<String> {
        // Read first: this runs on public pages, which should not write.
        let read = || async {
            on_pool!(self, |p| sqlx::query_as::<_, (String,)>(
                "SELECT value FROM installation_secrets WHERE name = $1"
            )
            .bind(name)
            .fetch_optional(p)
            .await)
        };
        if let Some((value,)) = read().await? {
            return Ok(value);
        }
        on_pool!(self, |p| {
            sqlx::query(
            "INSERT INTO installation_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING"
        )
        .bind(name)
        .bind(random_token(32))
        .bind(now())
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        // Another instance may have won the race: its value is the one kept.
        read()
            .await?
            .map(|(value,)| value)
            .ok_or_else(|| StoreError::NotFound(format!("installation secret {name}")))
    }
}

/// One security event in one organisation's log, inside `tx`.
async fn session_event(
    tx: &mut Tx,
    org_id: i64,
    user_id: i64,
    actor: &Actor,
    event: SessionEvent,
    details: &serde_json::Value,
) -> Result<()> {
    audit::record(
        tx,
        actor,
        Change {
            org_id,
            action: event.as_str(),
            entity_type: SESSION_ENTITY,
            entity_id: user_id.to_string(),
            before: None,
            after: Some(details.clone()),
        },
    )
    .await
}
