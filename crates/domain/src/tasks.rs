//! Tasks, the implementation roadmap and reminders: pure rules.
//!
//! The roadmap follows the order in which ISO/IEC 27003 walks through
//! implementing an ISMS. Each step is described in our own words and is
//! closed by the data (the readiness checklist), never ticked by hand,
//! except the certification audits, which happen outside the application.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// A phase of the implementation, in the order it is usually run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    ContextScope,
    LeadershipPolicy,
    RiskAssessmentTreatment,
    Soa,
    Support,
    Operation,
    PerformanceEvaluation,
    Improvement,
    Certification,
}

impl Phase {
    pub const ALL: [Phase; 9] = [
        Phase::ContextScope,
        Phase::LeadershipPolicy,
        Phase::RiskAssessmentTreatment,
        Phase::Soa,
        Phase::Support,
        Phase::Operation,
        Phase::PerformanceEvaluation,
        Phase::Improvement,
        Phase::Certification,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::ContextScope => "context_scope",
            Phase::LeadershipPolicy => "leadership_policy",
            Phase::RiskAssessmentTreatment => "risk",
            Phase::Soa => "soa",
            Phase::Support => "support",
            Phase::Operation => "operation",
            Phase::PerformanceEvaluation => "performance_evaluation",
            Phase::Improvement => "improvement",
            Phase::Certification => "certification",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Phase::ContextScope => "Context and scope",
            Phase::LeadershipPolicy => "Leadership and policy",
            Phase::RiskAssessmentTreatment => "Risk assessment and treatment",
            Phase::Soa => "Statement of Applicability",
            Phase::Support => "Support",
            Phase::Operation => "Operation",
            Phase::PerformanceEvaluation => "Performance evaluation",
            Phase::Improvement => "Improvement",
            Phase::Certification => "Certification",
        }
    }
}

/// One step of the roadmap.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// Stable key (stored with the plan, used in URLs).
    pub key: &'static str,
    pub phase: Phase,
    pub title: &'static str,
    /// What to do.
    pub what: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// Where it is done in the web application.
    pub link: &'static str,
    /// The readiness items that show it done (all ready: done). Empty for a
    /// step closed by hand.
    pub evidence: &'static [&'static str],
}

impl Step {
    /// Closed by hand (no data can show it done).
    pub fn manual(&self) -> bool {
        self.evidence.is_empty()
    }
}

const fn step(
    key: &'static str,
    phase: Phase,
    title: &'static str,
    what: &'static str,
    why: &'static str,
    link: &'static str,
    evidence: &'static [&'static str],
) -> Step {
    Step {
        key,
        phase,
        title,
        what,
        why,
        link,
        evidence,
    }
}

