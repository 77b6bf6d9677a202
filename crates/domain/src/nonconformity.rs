//! Nonconformities and corrective action (ISO/IEC 27001:2022 10.2): where a
//! nonconformity stands (open -> action planned -> verification -> closed,
//! or re-opened when a verification finds the action did not work), the
//! rule that closes it only after a corrective action was verified
//! effective, root-cause analysis, and the dates of actions. Pure functions.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::risk::{Invalid, UnknownName, named_enum};

named_enum!(
    /// How serious a nonconformity is.
    Severity, "severity", {
    Minor => "minor" / "Minor",
    Major => "major" / "Major",
});

named_enum!(
    /// Where a nonconformity came from.
    Source, "source", {
    Audit => "audit" / "Internal audit",
    Incident => "incident" / "Incident",
    Review => "review" / "Management review",
    ControlReview => "control_review" / "Control review (not effective)",
    Manual => "manual" / "Raised by hand",
});

impl Source {
    /// Whether raising by hand with this source needs a link to a record:
    /// the management review or the control review it came from.
    pub fn needs_record(self) -> bool {
        matches!(self, Source::Review | Source::ControlReview)
    }
}

/// The reference of a nonconformity's source (an incident's number or
/// address, a note for one raised by hand): one line of up to 500
/// characters; an incident needs one.
pub fn check_source_ref(source: Source, reference: &str) -> Result<(), Invalid> {
    if reference.chars().count() > 500 || reference.contains(['\n', '\r']) {
        return Err(Invalid::new(
            "source_ref",
            "one line of at most 500 characters",
        ));
    }
    if source == Source::Incident && reference.is_empty() {
        return Err(Invalid::new(
            "source_ref",
            "name the incident (its number or the address of its record)",
        ));
    }
    Ok(())
}

named_enum!(
    /// Where a nonconformity stands.
    NcStatus, "nonconformity status", {
    Open => "open" / "Open",
    ActionPlanned => "action_planned" / "Action planned",
    Verification => "verification" / "Verified, ready to close",
    Closed => "closed" / "Closed",
    Reopened => "reopened" / "Re-opened",
});

named_enum!(
    /// Where a corrective action stands.
    ActionState, "action status", {
    Open => "open" / "Open",
    Done => "done" / "Done",
});

named_enum!(
    /// How the root cause was analysed.
    RootCauseMethod, "root cause method", {
    FiveWhys => "five_whys" / "Five whys",
    FreeText => "free_text" / "Free text",
});

impl NcStatus {
    /// Not closed: counts as open in the register and on the dashboard.
    pub fn is_open(self) -> bool {
        self != NcStatus::Closed
    }

    /// The status after a corrective action is added.
    pub fn on_action(self) -> Result<NcStatus, Invalid> {
        match self {
            NcStatus::Closed => Err(closed("add an action")),
            // A new action after a positive verification must be verified again.
            _ => Ok(NcStatus::ActionPlanned),
        }
    }

    /// The status after a verification of effectiveness.
    pub fn on_verification(self, actions: usize, effective: bool) -> Result<NcStatus, Invalid> {
        if self == NcStatus::Closed {
            return Err(closed("verify it"));
        }
        if actions == 0 {
            return Err(Invalid::new(
                "verification",
                "there is no corrective action to verify: add one first",
            ));
        }
        Ok(if effective {
            NcStatus::Verification
        } else {
            NcStatus::Reopened
        })
    }

    /// The close rule: a corrective action verified effective, and nothing
    /// added since.
    pub fn close(self) -> Result<NcStatus, Invalid> {
        match self {
            NcStatus::Verification => Ok(NcStatus::Closed),
            NcStatus::Closed => Err(closed("close it again")),
            NcStatus::Reopened => Err(Invalid::new(
                "close",
                "the last verification found the corrective action not effective: plan a new action and verify it first",
            )),
            NcStatus::Open | NcStatus::ActionPlanned => Err(Invalid::new(
                "close",
                "no corrective action has been verified effective yet: add a corrective action, then record a verification of its effectiveness",
            )),
        }
    }
}

fn closed(what: &str) -> Invalid {
    Invalid::new(
        "status",
        format!("the nonconformity is closed: cannot {what}"),
    )
}

/// An action may not be due before the nonconformity was raised.
pub fn check_action_due(raised_on: &str, due: &str) -> Result<(), Invalid> {
    if !due.is_empty() && due < raised_on.get(..10).unwrap_or(raised_on) {
        return Err(Invalid::new(
            "due_date",
            format!(
                "{due} is before the nonconformity was raised ({}): an action cannot be due before it was raised",
                raised_on.get(..10).unwrap_or(raised_on)
            ),
        ));
    }
    Ok(())
}

/// A root-cause analysis: five whys (each answer the cause of the one
/// before) or free text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootCause {
    pub method: Option<RootCauseMethod>,
    #[serde(default)]
    pub whys: Vec<String>,
    #[serde(default)]
    pub text: String,
}

impl RootCause {
    /// Trims and checks: at most five whys; free text only as text.
    pub fn normalised(mut self) -> Result<RootCause, Invalid> {
        self.whys = self
            .whys
            .into_iter()
            .map(|w| w.trim().to_owned())
            .filter(|w| !w.is_empty())
            .collect();
        self.text = self.text.trim().to_owned();
        if self.whys.len() > 5 {
            return Err(Invalid::new(
                "root_cause",
                format!("{} whys: five are enough", self.whys.len()),
            ));
        }
        if self.method.is_none() {
            self.method = if !self.whys.is_empty() {
                Some(RootCauseMethod::FiveWhys)
            } else if !self.text.is_empty() {
                Some(RootCauseMethod::FreeText)
            } else {
                None
            };
        }
        Ok(self)
    }

