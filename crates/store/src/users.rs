//! Users (global, identified by e-mail) and their memberships in organisations.

use isms_domain::Role;
use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::orgs::Org;
use crate::{Result, Store, StoreError, Tx, is_unique_violation, now, on_pool, on_tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub created_at: String,
}

/// A user as a member of one organisation.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    pub joined_at: String,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    user_id: i64,
    email: String,
    display_name: String,
    role: String,
    active: bool,
    created_at: String,
}

fn parse_role(s: &str) -> Result<Role> {
    s.parse()
        .map_err(|e: isms_domain::role::UnknownRole| StoreError::Invalid(e.to_string()))
}

impl TryFrom<MemberRow> for Member {
    type Error = StoreError;
    fn try_from(r: MemberRow) -> Result<Member> {
        Ok(Member {
            user_id: r.user_id,
            email: r.email,
            display_name: r.display_name,
            role: parse_role(&r.role)?,
            active: r.active,
            joined_at: r.created_at,
        })
    }
}

const USER_COLS: &str = "id, email, display_name, password_hash, created_at";

impl Store {
    /// Adds `email` to the organisation with `role`. A new user gets
    /// `password_hash`; an existing user keeps their password and only gains
    /// the membership. Returns the user and whether the account is new.
    pub async fn add_member(
        &self,
        org_id: i64,
        email: &str,
        display_name: &str,
        password_hash: &str,
        role: Role,
        actor: &Actor,
    ) -> Result<(User, bool)> {
        let email = isms_domain::password::normalise_email(email).map_err(StoreError::Invalid)?;
        let display_name = match display_name.trim() {
            "" => email.split('@').next().unwrap_or(&email).to_owned(),
            n => n.to_owned(),
        };
        let mut tx = self.begin().await?;
        let existing: Option<User> = on_tx!(&mut tx, |c| sqlx::query_as(&format!(
            "SELECT {USER_COLS} FROM users WHERE email = $1"
        ))
        .bind(&email)
        .fetch_optional(c)
        .await)?;
        let (user, created) = if let Some(u) = existing {
            (u, false)
        } else {
            let at = now();
            let u: User = on_tx!(&mut tx, |c| {
                sqlx::query_as(&format!(
                "INSERT INTO users (email, display_name, password_hash, created_at, password_changed_at) \
                 VALUES ($1, $2, $3, $4, $4) RETURNING {USER_COLS}"
            ))
            .bind(&email)
            .bind(&display_name)
            .bind(password_hash)
            .bind(&at)
            .fetch_one(c)
            .await
            })?;
            audit::record(
                &mut tx,
                actor,
                Change {
                    org_id,
                    action: "create",
                    entity_type: "user",
                    entity_id: u.id.to_string(),
                    before: None,
                    after: Some(json!({"email": u.email, "display_name": u.display_name})),
                },
            )
            .await?;
            (u, true)
        };
        let inserted = on_tx!(&mut tx, |c| {
            sqlx::query(
            "INSERT INTO memberships (user_id, org_id, role, active, created_at) VALUES ($1, $2, $3, TRUE, $4)"
        )
        .bind(user.id)
        .bind(org_id)
        .bind(role.as_str())
        .bind(now())
        .execute(c)
        .await.map(|r| r.rows_affected())
        });
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict(format!(
                    "{email} is already a member of this organisation: change their role instead"
                )));
            }
            Err(e) => return Err(e.into()),
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "membership",
                entity_id: user.id.to_string(),
                before: None,
                after: Some(json!({"email": user.email, "role": role, "active": true})),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((user, created))
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let email = email.trim().to_lowercase();
        Ok(on_pool!(self, |p| sqlx::query_as::<_, User>(&format!(
            "SELECT {USER_COLS} FROM users WHERE email = $1"
        ))
        .bind(&email)
        .fetch_optional(p)
        .await)?)
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, User>(&format!(
            "SELECT {USER_COLS} FROM users WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    pub async fn count_users(&self) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, |p| sqlx::query_as("SELECT COUNT(*) FROM users")
            .fetch_one(p)
            .await)?;
        Ok(n)
    }

    /// The user's membership in one organisation, if any.
    pub async fn member(&self, org_id: i64, user_id: i64) -> Result<Option<Member>> {
        let row = on_pool!(self, |p| {
            sqlx::query_as::<_, MemberRow>(
            "SELECT u.id AS user_id, u.email, u.display_name, m.role, m.active, m.created_at \
             FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND m.user_id = $2"
        )
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(p)
        .await
        })?;
        row.map(Member::try_from).transpose()
    }

    pub async fn members(&self, org_id: i64) -> Result<Vec<Member>> {
        let rows = on_pool!(self, |p| {
            sqlx::query_as::<_, MemberRow>(
            "SELECT u.id AS user_id, u.email, u.display_name, m.role, m.active, m.created_at \
             FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 ORDER BY u.email"
        )
        .bind(org_id)
        .fetch_all(p)
        .await
        })?;
        rows.into_iter().map(Member::try_from).collect()
    }

    /// The organisations where the user is an active member, with their role.
    pub async fn orgs_of_user(&self, user_id: i64) -> Result<Vec<(Org, Role)>> {
        let rows: Vec<(i64, String, String, String, String)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT o.id, o.slug, o.name, o.created_at, m.role FROM memberships m \
             JOIN organisations o ON o.id = m.org_id WHERE m.user_id = $1 AND m.active ORDER BY o.name, o.id"
        )
        .bind(user_id)
        .fetch_all(p)
        .await
        })?;
        rows.into_iter()
            .map(|(id, slug, name, created_at, role)| {
                Ok((
                    Org {
                        id,
                        slug,
                        name,
                        created_at,
                    },
                    parse_role(&role)?,
                ))
            })
            .collect()
    }

    /// Changes a member's role; the last active admin cannot be demoted.
    pub async fn set_member_role(
        &self,
        org_id: i64,
        user_id: i64,
        role: Role,
        actor: &Actor,
    ) -> Result<Member> {
        self.change_membership(org_id, user_id, actor, |m| {
            if m.role == role {
                return Err(StoreError::Invalid(format!(
                    "{} already has the role {role}",
                    m.email
                )));
            }
            Ok((role, m.active))
        })
        .await
    }

    /// Deactivates or reactivates a member; the last active admin cannot be
    /// deactivated. Deactivation also ends their sessions and tokens in this
    /// organisation.
    pub async fn set_member_active(
        &self,
        org_id: i64,
        user_id: i64,
        active: bool,
        actor: &Actor,
    ) -> Result<Member> {
        self.change_membership(org_id, user_id, actor, |m| {
            if m.active == active {
                let state = if active { "active" } else { "deactivated" };
                return Err(StoreError::Invalid(format!(
                    "{} is already {state}",
                    m.email
                )));
            }
            Ok((m.role, active))
        })
        .await
    }

    async fn change_membership(
        &self,
        org_id: i64,
        user_id: i64,
        actor: &Actor,
        decide: impl FnOnce(&Member) -> Result<(Role, bool)>,
    ) -> Result<Member> {
        let mut tx = self.begin().await?;
        let before = member_in_tx(&mut tx, org_id, user_id)
            .await?
            .ok_or_else(|| StoreError::NotFound("no such member in this organisation".into()))?;
        let (role, active) = decide(&before)?;
        let loses_admin =
            before.role == Role::Admin && before.active && (role != Role::Admin || !active);
        if loses_admin {
            let (admins,): (i64,) = on_tx!(&mut tx, |c| {
                sqlx::query_as(
                "SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = 'admin' AND active"
            )
            .bind(org_id)
            .fetch_one(c)
            .await
            })?;
            if admins <= 1 {
                return Err(StoreError::Invalid(format!(
                    "{} is the last active administrator: make someone else an administrator first",
                    before.email
                )));
            }
        }
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE memberships SET role = $1, active = $2 WHERE org_id = $3 AND user_id = $4"
        )
        .bind(role.as_str())
        .bind(active)
        .bind(org_id)
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        if !active {
            on_tx!(&mut tx, |c| sqlx::query(
                "DELETE FROM sessions WHERE org_id = $1 AND user_id = $2"
            )
            .bind(org_id)
            .bind(user_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
            on_tx!(&mut tx, |c| {
                sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE org_id = $2 AND user_id = $3 AND revoked_at IS NULL"
            )
            .bind(now())
            .bind(org_id)
            .bind(user_id)
            .execute(c)
            .await.map(|r| r.rows_affected())
            })?;
        }
        let after = Member {
            role,
            active,
            ..before.clone()
        };
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "update",
                entity_type: "membership",
                entity_id: user_id.to_string(),
                before: Some(
                    json!({"email": before.email, "role": before.role, "active": before.active}),
                ),
                after: Some(
                    json!({"email": after.email, "role": after.role, "active": after.active}),
                ),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Replaces a user's password hash, ends their other sessions and revokes
    /// all their API tokens (in every organisation). The change is recorded in
    /// the organisation it was made from; each token's revocation in its own.
    pub async fn set_password(
        &self,
        org_id: i64,
        user_id: i64,
        password_hash: &str,
        keep_session_id: Option<i64>,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3"
        )
        .bind(password_hash)
        .bind(now())
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(StoreError::NotFound("no such user".into()));
        }
        on_tx!(&mut tx, |c| sqlx::query(
            "DELETE FROM sessions WHERE user_id = $1 AND id <> $2"
        )
        .bind(user_id)
        .bind(keep_session_id.unwrap_or(-1))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        // A token is a credential too: whoever learnt the old password may have made one.
        let at = now();
        let mut revoked: Vec<(i64, i64, String)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL \
             RETURNING id, org_id, name"
        )
        .bind(&at)
        .bind(user_id)
        .fetch_all(c)
        .await)?;
        revoked.sort_unstable();
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "change_password",
                entity_type: "user",
                entity_id: user_id.to_string(),
                before: None,
                after: Some(json!({
                    "password": "changed",
                    "api_tokens_revoked": revoked.iter().filter(|t| t.1 == org_id).count(),
                })),
            },
        )
        .await?;
        // Each revoked token in the log of the organisation it belongs to.
        for (token_id, token_org, name) in &revoked {
            audit::record(
                &mut tx,
                actor,
                Change {
                    org_id: *token_org,
                    action: "revoke",
                    entity_type: "api_token",
                    entity_id: token_id.to_string(),
                    before: Some(json!({"name": name, "revoked_at": null})),
                    after: Some(
                        json!({"name": name, "revoked_at": at, "reason": "password changed"}),
                    ),
                },
            )
            .await?;
        }
        tx.commit().await
    }

    /// Changes the name shown for a user, recorded in the log of every
    /// organisation where the user holds a membership.
    pub async fn set_display_name(
        &self,
        org_id: i64,
        user_id: i64,
        name: &str,
        actor: &Actor,
    ) -> Result<()> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(StoreError::Invalid(
                "the name must have 1 to 120 characters".into(),
            ));
        }
        let mut tx = self.begin().await?;
        let before: Option<(String,)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT display_name FROM users WHERE id = $1"
        )
        .bind(user_id)
        .fetch_optional(c)
        .await)?;
        let (before,) = before.ok_or_else(|| StoreError::NotFound("no such user".into()))?;
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE users SET display_name = $1 WHERE id = $2"
        )
        .bind(name)
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        // The name shows in every organisation the user belongs to: each one's
        // log records the change (none names the others).
        let mut orgs = membership_orgs(&mut tx, user_id).await?;
        if !orgs.contains(&org_id) {
            orgs.push(org_id);
        }
        for org in orgs {
            audit::record(
                &mut tx,
                actor,
                Change {
                    org_id: org,
                    action: "update",
                    entity_type: "user",
                    entity_id: user_id.to_string(),
                    before: Some(json!({"display_name": before})),
                    after: Some(json!({"display_name": name})),
                },
            )
            .await?;
        }
        tx.commit().await
    }
}

