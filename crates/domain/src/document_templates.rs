//! Starting points for the documents an ISO/IEC 27001:2022 ISMS needs,
//! written for isms in our own words (nothing here is taken from the
//! standard or another product). Placeholders in double braces are filled
//! from the organisation's data when a document is created:
//!
//! - `{{organisation}}`: the organisation's name;
//! - `{{scope}}`: the scope statement and what it covers (clause 4.3);
//! - `{{roles}}`: the members holding each ISMS role;
//! - `{{risk_methodology}}`: the scales, levels and acceptance criteria of
//!   the risk module.
//!
//! A placeholder with no data behind it becomes a visible "to be completed"
//! note, so nothing is silently left blank.

use crate::document::{Classification, DocType};

/// One template.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    /// Stable id (what `POST /documents {"template": ID}` takes).
    pub id: &'static str,
    pub title: &'static str,
    pub doc_type: DocType,
    pub classification: Classification,
    /// Clauses and Annex A controls the document addresses.
    pub requirements: &'static [&'static str],
    /// One sentence: what the document is for.
    pub summary: &'static str,
    pub body: &'static str,
}

/// What the placeholders are filled from.
#[derive(Debug, Clone, Default)]
pub struct OrgFacts {
    pub organisation: String,
    /// Markdown, empty when no scope was written.
    pub scope: String,
    /// (role label, members' names or addresses), roles without members left out.
    pub roles: Vec<(String, Vec<String>)>,
    /// Markdown, empty when the risk module holds no methodology.
    pub risk_methodology: String,
}

fn todo(what: &str) -> String {
    format!("*To be completed: {what}.*")
}

/// The template's body with its placeholders filled.
pub fn fill(body: &str, f: &OrgFacts) -> String {
    let org = if f.organisation.trim().is_empty() {
        todo("the organisation's name")
    } else {
        f.organisation.trim().to_owned()
    };
    let scope = if f.scope.trim().is_empty() {
        todo("the scope of the ISMS (write it on the Context page, then update this document)")
    } else {
        f.scope.trim().to_owned()
    };
    let roles = if f.roles.is_empty() {
        todo("who holds each ISMS role")
    } else {
        f.roles
            .iter()
            .map(|(role, people)| format!("- **{role}**: {}", people.join(", ")))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let method = if f.risk_methodology.trim().is_empty() {
        todo("the risk scales, levels and acceptance criteria")
    } else {
        f.risk_methodology.trim().to_owned()
    };
    body.replace("{{organisation}}", &org)
        .replace("{{scope}}", &scope)
        .replace("{{roles}}", &roles)
        .replace("{{risk_methodology}}", &method)
}

/// The template with this id.
pub fn template(id: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.id == id.trim())
}