    /// The analysis in one line: the last why is the root cause.
    pub fn summary(&self) -> String {
        match self.method {
            Some(RootCauseMethod::FiveWhys) => self.whys.last().cloned().unwrap_or_default(),
            _ => self.text.clone(),
        }
    }
}

impl fmt::Display for RootCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

/// What the readiness checklist needs to know about the register.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterFacts {
    pub raised: i64,
    pub open: i64,
    pub closed: i64,
    pub overdue_actions: i64,
    /// Open nonconformities without any corrective action.
    pub without_action: i64,
    /// Audits held (so an empty register still shows the loop runs).
    pub audits: i64,
}

/// Clause 10.2: nonconformities reacted to, actions on time, loop closed.
pub fn register_readiness(f: &RegisterFacts) -> (crate::risk::Readiness, String) {
    use crate::risk::Readiness as R;
    if f.raised == 0 {
        return if f.audits == 0 {
            (
                R::Missing,
                "no nonconformity register yet: audit the ISMS or raise nonconformities by hand"
                    .into(),
            )
        } else {
            (
                R::Ready,
                format!("no nonconformity raised in {} audit(s)", f.audits),
            )
        };
    }
    let mut gaps = Vec::new();
    if f.overdue_actions > 0 {
        gaps.push(format!(
            "{} corrective action(s) overdue",
            f.overdue_actions
        ));
    }
    if f.without_action > 0 {
        gaps.push(format!(
            "{} open without a corrective action",
            f.without_action
        ));
    }
    let head = format!(
        "{} raised, {} open, {} closed after verification",
        f.raised, f.open, f.closed
    );
    if gaps.is_empty() {
        (R::Ready, head)
    } else {
        (R::Incomplete, format!("{head}: {}", gaps.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_incident_needs_a_reference_of_one_line() {
        assert!(check_source_ref(Source::Incident, "").is_err());
        assert!(check_source_ref(Source::Incident, "INC-42").is_ok());
        assert!(check_source_ref(Source::Manual, "").is_ok());
        assert!(check_source_ref(Source::Manual, "a\nb").is_err());
        assert!(Source::ControlReview.needs_record() && !Source::Manual.needs_record());
    }

    #[test]
    fn the_loop_runs_open_action_verified_closed() {
        let s = NcStatus::Open;
        let s = s.on_action().unwrap();
        assert_eq!(s, NcStatus::ActionPlanned);
        let s = s.on_verification(1, true).unwrap();
        assert_eq!(s, NcStatus::Verification);
        assert_eq!(s.close(), Ok(NcStatus::Closed));
    }

    #[test]
    fn closing_needs_a_verified_action_and_not_effective_reopens() {
        let e = NcStatus::Open.close().unwrap_err();
        assert!(e.why.contains("verified effective"), "{e}");
        assert!(NcStatus::ActionPlanned.close().is_err());
        assert!(NcStatus::Open.on_verification(0, true).is_err());
        let s = NcStatus::ActionPlanned.on_verification(1, false).unwrap();
        assert_eq!(s, NcStatus::Reopened);
        assert!(s.close().is_err());
        assert_eq!(s.on_action(), Ok(NcStatus::ActionPlanned));
        assert!(NcStatus::Closed.on_action().is_err());
        assert!(NcStatus::Closed.close().is_err());
        // A new action after a positive verification needs verifying again.
        assert_eq!(
            NcStatus::Verification.on_action(),
            Ok(NcStatus::ActionPlanned)
        );
    }

    #[test]
    fn an_action_cannot_be_due_before_it_was_raised() {
        let e = check_action_due("2026-03-10T09:00:00Z", "2026-03-09").unwrap_err();
        assert_eq!(e.field, "due_date");
        assert!(check_action_due("2026-03-10T09:00:00Z", "2026-03-10").is_ok());
        assert!(check_action_due("2026-03-10", "").is_ok());
    }

    #[test]
    fn root_causes_are_five_whys_or_text() {
        let r = RootCause {
            method: None,
            whys: vec![" no review ".into(), String::new(), "no owner".into()],
            text: String::new(),
        }
        .normalised()
        .unwrap();
        assert_eq!(r.method, Some(RootCauseMethod::FiveWhys));
        assert_eq!(r.summary(), "no owner");
        let many = RootCause {
            whys: vec!["a".into(); 6],
            ..RootCause::default()
        };
        assert!(many.normalised().is_err());
    }

    #[test]
    fn readiness_wants_actions_on_time() {
        use crate::risk::Readiness as R;
        assert_eq!(register_readiness(&RegisterFacts::default()).0, R::Missing);
        let f = RegisterFacts {
            raised: 2,
            open: 1,
            closed: 1,
            overdue_actions: 1,
            ..RegisterFacts::default()
        };
        assert_eq!(register_readiness(&f).0, R::Incomplete);
        let f = RegisterFacts {
            overdue_actions: 0,
            ..f
        };
        assert_eq!(register_readiness(&f).0, R::Ready);
    }
}
