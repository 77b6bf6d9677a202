//! Organisations: the tenants. Everything else hangs off one.

use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now, on_pool, on_tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq, Eq)]
pub struct Org {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub created_at: String,
}

/// Figures for the dashboard of one organisation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DashboardCounts {
    pub active_members: i64,
    pub inactive_members: i64,
    pub admins: i64,
    pub api_tokens: i64,
    pub audit_entries: i64,
    pub changes_last_7_days: i64,
}

impl Store {
    /// Creates an organisation with a slug made from its name, made unique
    /// with a numeric suffix when taken.
    pub async fn create_org(&self, name: &str, actor: &Actor) -> Result<Org> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("the organisation needs a name".into()));
        }
        if name.chars().count() > 200 {
            return Err(StoreError::Invalid(
                "the organisation's name is too long (200 characters at most)".into(),
            ));
        }
        let base = isms_domain::slug::slugify(name);
        let mut tx = self.begin().await?;
        let mut slug = base.clone();
        let mut n = 1;
        loop {
            let taken: Option<(i64,)> = on_tx!(&mut tx, |c| sqlx::query_as(
                "SELECT id FROM organisations WHERE slug = $1"
            )
            .bind(&slug)
            .fetch_optional(c)
            .await)?;
            if taken.is_none() {
                break;
            }
            n += 1;
            slug = format!("{base}-{n}");
        }
        let org: Org = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO organisations (slug, name, created_at) VALUES ($1, $2, $3) RETURNING id, slug, name, created_at"
        )
        .bind(&slug)
        .bind(name)
        .bind(now())
        .fetch_one(c)
        .await
        })?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id: org.id,
                action: "create",
                entity_type: "organisation",
                entity_id: org.id.to_string(),
                before: None,
                after: Some(json!({"slug": org.slug, "name": org.name})),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(org)
    }

    pub async fn org_by_slug(&self, slug: &str) -> Result<Option<Org>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Org>(
            "SELECT id, slug, name, created_at FROM organisations WHERE slug = $1"
        )
        .bind(slug)
        .fetch_optional(p)
        .await)?)
    }

    /// Like [`Store::org_by_slug`] but an unknown slug is an error that says what to do.
    pub async fn require_org(&self, slug: &str) -> Result<Org> {
        self.org_by_slug(slug).await?.ok_or_else(|| {
            StoreError::NotFound(format!(
                "no organisation with the slug '{slug}': list them with `isms org list`"
            ))
        })
    }

    pub async fn org_by_id(&self, id: i64) -> Result<Option<Org>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Org>(
            "SELECT id, slug, name, created_at FROM organisations WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    pub async fn list_orgs(&self) -> Result<Vec<Org>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Org>(
            "SELECT id, slug, name, created_at FROM organisations ORDER BY name, id"
        )
        .fetch_all(p)
        .await)?)
    }

    pub async fn count_orgs(&self) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM organisations"
        )
        .fetch_one(p)
        .await)?;
        Ok(n)
    }

    /// The dashboard's figures, in one round trip.
    pub async fn dashboard_counts(&self, org_id: i64, since: &str) -> Result<DashboardCounts> {
        let row: (i64, i64, i64, i64, i64, i64) = on_pool!(self, |p| sqlx::query_as(
            "SELECT \
               (SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND active), \
               (SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND NOT active), \
               (SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND active AND role = 'admin'), \
               (SELECT COUNT(*) FROM api_tokens WHERE org_id = $1 AND revoked_at IS NULL), \
               (SELECT COUNT(*) FROM audit_log WHERE org_id = $1), \
               (SELECT COUNT(*) FROM audit_log WHERE org_id = $1 AND at >= $2)"
        )
        .bind(org_id)
        .bind(since)
        .fetch_one(p)
        .await)?;
        Ok(DashboardCounts {
            active_members: row.0,
            inactive_members: row.1,
            admins: row.2,
            api_tokens: row.3,
            audit_entries: row.4,
            changes_last_7_days: row.5,
        })
    }
}
