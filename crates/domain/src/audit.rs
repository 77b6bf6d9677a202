//! The audit log's tamper evidence: each entry carries the SHA-256 of the
//! previous entry of its organisation, so editing or deleting a past entry
//! breaks the chain from that point on.

use sha2::{Digest, Sha256};

/// The hash that stands before the first entry of every organisation.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of one audit entry that the hash covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFields<'a> {
    pub org_id: i64,
    pub seq: i64,
    pub at: &'a str,
    pub actor: &'a str,
    pub via: &'a str,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
}

/// SHA-256 (hex) of an entry chained to `prev_hash`.
///
/// Every field is length-prefixed so that no two different entries can
/// produce the same byte stream.
pub fn entry_hash(prev_hash: &str, f: &AuditFields<'_>) -> String {
    let mut h = Sha256::new();
    let mut put = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    put(prev_hash);
    put(&f.org_id.to_string());
    put(&f.seq.to_string());
    put(f.at);
    put(f.actor);
    put(f.via);
    put(f.action);
    put(f.entity_type);
    put(f.entity_id);
    put(f.before.unwrap_or("\u{0}none"));
    put(f.after.unwrap_or("\u{0}none"));
    hex::encode(h.finalize())
}

/// The entity type of security events in an organisation's log.
pub const SESSION_ENTITY: &str = "session";

/// A security event of an account, recorded under [`SESSION_ENTITY`] in the
/// log of each organisation it concerns, and only there: an entry never
/// names another organisation of the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEvent {
    /// A login, in the organisation it lands in.
    Login,
    /// A wrong password (or no active membership) for a known account, in
    /// each organisation the account belongs to.
    LoginFailed,
    /// The failure that reached the per-account limit: the account is
    /// refused until the window passes.
    Lockout,
    Logout,
    /// The session left this organisation for another one of the account.
    SwitchAway,
    /// The session came to this organisation from another one of the account.
    SwitchTo,
}

impl SessionEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionEvent::Login => "login",
            SessionEvent::LoginFailed => "login_failed",
            SessionEvent::Lockout => "lockout",
            SessionEvent::Logout => "logout",
            SessionEvent::SwitchAway => "switch_away",
            SessionEvent::SwitchTo => "switch_to",
        }
    }
}

/// Whether the failed login just counted (`failures`, this one included)
/// locks the account: only the failure that reaches `limit` does, so a
/// locked account's further attempts (refused unverified) add no entries.
pub fn failure_locks(failures: i64, limit: i64) -> bool {
    limit > 0 && failures == limit
}

/// One stored entry as read back for verification.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub id: i64,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub via: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// Why a chain does not verify, naming the first bad entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The entry's content does not match its hash (edited).
    Altered { id: i64, seq: i64 },
    /// The entry does not point at the hash of the entry before it.
    Unlinked { id: i64, seq: i64 },
    /// A sequence number is missing (an entry was deleted).
    Missing { expected_seq: i64, found_seq: i64 },
    /// The organisation counted more entries than are left (the newest were deleted).
    Truncated { expected_last: i64, found_last: i64 },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Altered { id, seq } => {
                write!(
                    f,
                    "entry #{seq} (id {id}) was altered: its hash does not match its content"
                )
            }
            ChainBreak::Unlinked { id, seq } => write!(
                f,
                "entry #{seq} (id {id}) does not link to the entry before it"
            ),
            ChainBreak::Missing {
                expected_seq,
                found_seq,
            } => write!(
                f,
                "entry #{expected_seq} is missing (the next one found is #{found_seq}): it was deleted"
            ),
            ChainBreak::Truncated {
                expected_last,
                found_last,
            } => write!(
                f,
                "the log ends at entry #{found_last} but the organisation recorded #{expected_last}: the newest entries were deleted"
            ),
        }
    }
}