/// Every template, in the order an ISMS is usually written.
pub const TEMPLATES: &[Template] = &[
    Template {
        id: "information-security-policy",
        title: "Information security policy",
        doc_type: DocType::Policy,
        classification: Classification::Internal,
        requirements: &["5.1", "5.2", "A.5.1"],
        summary: "Top management's commitment, the objectives framework and the rules everyone follows.",
        body: r"# Information security policy

## Purpose
{{organisation}} depends on information that is accurate, available when needed and seen only by those entitled to it. This policy states how we protect it and what we expect of everyone who works with it.

## Scope
{{scope}}

## Commitments of management
Management of {{organisation}}:

- sets information security objectives each year, measures them and reports on them;
- provides the people, time and budget the information security management system (ISMS) needs;
- meets the legal, regulatory and contractual requirements that apply to our information;
- keeps improving the ISMS, using audits, incidents and reviews as input.

## Principles
1. Information is classified and handled according to its classification.
2. Access is granted on a need-to-know basis and reviewed regularly.
3. Risks are assessed with one method and treated by their owners.
4. Incidents and weaknesses are reported at once, without blame.
5. Suppliers are held to the same level of protection as we are.

## Responsibilities
{{roles}}

Everyone is responsible for following this policy and the topic-specific policies that support it.

## Breaches
Breaching this policy may lead to disciplinary measures in line with HR procedures and the law.

## Review
This policy is reviewed at least once a year, and after significant changes to the organisation, its risks or its obligations.
",
    },
    Template {
        id: "isms-scope",
        title: "ISMS scope statement",
        doc_type: DocType::Statement,
        classification: Classification::Internal,
        requirements: &["4.3"],
        summary: "What the ISMS covers and what it leaves out, with reasons.",
        body: r"# ISMS scope statement

## Organisation
{{organisation}}

## Scope
{{scope}}

## How the scope was set
The scope takes into account the internal and external issues and the requirements of interested parties recorded on the Context page, and the interfaces and dependencies between our activities and those performed by others.

## Exclusions
Anything excluded is listed above with its justification. An exclusion never removes a risk: where an excluded party handles our information, the relationship is covered by the supplier security policy.

## Changes
The scope is reviewed with the management review and whenever the organisation, its locations or its services change.
",
    },
    Template {
        id: "risk-methodology",
        title: "Risk assessment and treatment methodology",
        doc_type: DocType::Procedure,
        classification: Classification::Internal,
        requirements: &["6.1.2", "6.1.3", "8.2", "8.3"],
        summary: "How risks are identified, rated, treated and accepted, so results are comparable.",
        body: r"# Risk assessment and treatment methodology

## Purpose
This procedure makes sure that risk assessments at {{organisation}} give consistent, valid and comparable results.

## Identifying risks
Risks are identified per asset or process: what could happen (threat), what makes it possible (weakness) and what it would cause. Each risk gets an owner who is accountable for its treatment.

## Rating risks
{{risk_methodology}}

## Treating risks
For each risk above the acceptance criteria the owner chooses to modify it (apply controls), avoid it (stop the activity), share it (for example insurance or contract) or retain it. Controls chosen are compared with Annex A and recorded in the Statement of Applicability.

## Accepting residual risk
The risk owner accepts the residual risk when it is within the criteria. Above them only management may accept, and the reason is recorded.

## When assessments run
At least once a year, and whenever a significant change is planned or an incident reveals a new risk. Results are kept in the risk register.
",
    },
    Template {
        id: "acceptable-use",
        title: "Acceptable use policy",
        doc_type: DocType::Policy,
        classification: Classification::Internal,
        requirements: &["A.5.10", "A.6.7", "A.8.1"],
        summary: "What staff may and may not do with the organisation's information and devices.",
        body: r"# Acceptable use policy

## Who this applies to
Everyone who uses information, devices or services of {{organisation}}: staff, contractors and guests.

## Expected behaviour
- Use company devices and accounts mainly for work; limited personal use is fine when it does not harm security or productivity.
- Lock your screen when you leave your device, and keep devices with you or locked away when travelling.
- Store work information only in approved services; never in personal cloud accounts or e-mail.
- Install software only from approved sources; keep updates switched on.
- Report lost devices, suspicious messages and anything that looks wrong to the security contact at once.

## Not allowed
- Sharing passwords or letting others use your account.
- Bypassing security measures (antivirus, encryption, filtering).
- Copying confidential information to removable media without approval.
- Using company resources for illegal, harassing or offensive content.

## Working remotely
Use the company VPN or approved services on untrusted networks, and make sure nobody can read your screen in public places.

## Monitoring
{{organisation}} may monitor use of its systems within the limits of the law, to protect them. Monitoring is proportionate and documented.
",
    },
    Template {
        id: "access-control",
        title: "Access control policy",
        doc_type: DocType::Policy,
        classification: Classification::Internal,
        requirements: &["A.5.15", "A.5.16", "A.5.17", "A.5.18", "A.8.2", "A.8.5"],
        summary: "Who gets access to what, how it is granted, reviewed and removed.",
        body: r"# Access control policy

## Principles
Access at {{organisation}} is granted on a need-to-know and least-privilege basis. Every account belongs to one identified person or one documented service.

## Granting access
1. The person's manager requests access for a stated business need.
2. The owner of the system or information approves it.
3. The administrator grants it and keeps the record.

## Authentication
- Multi-factor authentication is required for remote access, e-mail, administrator accounts and every service holding confidential information.
- Passwords are at least 12 characters, unique per service and kept in the approved password manager.

## Privileged access
Administrator rights are given only to named people who need them, through separate accounts, and are logged.

## Reviews
System owners review who has access at least every six months (privileged access every three months) and remove what is no longer needed.

## Leaving or changing role
Access is removed on the last working day, or adjusted when someone changes role, following the HR process.
",
    },
    Template {
        id: "classification-handling",
        title: "Information classification and handling policy",
        doc_type: DocType::Policy,
        classification: Classification::Internal,
        requirements: &["A.5.12", "A.5.13", "A.5.10", "A.5.14"],
        summary: "The classification levels and how information of each level is labelled, stored, shared and destroyed.",
        body: r"# Information classification and handling policy

## Levels
| Level | Meaning | Examples |
|---|---|---|
| Public | May be shared with anyone | Website, published brochures |
| Internal | For staff and trusted partners | Procedures, internal news |
| Confidential | Limited to those who need it | Customer data, contracts, HR files |
| Restricted | Severe harm if disclosed | Keys, credentials, merger plans |

## Who classifies
The owner of the information classifies it when it is created or received. When unsure, treat it as Confidential.

## Handling
- **Internal**: keep in approved company systems; do not post publicly.
- **Confidential**: share only with named people; encrypt when sending outside {{organisation}}; do not print unless necessary.
- **Restricted**: access logged and reviewed; stored encrypted; shared only with the owner's approval.

## Labelling
Documents show their level in the header or file name; systems record it in their metadata.

## Disposal
Paper goes to secure shredding; storage media are wiped or destroyed with a record kept.
",
    },
    Template {
        id: "supplier-security",
        title: "Supplier security policy",
        doc_type: DocType::Policy,
        classification: Classification::Internal,
        requirements: &["A.5.19", "A.5.20", "A.5.21", "A.5.22", "A.5.23"],
        summary: "How suppliers are selected, bound by contract and monitored.",
        body: r"# Supplier security policy

## Purpose
{{organisation}} remains responsible for its information when suppliers handle it. This policy sets how we choose, contract and follow up suppliers.

## Before signing
- Classify the supplier by the information and services it will access.
- For suppliers handling Confidential information or critical services, review their security (certification, questionnaire or audit).

## In the contract
- Confidentiality, data protection and the right to audit.
- Notification of incidents affecting our information within an agreed time.
- Rules for subcontractors, and return or deletion of information at the end.

## Cloud services
Cloud services are approved before use; their configuration, location of data and exit plan are recorded.

## Monitoring
Critical suppliers are reviewed at least once a year: service reports, incidents, certificate validity and changes.

## Ending a relationship
Access is removed, information returned or destroyed, and confirmation kept.
",
    },
    Template {
        id: "incident-management",
        title: "Information security incident management procedure",
        doc_type: DocType::Procedure,
        classification: Classification::Internal,
        requirements: &["A.5.24", "A.5.25", "A.5.26", "A.5.27", "A.5.28", "A.6.8"],
        summary: "How events are reported, assessed, handled and learned from.",
        body: r"# Information security incident management procedure

## Report
Anyone at {{organisation}} who notices a possible security event (a lost device, a suspicious e-mail, unexpected system behaviour, data sent to the wrong person) reports it immediately to the security contact. Reporting early is always right; nobody is blamed for reporting.

## Assess
The incident manager decides within one working day whether the event is an incident and rates its severity (low, medium, high) by the information and services affected.

## Respond
1. Contain: stop the damage (isolate systems, reset credentials).
2. Eradicate and recover: remove the cause and restore service from trusted sources.
3. Communicate: inform management, affected customers and authorities when law or contracts require it, within the required time.

## Evidence
Logs and other evidence are preserved unaltered, with a record of who handled them.

## Learn
After each high or medium incident a short review records the cause, what worked and the actions to prevent a repeat; actions are tracked to completion.

## Roles
{{roles}}
",
    },
    Template {
        id: "business-continuity",
        title: "Business continuity and ICT readiness policy",
        doc_type: DocType::Policy,
        classification: Classification::Internal,
        requirements: &["A.5.29", "A.5.30"],
        summary: "Keeping information security during disruption and recovering critical services in time.",
        body: r"# Business continuity and ICT readiness policy

## Purpose
{{organisation}} keeps its critical services running, or restores them within agreed times, when disruption happens, without lowering the protection of information.

## Critical services
For each critical service the owner records the maximum tolerable downtime, the recovery time objective and the recovery point objective, and the systems and suppliers it depends on.

## Plans
Each critical service has a recovery plan: who decides, who acts, in which order systems are restored and how people are informed. Security controls stay in force during recovery; temporary exceptions are approved and recorded.

## Testing
Plans are tested at least once a year (table-top or technical test). Results and improvements are recorded.

## Review
This policy and the plans are reviewed after tests, incidents and significant changes.
",
    },
    Template {
        id: "backup",
        title: "Backup policy",
        doc_type: DocType::Policy,
        classification: Classification::Internal,
        requirements: &["A.8.13"],
        summary: "What is backed up, how often, where, and how restores are tested.",
        body: r"# Backup policy

## What is backed up
Every system holding information {{organisation}} needs to operate or must keep by law, including configuration needed to rebuild it.

## Frequency and retention
- Production data: daily, kept for 30 days; monthly copies kept for one year.
- Configuration: after every change.
System owners may set stricter values where the recovery point objective requires it.

## Protection
Backups are encrypted, stored in a second location and at least one copy is offline or immutable, so that ransomware cannot reach it. Access to backups is limited to named administrators.

## Restore tests
A restore of each critical system is tested at least every quarter; the result and time taken are recorded.

## Monitoring
Failed backups raise an alert that is handled the same working day.
",
    },
    Template {
        id: "cryptography",
        title: "Cryptography policy",
        doc_type: DocType::Policy,
        classification: Classification::Internal,
        requirements: &["A.8.24"],
        summary: "When encryption is used, which algorithms, and how keys are managed.",
        body: r"# Cryptography policy

## When to encrypt
- Data in transit over networks {{organisation}} does not control: always (TLS 1.2 or later).
- Laptops, phones and removable media: full-disk encryption.
- Confidential and Restricted information at rest in databases, backups and cloud storage.

## Algorithms
Use well-reviewed, current algorithms and library defaults (for example AES-256, ChaCha20, RSA 3072 or elliptic curves of comparable strength, SHA-256 or better). Never write your own cryptography.

## Keys
- Keys are generated on trusted systems, stored in a key management service or hardware module, and never in source code.
- Each key has an owner, a purpose and a rotation period; compromised keys are revoked at once.
- Access to keys is restricted and logged.

## Legal
The use and export of cryptography follows the laws of the countries where we operate.
",
    },
    Template {
        id: "secure-development",
        title: "Secure development policy",
        doc_type: DocType::Policy,
        classification: Classification::Internal,
        requirements: &[
            "A.8.25", "A.8.26", "A.8.27", "A.8.28", "A.8.29", "A.8.31", "A.8.32",
        ],
        summary: "How software is specified, written, tested and released securely.",
        body: r"# Secure development policy

## Requirements
Security requirements are written down with the functional ones for every new system or significant change at {{organisation}}.

## Coding
- Follow the team's secure coding guidelines; validate input, encode output, use parameterised queries.
- Keep secrets out of source code.
- Use maintained dependencies and check them for known vulnerabilities in the build.

## Review and testing
Every change is reviewed by someone other than its author before it is merged. Automated tests, static analysis and dependency checks run on each change; security testing runs before major releases.

## Environments
Development, test and production are separated; production data is not used in testing unless anonymised.

## Release and change
Releases follow the change process: approved, tested, reversible, recorded.

## Outsourced development
Suppliers that develop for us follow this policy by contract, and their work is reviewed.
",
    },
    Template {
        id: "hr-security",
        title: "Human resources security policy",
        doc_type: DocType::Policy,
        classification: Classification::Internal,
        requirements: &[
            "7.2", "7.3", "A.6.1", "A.6.2", "A.6.3", "A.6.4", "A.6.5", "A.6.6",
        ],
        summary: "Security before, during and after employment: screening, terms, awareness, discipline, leaving.",
        body: r"# Human resources security policy

## Before employment
Candidates are screened in proportion to the role and the information they will access, within the law. Contracts include confidentiality and information security responsibilities.

## During employment
- Every new person completes security awareness training in the first month and a refresher every year.
- People read and acknowledge the information security policy and the policies that apply to their role.
- Managers make sure their teams follow the policies.
- A disciplinary process, known to everyone, applies to security breaches.

## Competence
Each ISMS role has the competence it requires recorded; evidence (training, experience, certificates) is kept.

## Changing role or leaving
Access is adjusted or removed, company assets are returned, and the person is reminded of the confidentiality duties that continue after leaving.

## Remote working
Remote work follows the acceptable use policy.
",
    },
    Template {
        id: "isms-roles",
        title: "ISMS roles and responsibilities",
        doc_type: DocType::Statement,
        classification: Classification::Internal,
        requirements: &["5.3", "A.5.2", "A.5.3"],
        summary: "Who is responsible and who has authority for each part of the ISMS.",
        body: r"# ISMS roles and responsibilities

## Top management
Approves the information security policy, the risk acceptance criteria and the resources of the ISMS; chairs the management review.

## ISMS manager
Runs the ISMS day to day: keeps the documents, the risk register and the Statement of Applicability current, plans audits and reports to management on performance.

## Risk owners
Accountable for the risks assigned to them: choose the treatment and accept residual risk within the criteria.

## Control owners
Operate the controls assigned to them and keep the evidence that they work.

## Internal auditors
Audit the ISMS independently of the work they audit and report findings.

## Everyone
Follows the policies, completes training and reports incidents.

## Current assignment at {{organisation}}
{{roles}}

Conflicting duties are separated: nobody approves their own work.
",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_the_issue_names_is_there_once() {
        let ids: Vec<&str> = TEMPLATES.iter().map(|t| t.id).collect();
        assert_eq!(ids.len(), 14);
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len(), "ids are unique");
        for t in TEMPLATES {
            for r in t.requirements {
                assert!(
                    crate::document::check_requirement(r).is_ok(),
                    "{}: {r}",
                    t.id
                );
            }
            assert!(t.body.starts_with("# "), "{}", t.id);
            assert!(t.body.len() > 600, "{} is a real page", t.id);
        }
    }

    #[test]
    fn placeholders_are_filled_or_marked_to_complete() {
        let t = template("information-security-policy").unwrap();
        let empty = fill(t.body, &OrgFacts::default());
        assert!(!empty.contains("{{"), "no raw placeholder is left");
        assert!(empty.contains("*To be completed: the scope"));
        let f = OrgFacts {
            organisation: "Acme Ltd".into(),
            scope: "All of Acme's offices.".into(),
            roles: vec![("ISMS manager".into(), vec!["Mia".into()])],
            risk_methodology: String::new(),
        };
        let filled = fill(t.body, &f);
        assert!(filled.contains("Acme Ltd depends on information"));
        assert!(filled.contains("All of Acme's offices."));
        assert!(filled.contains("- **ISMS manager**: Mia"));
    }
}