/// The roadmap, in order.
pub const STEPS: &[Step] = &[
    step(
        "scope",
        Phase::ContextScope,
        "Define the scope of the ISMS",
        "Write down which parts of the organisation the ISMS covers: the business units, the sites and the processes, and what is left out.",
        "Everything that follows (risks, controls, audits) is measured against the scope; an auditor starts by reading it.",
        "/context",
        &["scope"],
    ),
    step(
        "context",
        Phase::ContextScope,
        "Record issues and interested parties",
        "List the internal and external issues that shape information security, and who expects what from you (customers, regulators, staff).",
        "These are the inputs to the scope and to the risk assessment: requirements you do not know about cannot be met.",
        "/context",
        &["context"],
    ),
    step(
        "policy",
        Phase::LeadershipPolicy,
        "Approve an information security policy",
        "Have top management approve a short policy that states the commitment to information security and to improving it.",
        "The policy shows that leadership backs the ISMS and gives every later document its frame.",
        "/readiness",
        &["policy"],
    ),
    step(
        "objectives",
        Phase::LeadershipPolicy,
        "Set information security objectives",
        "Agree a few measurable objectives, each with an owner, a target and a date.",
        "Objectives turn the policy into results that can be checked at the management review.",
        "/context",
        &["objectives"],
    ),
    step(
        "risk_method",
        Phase::RiskAssessmentTreatment,
        "Agree how risks are assessed",
        "Set the likelihood and impact scales, the matrix and the level of risk the organisation accepts.",
        "A shared method makes assessments repeatable and comparable from one year to the next.",
        "/risks",
        &["risk_assessment_process"],
    ),
    step(
        "risk_assessment",
        Phase::RiskAssessmentTreatment,
        "Assess the risks",
        "Identify the assets in scope, what could go wrong with them, and score each risk with its owner.",
        "The controls you choose must answer real risks; the assessment is the evidence that they do.",
        "/risks",
        &["risk_assessment_results"],
    ),
    step(
        "risk_treatment",
        Phase::RiskAssessmentTreatment,
        "Decide how each risk is treated",
        "For each risk choose to reduce, keep, avoid or share it, plan the actions and have the owners accept what remains.",
        "The treatment plan is the work programme of the ISMS and the reason for each control.",
        "/risks",
        &["risk_treatment"],
    ),
    step(
        "soa",
        Phase::Soa,
        "Approve the Statement of Applicability",
        "Go through the Annex A controls, say which apply and why, and approve the statement.",
        "The SoA links the risk treatment to the controls and is the document certification auditors ask for first.",
        "/soa",
        &["soa"],
    ),
    step(
        "competence",
        Phase::Support,
        "Make sure people are competent and aware",
        "Record the skills the key roles need, train people and keep evidence of it.",
        "Controls only work when the people running them know how and why.",
        "/readiness",
        &["competence"],
    ),
    step(
        "operation",
        Phase::Operation,
        "Run the controls as planned",
        "Put the planned controls and treatment actions into operation and keep records that they run.",
        "Certification looks for evidence that the ISMS operates, not only that it is written down.",
        "/readiness",
        &["operational_planning"],
    ),
    step(
        "monitoring",
        Phase::PerformanceEvaluation,
        "Measure and monitor",
        "Decide what is measured, how often and by whom, and record the results.",
        "Measurements tell management whether the objectives are met.",
        "/readiness",
        &["monitoring"],
    ),
    step(
        "internal_audit",
        Phase::PerformanceEvaluation,
        "Run an internal audit",
        "Plan an audit programme and audit the ISMS against the standard and your own rules.",
        "An internal audit finds the gaps before the certification body does.",
        "/readiness",
        &["internal_audit"],
    ),
    step(
        "management_review",
        Phase::PerformanceEvaluation,
        "Hold a management review",
        "Have top management review the results, the audit findings and the risks, and decide on changes.",
        "The review closes the loop between leadership and the ISMS, and is required before certification.",
        "/readiness",
        &["management_review"],
    ),
    step(
        "improvement",
        Phase::Improvement,
        "Correct nonconformities",
        "Record each nonconformity, find its cause, and track the corrective action until it is done.",
        "Showing that problems are fixed at their cause is what continual improvement means in practice.",
        "/readiness",
        &["nonconformities"],
    ),
    step(
        "stage1",
        Phase::Certification,
        "Certification audit, stage 1",
        "Invite the certification body to review your documentation and readiness; mark this step done when the stage 1 report is in.",
        "Stage 1 tells you whether you are ready for the main audit and what to fix first.",
        "/roadmap",
        &[],
    ),
    step(
        "stage2",
        Phase::Certification,
        "Certification audit, stage 2",
        "The certification body audits how the ISMS works in practice; mark this step done when the certificate is granted.",
        "Stage 2 decides certification; its findings feed the next round of improvement.",
        "/roadmap",
        &[],
    ),
];

/// The step with this key.
pub fn step_by_key(key: &str) -> Option<&'static Step> {
    STEPS.iter().find(|s| s.key == key)
}

/// The state of one readiness item, as the roadmap reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    Ready,
    Incomplete,
    Missing,
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Done,
    InProgress,
    Todo,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Done => "done",
            StepStatus::InProgress => "in_progress",
            StepStatus::Todo => "todo",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            StepStatus::Done => "Done",
            StepStatus::InProgress => "In progress",
            StepStatus::Todo => "To do",
        }
    }
}

/// A step's status from the readiness items (`evidence` answers the state
/// of an item by key; an unknown item counts as missing) and, for a manual
/// step, whether it was closed by hand.
pub fn step_status(
    step: &Step,
    evidence: impl Fn(&str) -> Option<Evidence>,
    closed_by_hand: bool,
) -> StepStatus {
    if step.manual() {
        return if closed_by_hand {
            StepStatus::Done
        } else {
            StepStatus::Todo
        };
    }
    let states: Vec<Evidence> = step
        .evidence
        .iter()
        .map(|k| evidence(k).unwrap_or(Evidence::Missing))
        .collect();
    if states.iter().all(|s| *s == Evidence::Ready) {
        StepStatus::Done
    } else if states.iter().any(|s| *s != Evidence::Missing) {
        StepStatus::InProgress
    } else {
        StepStatus::Todo
    }
}

/// The state of a hand-made task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    Done,
    Cancelled,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Done => "done",
            TaskStatus::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "open" => Ok(TaskStatus::Open),
            "done" => Ok(TaskStatus::Done),
            "cancelled" => Ok(TaskStatus::Cancelled),
            other => Err(format!(
                "'{other}' is not a task status: use open, done or cancelled"
            )),
        }
    }
}

/// A task's title: 1 to 300 characters once trimmed.
pub fn check_title(title: &str) -> Result<String, String> {
    let t = title.trim();
    if t.is_empty() {
        return Err("title: required".into());
    }
    if t.chars().count() > 300 {
        return Err("title: at most 300 characters".into());
    }
    Ok(t.to_owned())
}