/// Verifies one organisation's entries, given in sequence order, against the
/// number of entries the organisation recorded.
pub fn verify_chain(
    org_id: i64,
    entries: &[StoredEntry],
    recorded_count: i64,
) -> Result<(), ChainBreak> {
    let mut prev = GENESIS_HASH.to_owned();
    let mut expected_seq = 1;
    for e in entries {
        if e.seq != expected_seq {
            return Err(ChainBreak::Missing {
                expected_seq,
                found_seq: e.seq,
            });
        }
        if e.prev_hash != prev {
            return Err(ChainBreak::Unlinked {
                id: e.id,
                seq: e.seq,
            });
        }
        let fields = AuditFields {
            org_id,
            seq: e.seq,
            at: &e.at,
            actor: &e.actor,
            via: &e.via,
            action: &e.action,
            entity_type: &e.entity_type,
            entity_id: &e.entity_id,
            before: e.before.as_deref(),
            after: e.after.as_deref(),
        };
        if entry_hash(&prev, &fields) != e.hash {
            return Err(ChainBreak::Altered {
                id: e.id,
                seq: e.seq,
            });
        }
        prev.clone_from(&e.hash);
        expected_seq += 1;
    }
    let found_last = expected_seq - 1;
    if found_last != recorded_count {
        return Err(ChainBreak::Truncated {
            expected_last: recorded_count,
            found_last,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<StoredEntry> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let mut e = StoredEntry {
                    id: seq * 10,
                    seq,
                    at: format!("2026-01-01T00:00:0{seq}Z"),
                    actor: "ann@example.com".into(),
                    via: "web".into(),
                    action: "update".into(),
                    entity_type: "user".into(),
                    entity_id: seq.to_string(),
                    before: Some("{\"a\":1}".into()),
                    after: None,
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                let f = AuditFields {
                    org_id: 7,
                    seq,
                    at: &e.at,
                    actor: &e.actor,
                    via: &e.via,
                    action: &e.action,
                    entity_type: &e.entity_type,
                    entity_id: &e.entity_id,
                    before: e.before.as_deref(),
                    after: e.after.as_deref(),
                };
                e.hash = entry_hash(&prev, &f);
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    #[test]
    fn only_the_failure_that_reaches_the_limit_locks() {
        assert!(!failure_locks(4, 5));
        assert!(failure_locks(5, 5));
        assert!(!failure_locks(6, 5), "already locked: not again");
        assert!(!failure_locks(0, 0));
        assert_eq!(SessionEvent::LoginFailed.as_str(), "login_failed");
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify_chain(7, &chain(5), 5), Ok(()));
        assert_eq!(verify_chain(7, &[], 0), Ok(()));
    }

    #[test]
    fn an_edited_entry_is_named() {
        let mut c = chain(5);
        c[2].after = Some("{\"forged\":true}".into());
        assert_eq!(
            verify_chain(7, &c, 5),
            Err(ChainBreak::Altered { id: 30, seq: 3 })
        );
    }

    #[test]
    fn the_hash_covers_the_organisation() {
        assert!(matches!(
            verify_chain(8, &chain(2), 2),
            Err(ChainBreak::Altered { seq: 1, .. })
        ));
    }

    #[test]
    fn deleted_entries_are_found_in_the_middle_and_at_the_end() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(
            verify_chain(7, &c, 5),
            Err(ChainBreak::Missing {
                expected_seq: 2,
                found_seq: 3
            })
        );
        let mut c = chain(5);
        c.pop();
        assert_eq!(
            verify_chain(7, &c, 5),
            Err(ChainBreak::Truncated {
                expected_last: 5,
                found_last: 4
            })
        );
    }

    #[test]
    fn a_rehashed_forgery_still_breaks_the_link_to_its_successor() {
        let mut c = chain(3);
        c[0].action = "delete".into();
        let f = AuditFields {
            org_id: 7,
            seq: 1,
            at: &c[0].at,
            actor: &c[0].actor,
            via: &c[0].via,
            action: &c[0].action,
            entity_type: &c[0].entity_type,
            entity_id: &c[0].entity_id,
            before: c[0].before.as_deref(),
            after: c[0].after.as_deref(),
        };
        c[0].hash = entry_hash(GENESIS_HASH, &f);
        assert_eq!(
            verify_chain(7, &c, 3),
            Err(ChainBreak::Unlinked { id: 20, seq: 2 })
        );
    }
}
