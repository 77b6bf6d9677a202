//! API tokens: bearer secrets for `/api/v1`, shown once, stored hashed.

use isms_domain::Role;
use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, hash_token, now, on_pool, on_tx, random_token};

/// The caller behind a valid token.
#[derive(Debug, Clone, Serialize)]
pub struct TokenUser {
    pub token_id: i64,
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    pub org_id: i64,
    pub org_slug: String,
    pub org_name: String,
    pub role: Role,
    /// When the token was last used (noted at most once a minute), if ever.
    pub last_used_at: Option<String>,
}

impl TokenUser {
    /// The organisation the token belongs to, as the exports name it.
    pub fn org(&self) -> crate::Org {
        crate::Org {
            id: self.org_id,
            slug: self.org_slug.clone(),
            name: self.org_name.clone(),
            created_at: String::new(),
        }
    }
}

/// A token as listed (never the secret).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// Prefix that makes leaked tokens easy to recognise in logs and scanners.
pub const TOKEN_PREFIX: &str = "isms_";

impl Store {
    /// Creates a token for an active member; returns (id, secret).
    pub async fn create_token(
        &self,
        org_id: i64,
        user_id: i64,
        name: &str,
        actor: &Actor,
    ) -> Result<(i64, String)> {
        let name = match name.trim() {
            "" => "API token",
            n => n,
        };
        let secret = format!("{TOKEN_PREFIX}{}", random_token(32));
        let mut tx = self.begin().await?;
        let member: Option<(bool,)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT active FROM memberships WHERE org_id = $1 AND user_id = $2"
        )
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(c)
        .await)?;
        match member {
            Some((true,)) => {}
            Some((false,)) => {
                return Err(StoreError::Invalid(
                    "the user is deactivated in this organisation: reactivate them first".into(),
                ));
            }
            None => {
                return Err(StoreError::NotFound(
                    "the user is not a member of this organisation: add them with `isms user add`"
                        .into(),
                ));
            }
        }
        let (id,): (i64,) = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO api_tokens (token_hash, user_id, org_id, name, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id"
        )
        .bind(hash_token(&secret))
        .bind(user_id)
        .bind(org_id)
        .bind(name)
        .bind(now())
        .fetch_one(c)
        .await
        })?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "api_token",
                entity_id: id.to_string(),
                before: None,
                after: Some(json!({"name": name, "user_id": user_id})),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((id, secret))
    }

    /// The caller behind a token, if it is valid and its membership active.
    pub async fn user_by_token(&self, secret: &str) -> Result<Option<TokenUser>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            token_id: i64,
            user_id: i64,
            email: String,
            display_name: String,
            org_id: i64,
            org_slug: String,
            org_name: String,
            role: String,
            last_used_at: Option<String>,
        }
        let row = on_pool!(self, |p| {
            sqlx::query_as::<_, Row>(
            "SELECT t.id AS token_id, u.id AS user_id, u.email, u.display_name, o.id AS org_id, \
                    o.slug AS org_slug, o.name AS org_name, m.role, t.last_used_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN organisations o ON o.id = t.org_id \
             JOIN memberships m ON m.user_id = t.user_id AND m.org_id = t.org_id AND m.active \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
        )
        .bind(hash_token(secret))
        .fetch_optional(p)
        .await
        })?;
        row.map(|r| {
            Ok(TokenUser {
                token_id: r.token_id,
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
                last_used_at: r.last_used_at,
            })
        })
        .transpose()
    }

    /// Notes when a token was last used (at most once a minute per token).
    pub async fn mark_token_used(&self, token_id: i64, stale_before: &str) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)"
        )
        .bind(now())
        .bind(token_id)
        .bind(stale_before)
        .execute(p)
        .await.map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// A user's live tokens in one organisation.
    pub async fn tokens_of(&self, org_id: i64, user_id: i64) -> Result<Vec<TokenInfo>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, TokenInfo>(
            "SELECT id, name, created_at, last_used_at FROM api_tokens \
             WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL ORDER BY id"
        )
        .bind(org_id)
        .bind(user_id)
        .fetch_all(p)
        .await)?)
    }

    /// Revokes one of the user's own tokens.
    pub async fn revoke_token(
        &self,
        org_id: i64,
        user_id: i64,
        token_id: i64,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let revoked_at = now();
        let row: Option<(String, String, Option<String>)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND org_id = $3 AND user_id = $4 AND revoked_at IS NULL \
             RETURNING name, created_at, last_used_at"
        )
        .bind(&revoked_at)
        .bind(token_id)
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(c)
        .await
        })?;
        let Some((name, created_at, last_used_at)) = row else {
            return Err(StoreError::NotFound("no such token".into()));
        };
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "revoke",
                entity_type: "api_token",
                entity_id: token_id.to_string(),
                before: Some(json!({
                    "name": name, "prefix": TOKEN_PREFIX, "user_id": user_id,
                    "created_at": created_at, "last_used_at": last_used_at, "revoked_at": null,
                })),
                after: Some(json!({"name": name, "revoked_at": revoked_at})),
            },
        )
        .await?;
        tx.commit().await
    }
}
