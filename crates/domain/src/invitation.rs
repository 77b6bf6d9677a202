//! Invitations: how an account joins an organisation. An administrator
//! creates one for an e-mail address and a role and passes the one-time link
//! on; the account behind the address (or a new one made on the invitation
//! page) accepts it. Until then it is not a member.

/// How long an invitation can be accepted.
pub const INVITATION_DAYS: i64 = 7;

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl InvitationState {
    /// The state of an invitation at `now` (all times fixed-width RFC 3339
    /// UTC text, which compares as it reads). Acceptance and revocation win
    /// over expiry: they say what happened.
    pub fn at(
        expires_at: &str,
        accepted_at: Option<&str>,
        revoked_at: Option<&str>,
        now: &str,
    ) -> InvitationState {
        if accepted_at.is_some() {
            InvitationState::Accepted
        } else if revoked_at.is_some() {
            InvitationState::Revoked
        } else if expires_at <= now {
            InvitationState::Expired
        } else {
            InvitationState::Pending
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            InvitationState::Pending => "Pending",
            InvitationState::Accepted => "Accepted",
            InvitationState::Revoked => "Revoked",
            InvitationState::Expired => "Expired",
        }
    }

    /// Why an invitation in this state cannot be accepted (or revoked), or
    /// `None` when it is pending.
    pub fn refusal(self) -> Option<&'static str> {
        match self {
            InvitationState::Pending => None,
            InvitationState::Accepted => Some(
                "This invitation was already used. Log in to reach the organisation, or ask its administrator for a new invitation.",
            ),
            InvitationState::Revoked => Some(
                "This invitation was revoked by an administrator. Ask them for a new one if you still need access.",
            ),
            InvitationState::Expired => {
                Some("This invitation expired. Ask the organisation's administrator for a new one.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-12-06T08:00:00.000000Z";

    #[test]
    fn states_follow_what_happened_then_the_clock() {
        let later = "2026-12-13T08:00:00.000000Z";
        let earlier = "2026-12-06T07:59:59.999999Z";
        assert_eq!(
            InvitationState::at(later, None, None, NOW),
            InvitationState::Pending
        );
        assert_eq!(
            InvitationState::at(earlier, None, None, NOW),
            InvitationState::Expired
        );
        assert_eq!(
            InvitationState::at(NOW, None, None, NOW),
            InvitationState::Expired,
            "expires at the instant given"
        );
        assert_eq!(
            InvitationState::at(earlier, Some(earlier), None, NOW),
            InvitationState::Accepted
        );
        assert_eq!(
            InvitationState::at(later, None, Some(earlier), NOW),
            InvitationState::Revoked
        );
        assert!(InvitationState::Pending.refusal().is_none());
        for s in [
            InvitationState::Accepted,
            InvitationState::Revoked,
            InvitationState::Expired,
        ] {
            assert!(s.refusal().is_some(), "{s:?}");
        }
    }
}
