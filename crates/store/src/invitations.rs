//! Invitations to join an organisation: created by an administrator for an
//! e-mail address and a role, accepted by the account behind the address (or
//! by a new account made on the invitation page). The same answer whether or
//! not an account exists for the address, and no membership without consent.

use isms_domain::Role;
use isms_domain::invitation::{INVITATION_DAYS, InvitationState};
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::orgs::Org;
use crate::users::User;
use crate::{
    Result, Store, StoreError, Tx, hash_token, is_unique_violation, now, on_pool, on_tx,
    random_token, time_from_now,
};

/// An invitation as listed (never its secret).
#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: i64,
    pub org_id: i64,
    pub email: String,
    pub role: Role,
    pub created_at: String,
    pub created_by: String,
    pub expires_at: String,
    pub accepted_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl Invitation {
    pub fn state(&self) -> InvitationState {
        InvitationState::at(
            &self.expires_at,
            self.accepted_at.as_deref(),
            self.revoked_at.as_deref(),
            &now(),
        )
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    org_id: i64,
    email: String,
    role: String,
    created_at: String,
    created_by: String,
    expires_at: String,
    accepted_at: Option<String>,
    revoked_at: Option<String>,
}

impl TryFrom<Row> for Invitation {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Invitation> {
        Ok(Invitation {
            id: r.id,
            org_id: r.org_id,
            email: r.email,
            role: r
                .role
                .parse()
                .map_err(|e: isms_domain::role::UnknownRole| StoreError::Invalid(e.to_string()))?,
            created_at: r.created_at,
            created_by: r.created_by,
            expires_at: r.expires_at,
            accepted_at: r.accepted_at,
            revoked_at: r.revoked_at,
        })
    }
}

const COLS: &str =
    "id, org_id, email, role, created_at, created_by, expires_at, accepted_at, revoked_at";

/// An invitation opened by its link, with the organisation it is for.
#[derive(Debug, Clone)]
pub struct OpenedInvitation {
    pub invitation: Invitation,
    pub org: Org,
}

const NOT_VALID: &str = "This invitation link is not valid: check that it was copied whole, or ask the administrator for a new one.";

fn refused(state: InvitationState) -> Result<()> {
    match state.refusal() {
        None => Ok(()),
        Some(m) => Err(StoreError::Invalid(m.into())),
    }
}

async fn by_token_in_tx(tx: &mut Tx, token: &str) -> Result<Invitation> {
    let row: Option<Row> = on_tx!(tx, |c| sqlx::query_as(&format!(
        "SELECT {COLS} FROM invitations WHERE token_hash = $1"
    ))
    .bind(hash_token(token))
    .fetch_optional(c)
    .await)?;
    row.map(Invitation::try_from)
        .transpose()?
        .ok_or_else(|| StoreError::NotFound(NOT_VALID.into()))
}

/// Makes the account a member and marks the invitation used, inside `tx`.
async fn join_in_tx(tx: &mut Tx, inv: &Invitation, user: &User, actor: &Actor) -> Result<()> {
    let at = now();
    let inserted = on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO memberships (user_id, org_id, role, active, created_at) VALUES ($1, $2, $3, TRUE, $4)"
    )
    .bind(user.id)
    .bind(inv.org_id)
    .bind(inv.role.as_str())
    .bind(&at)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    });
    match inserted {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(StoreError::Conflict(
                "You are already a member of this organisation: switch to it in the header.".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let used = on_tx!(tx, |c| sqlx::query(
        "UPDATE invitations SET accepted_at = $1, accepted_user_id = $2 \
         WHERE id = $3 AND accepted_at IS NULL AND revoked_at IS NULL"
    )
    .bind(&at)
    .bind(user.id)
    .bind(inv.id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if used != 1 {
        // Revoked or accepted by a concurrent request since it was read.
        return Err(StoreError::Invalid(
            InvitationState::Accepted
                .refusal()
                .unwrap_or_default()
                .into(),
        ));
    }
    audit::record(
        tx,
        actor,
        Change {
            org_id: inv.org_id,
            action: "accept",
            entity_type: "invitation",
            entity_id: inv.id.to_string(),
            before: Some(json!({"email": inv.email, "role": inv.role, "state": "pending"})),
            after: Some(json!({"email": inv.email, "role": inv.role, "state": "accepted", "user_id": user.id})),
        },
    )
    .await?;
    audit::record(
        tx,
        actor,
        Change {
            org_id: inv.org_id,
            action: "create",
            entity_type: "membership",
            entity_id: user.id.to_string(),
            before: None,
            after: Some(json!({"email": user.email, "role": inv.role, "active": true, "invitation": inv.id})),
        },
    )
    .await
}

impl Store {
    /// Creates an invitation for `email` to join with `role`, valid for
    /// [`INVITATION_DAYS`]; returns it and the link's secret (shown once).
    /// Whether an account exists for the address changes nothing here.
    pub async fn create_invitation(
        &self,
        org_id: i64,
        email: &str,
        role: Role,
        actor: &Actor,
    ) -> Result<(Invitation, String)> {
        let email = isms_domain::password::normalise_email(email).map_err(StoreError::Invalid)?;
        let mut tx = self.begin().await?;
        // Queue concurrent invitations of one organisation behind its row
        // lock (PostgreSQL; SQLite's write lock already does), so two
        // requests cannot both find no pending invitation and both insert.
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE organisations SET audit_seq = audit_seq WHERE id = $1"
        )
        .bind(org_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        let member: Option<(i64,)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.org_id = $1 AND u.email = $2"
        )
        .bind(org_id)
        .bind(&email)
        .fetch_optional(c)
        .await)?;
        if member.is_some() {
            return Err(StoreError::Conflict(format!(
                "{email} is already a member of this organisation: change their role instead"
            )));
        }
        let at = now();
        let pending: Option<(i64,)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT id FROM invitations WHERE org_id = $1 AND email = $2 \
             AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3"
        )
        .bind(org_id)
        .bind(&email)
        .bind(&at)
        .fetch_optional(c)
        .await)?;
        if pending.is_some() {
            return Err(StoreError::Conflict(format!(
                "{email} already has a pending invitation: revoke it below to make a new one"
            )));
        }
        let token = random_token(32);
        let expires_at = time_from_now(time::Duration::days(INVITATION_DAYS));
        let row: Row = on_tx!(&mut tx, |c| {
            sqlx::query_as(&format!(
            "INSERT INTO invitations (org_id, email, role, token_hash, created_at, created_by, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLS}"
        ))
        .bind(org_id)
        .bind(&email)
        .bind(role.as_str())
        .bind(hash_token(&token))
        .bind(&at)
        .bind(&actor.label)
        .bind(&expires_at)
        .fetch_one(c)
        .await
        })?;
        let inv = Invitation::try_from(row)?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "invitation",
                entity_id: inv.id.to_string(),
                before: None,
                after: Some(
                    json!({"email": inv.email, "role": inv.role, "expires_at": inv.expires_at}),
                ),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((inv, token))
    }

    /// The organisation's invitations, newest first (at most 200).
    pub async fn invitations(&self, org_id: i64) -> Result<Vec<Invitation>> {
        let rows = on_pool!(self, |p| sqlx::query_as::<_, Row>(&format!(
            "SELECT {COLS} FROM invitations WHERE org_id = $1 ORDER BY id DESC LIMIT 200"
        ))
        .bind(org_id)
        .fetch_all(p)
        .await)?;
        rows.into_iter().map(Invitation::try_from).collect()
    }

    /// Revokes a pending invitation of the organisation. Another
    /// organisation's invitation is not found.
    pub async fn revoke_invitation(
        &self,
        org_id: i64,
        id: i64,
        actor: &Actor,
    ) -> Result<Invitation> {
        let mut tx = self.begin().await?;
        let row: Option<Row> = on_tx!(&mut tx, |c| sqlx::query_as(&format!(
            "SELECT {COLS} FROM invitations WHERE id = $1 AND org_id = $2"
        ))
        .bind(id)
        .bind(org_id)
        .fetch_optional(c)
        .await)?;
        let before = row.map(Invitation::try_from).transpose()?.ok_or_else(|| {
            StoreError::NotFound("no such invitation in this organisation".into())
        })?;
        match before.state() {
            InvitationState::Pending | InvitationState::Expired => {}
            s => {
                return Err(StoreError::Invalid(format!(
                    "the invitation for {} is {}: there is nothing to revoke",
                    before.email,
                    s.label().to_lowercase()
                )));
            }
        }
        let at = now();
        let n = on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE invitations SET revoked_at = $1 WHERE id = $2 AND org_id = $3 \
             AND accepted_at IS NULL AND revoked_at IS NULL"
        )
        .bind(&at)
        .bind(id)
        .bind(org_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        if n != 1 {
            return Err(StoreError::Invalid(format!(
                "the invitation for {} was used or revoked meanwhile",
                before.email
            )));
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "revoke",
                entity_type: "invitation",
                entity_id: id.to_string(),
                before: Some(json!({"email": before.email, "role": before.role, "expires_at": before.expires_at, "revoked_at": null})),
                after: Some(json!({"email": before.email, "role": before.role, "revoked_at": at})),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Invitation {
            revoked_at: Some(at),
            ..before
        })
    }

    /// The invitation behind a link, whatever its state (the caller says why
    /// it cannot be used), with its organisation.
    pub async fn open_invitation(&self, token: &str) -> Result<OpenedInvitation> {
        let row: Option<Row> = on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {COLS} FROM invitations WHERE token_hash = $1"
        ))
        .bind(hash_token(token))
        .fetch_optional(p)
        .await)?;
        let invitation = row
            .map(Invitation::try_from)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(NOT_VALID.into()))?;
        let org: Org = on_pool!(self, |p| sqlx::query_as(
            "SELECT id, slug, name, created_at FROM organisations WHERE id = $1"
        )
        .bind(invitation.org_id)
        .fetch_one(p)
        .await)?;
        Ok(OpenedInvitation { invitation, org })
    }

    /// Accepts an invitation as the logged-in account `user_id`, which must
    /// be the invited address's. Returns the organisation joined.
    pub async fn accept_invitation(&self, token: &str, user_id: i64, actor: &Actor) -> Result<i64> {
        let mut tx = self.begin().await?;
        let inv = by_token_in_tx(&mut tx, token).await?;
        refused(inv.state())?;
        let user: User = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT id, email, display_name, password_hash, created_at FROM users WHERE id = $1"
        )
        .bind(user_id)
        .fetch_one(c)
        .await)?;
        if user.email != inv.email {
            return Err(StoreError::Invalid(format!(
                "This invitation is for {}, and you are logged in as {}. Log out, then open the link again and log in as {}.",
                inv.email, user.email, inv.email
            )));
        }
        join_in_tx(&mut tx, &inv, &user, actor).await?;
        tx.commit().await?;
        Ok(inv.org_id)
    }

    /// Accepts an invitation by creating the account of the invited address
    /// with `display_name` and `password_hash`. Refused when an account with
    /// the address exists (it logs in to accept instead).
    pub async fn accept_invitation_new_account(
        &self,
        token: &str,
        display_name: &str,
        password_hash: &str,
    ) -> Result<User> {
        let mut tx = self.begin().await?;
        let inv = by_token_in_tx(&mut tx, token).await?;
        refused(inv.state())?;
        let display_name = match display_name.trim() {
            "" => inv.email.split('@').next().unwrap_or(&inv.email).to_owned(),
            n if n.chars().count() > 120 => {
                return Err(StoreError::Invalid(
                    "the name must have 1 to 120 characters".into(),
                ));
            }
            n => n.to_owned(),
        };
        let at = now();
        let created: std::result::Result<User, sqlx::Error> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO users (email, display_name, password_hash, created_at, password_changed_at) \
             VALUES ($1, $2, $3, $4, $4) RETURNING id, email, display_name, password_hash, created_at"
        )
        .bind(&inv.email)
        .bind(&display_name)
        .bind(password_hash)
        .bind(&at)
        .fetch_one(c)
        .await
        });
        let user = match created {
            Ok(u) => u,
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict(format!(
                    "An account for {} exists already: log in with it to accept the invitation.",
                    inv.email
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let actor = Actor::user(user.id, &user.email, crate::Via::Web);
        audit::record(
            &mut tx,
            &actor,
            Change {
                org_id: inv.org_id,
                action: "create",
                entity_type: "user",
                entity_id: user.id.to_string(),
                before: None,
                after: Some(json!({"email": user.email, "display_name": user.display_name, "invitation": inv.id})),
            },
        )
        .await?;
        join_in_tx(&mut tx, &inv, &user, &actor).await?;
        tx.commit().await?;
        Ok(user)
    }
}