/// A date as `YYYY-MM-DD` (a real calendar day), or "" for none.
pub fn check_date(field: &str, d: &str) -> Result<String, String> {
    let d = d.trim();
    if d.is_empty() || is_date(d) {
        Ok(d.to_owned())
    } else {
        Err(format!("{field}: '{d}' is not a date: use YYYY-MM-DD"))
    }
}

fn is_date(d: &str) -> bool {
    let b = d.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = d.get(r)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let (Some(y), Some(m), Some(day)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    y >= 1 && (1..=days).contains(&day)
}

/// E-mail categories a member may opt out of, with their labels: the
/// kinds of due items the modules produce. Kinds not listed here can be
/// opted out of too (the category is the kind).
pub const CATEGORIES: &[(&str, &str)] = &[
    ("task", "Tasks assigned by hand"),
    ("roadmap_step", "Roadmap steps"),
    ("risk_action", "Risk treatment actions"),
    ("risk_review", "Risk reviews"),
    ("document_review", "Document reviews"),
    (
        "document_acknowledgement",
        "Documents to read and acknowledge",
    ),
    ("control_review", "Control reviews"),
    ("evidence_expiry", "Evidence expiring"),
    ("training", "Training due"),
    ("corrective_action", "Corrective actions"),
    ("audit", "Audits"),
];

/// One line of a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestLine {
    pub title: String,
    pub due_date: String,
    /// Absolute URL of the item.
    pub url: String,
}

/// The subject and plain-text body of a member's daily digest: the overdue
/// items first, then those due within the week.
pub fn digest_text(
    org_name: &str,
    today: &str,
    overdue: &[DigestLine],
    upcoming: &[DigestLine],
) -> (String, String) {
    use fmt::Write as _;
    let subject = match overdue.len() {
        0 => format!("[{org_name}] {} item(s) due soon", upcoming.len()),
        n => format!("[{org_name}] {n} overdue item(s)"),
    };
    let mut body = format!("Your reminders in {org_name} on {today}.\n");
    let section = |body: &mut String, heading: &str, lines: &[DigestLine]| {
        if lines.is_empty() {
            return;
        }
        let _ = write!(body, "\n{heading}\n");
        for l in lines {
            let _ = write!(body, "- {} (due {})\n  {}\n", l.title, l.due_date, l.url);
        }
    };
    section(&mut body, "Overdue:", overdue);
    section(&mut body, "Due within a week:", upcoming);
    body.push_str(
        "\nYou receive this once a day while something is overdue. Choose which reminders you get by e-mail on your profile page.\n",
    );
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_roadmap_starts_with_the_scope_and_follows_the_phases() {
        assert_eq!(STEPS[0].key, "scope");
        let order: Vec<usize> = STEPS
            .iter()
            .map(|s| Phase::ALL.iter().position(|p| *p == s.phase).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
        assert_eq!(STEPS.last().unwrap().key, "stage2");
        let mut keys: Vec<_> = STEPS.iter().map(|s| s.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), STEPS.len(), "keys are unique");
    }

    #[test]
    fn a_step_is_done_when_all_its_evidence_is_ready() {
        let scope = step_by_key("scope").unwrap();
        assert_eq!(
            step_status(scope, |_| Some(Evidence::Ready), false),
            StepStatus::Done
        );
        assert_eq!(
            step_status(scope, |_| Some(Evidence::Incomplete), false),
            StepStatus::InProgress
        );
        assert_eq!(step_status(scope, |_| None, true), StepStatus::Todo);
        let stage1 = step_by_key("stage1").unwrap();
        assert_eq!(
            step_status(stage1, |_| Some(Evidence::Ready), false),
            StepStatus::Todo
        );
        assert_eq!(step_status(stage1, |_| None, true), StepStatus::Done);
    }

    #[test]
    fn dates_and_titles_are_checked() {
        assert!(check_date("due_date", "2026-02-29").is_err());
        assert!(check_date("due_date", "2028-02-29").is_ok());
        assert!(check_date("due_date", "2026-13-01").is_err());
        assert!(check_date("due_date", "tomorrow").is_err());
        assert_eq!(check_date("due_date", " ").unwrap(), "");
        assert!(check_title("  ").is_err());
        assert_eq!(check_title(" Fix it ").unwrap(), "Fix it");
        assert!("later".parse::<TaskStatus>().is_err());
    }

    #[test]
    fn a_digest_names_each_item_with_its_link() {
        let line = DigestLine {
            title: "Renew the pentest".into(),
            due_date: "2026-01-02".into(),
            url: "https://isms.example/tasks/3".into(),
        };
        let (subject, body) = digest_text("Acme", "2026-01-05", &[line], &[]);
        assert_eq!(subject, "[Acme] 1 overdue item(s)");
        assert!(body.contains("- Renew the pentest (due 2026-01-02)"));
        assert!(body.contains("https://isms.example/tasks/3"));
    }
}
