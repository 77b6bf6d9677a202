//! Roles a member holds in one organisation, and what each may do.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A member's role in one organisation (ISO/IEC 27001:2022 clause 5.3 asks that
/// responsibilities and authorities are assigned; these are the product's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    IsmsManager,
    RiskOwner,
    ControlOwner,
    Auditor,
    Employee,
}

/// Something a handler may need the caller to be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Add members, change their roles, deactivate them.
    ManageMembers,
    /// Read the organisation's audit log.
    ReadAuditLog,
    /// Change ISMS content (scope, SoA, risks, ...).
    EditIsms,
    /// Approve documents and SoA versions.
    Approve,
    /// Import frameworks and mappings (shared by the installation).
    ImportFrameworks,
    /// Read ISMS content beyond one's own assignments.
    ReadIsms,
    /// Record internal audit findings (auditors, besides those who run the ISMS).
    RecordFindings,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::IsmsManager,
        Role::RiskOwner,
        Role::ControlOwner,
        Role::Auditor,
        Role::Employee,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::IsmsManager => "isms_manager",
            Role::RiskOwner => "risk_owner",
            Role::ControlOwner => "control_owner",
            Role::Auditor => "auditor",
            Role::Employee => "employee",
        }
    }

    /// A human label for pages.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::IsmsManager => "ISMS manager",
            Role::RiskOwner => "Risk owner",
            Role::ControlOwner => "Control owner",
            Role::Auditor => "Auditor",
            Role::Employee => "Employee",
        }
    }

    /// Least privilege: each role gets only what its job needs.
    pub fn can(self, permission: Permission) -> bool {
        use Permission as P;
        match self {
            Role::Admin => true,
            Role::IsmsManager => !matches!(permission, P::ManageMembers),
            Role::RiskOwner | Role::ControlOwner => {
                matches!(permission, P::EditIsms | P::ReadIsms)
            }
            Role::Auditor => matches!(
                permission,
                P::ReadAuditLog | P::ReadIsms | P::RecordFindings
            ),
            Role::Employee => false,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "unknown role '{0}': use one of admin, isms_manager, risk_owner, control_owner, auditor, employee"
)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        let err = "root".parse::<Role>().unwrap_err();
        assert!(err.to_string().contains("unknown role 'root'"));
    }

    #[test]
    fn only_admins_manage_members() {
        for role in Role::ALL {
            assert_eq!(role.can(Permission::ManageMembers), role == Role::Admin);
        }
    }

    #[test]
    fn employees_have_no_privileges_and_auditors_only_read() {
        assert!(!Role::Employee.can(Permission::ReadIsms));
        assert!(Role::Auditor.can(Permission::ReadAuditLog));
        assert!(!Role::Auditor.can(Permission::EditIsms));
        assert!(!Role::RiskOwner.can(Permission::ReadAuditLog));
    }
}