async fn member_in_tx(tx: &mut Tx, org_id: i64, user_id: i64) -> Result<Option<Member>> {
    let row = on_tx!(tx, |c| sqlx::query_as::<_, MemberRow>(
        "SELECT u.id AS user_id, u.email, u.display_name, m.role, m.active, m.created_at \
         FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND m.user_id = $2"
    )
    .bind(org_id)
    .bind(user_id)
    .fetch_optional(c)
    .await)?;
    row.map(Member::try_from).transpose()
}

/// The organisations where the user holds a membership, active or not, in id order.
pub(crate) async fn membership_orgs(tx: &mut Tx, user_id: i64) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT org_id FROM memberships WHERE user_id = $1 ORDER BY org_id"
    )
    .bind(user_id)
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The id of an active member of `org_id` with this e-mail, or an error
/// naming `field` (the one check every module makes of a person it is given).
pub(crate) async fn member_id(tx: &mut Tx, org_id: i64, field: &str, email: &str) -> Result<i64> {
    let email = email.trim().to_lowercase();
    let found: Option<(i64,)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id \
         WHERE m.org_id = $1 AND m.active AND u.email = $2"
    )
    .bind(org_id)
    .bind(&email)
    .fetch_optional(c)
    .await)?;
    found.map(|(id,)| id).ok_or_else(|| {
        StoreError::Invalid(format!(
            "{field}: {email} is not an active member of this organisation"
        ))
    })
}
