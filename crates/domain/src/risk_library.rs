//! A starting library of threats and vulnerabilities, written for this
//! product, each tagged with the Annex A controls that commonly treat it.
//! Choosing one for a risk suggests those controls.

/// A threat or a vulnerability of the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LibraryEntry {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// Annex A controls that commonly treat it.
    pub controls: &'static [&'static str],
}

macro_rules! entries {
    ($($id:literal, $name:literal, $desc:literal, [$($c:literal),*];)+) => {
        &[$(LibraryEntry { id: $id, name: $name, description: $desc, controls: &[$($c),*] }),+]
    };
}

/// Things that can go wrong.
pub const THREATS: &[LibraryEntry] = entries![
    "T01", "Ransomware", "Malicious code encrypts data and demands payment to release it.", ["8.7", "8.13", "8.8", "5.30"];
    "T02", "Phishing", "Messages trick people into revealing credentials or running code.", ["6.3", "8.23", "5.17", "8.5"];
    "T03", "Credential stuffing", "Passwords leaked elsewhere are tried against our logins.", ["8.5", "5.17", "8.16"];
    "T04", "Insider misuse", "Someone with legitimate access uses it for harm or gain.", ["5.3", "8.2", "8.15", "6.4"];
    "T05", "Accidental deletion", "Data is removed by mistake and not noticed in time.", ["8.13", "8.3", "5.37"];
    "T06", "Supplier compromise", "An attacker reaches us through a provider's systems or staff.", ["5.19", "5.20", "5.21", "5.22"];
    "T07", "Cloud service outage", "A hosted service we depend on is unavailable for hours or days.", ["5.23", "5.30", "8.14"];
    "T08", "Power failure", "Loss of electricity stops equipment on site.", ["7.11", "8.14", "5.30"];
    "T09", "Fire", "Fire or smoke damages premises and equipment.", ["7.5", "7.8", "8.13"];
    "T10", "Flooding or water damage", "Water from weather or pipes reaches equipment or records.", ["7.5", "7.8", "8.13"];
    "T11", "Theft of equipment", "Laptops, phones or media are stolen with data on them.", ["8.1", "7.9", "8.24", "7.10"];
    "T12", "Loss of equipment", "Devices or media are left behind or mislaid.", ["8.1", "8.24", "7.10", "5.10"];
    "T13", "Denial of service", "Traffic floods overwhelm a public service.", ["8.20", "8.6", "8.14"];
    "T14", "Exploitation of a known flaw", "An attacker uses a published vulnerability before it is patched.", ["8.8", "8.19", "8.9"];
    "T15", "Web application attack", "Injection or broken access control in our own software is abused.", ["8.25", "8.26", "8.28", "8.29"];
    "T16", "Misconfiguration", "A setting exposes data or services that should be closed.", ["8.9", "8.32", "8.27"];
    "T17", "Data leak by e-mail", "Sensitive data is sent to the wrong recipient or outside.", ["5.14", "8.12", "6.3"];
    "T18", "Unauthorised physical access", "Someone enters areas or rooms they should not.", ["7.1", "7.2", "7.3", "7.4"];
    "T19", "Eavesdropping on networks", "Traffic is intercepted on untrusted or shared networks.", ["8.20", "8.21", "8.24"];
    "T20", "Business e-mail fraud", "Impersonated managers or suppliers ask for payments or data.", ["6.3", "5.14", "8.23"];
    "T21", "Malware from removable media", "USB sticks or disks bring in malicious code.", ["7.10", "8.7", "8.1"];
    "T22", "Privilege escalation", "An account gains rights beyond what it was given.", ["8.2", "8.18", "8.8"];
    "T23", "Unauthorised software", "People install tools that are unvetted or unlicensed.", ["8.19", "5.32", "8.7"];
    "T24", "Source code tampering", "Changes are slipped into code or build pipelines.", ["8.4", "8.28", "8.32", "8.25"];
    "T25", "Loss of key staff", "People with unique knowledge leave or are unavailable.", ["5.37", "6.1", "5.30"];
    "T26", "Social engineering by phone", "Callers pose as staff or support to extract information.", ["6.3", "5.16", "5.17"];
    "T27", "Espionage", "A competitor or state actor targets confidential information.", ["5.7", "5.12", "8.12", "8.16"];
    "T28", "Legal or regulatory breach", "Processing breaks law, contract or privacy rules.", ["5.31", "5.34", "5.36"];
    "T29", "Hardware failure", "Disks, servers or network devices break down.", ["7.13", "8.14", "8.13"];
    "T30", "Software defect", "A bug corrupts data or stops a service.", ["8.29", "8.32", "8.13"];
    "T31", "Backup failure", "Backups are missing, incomplete or cannot be restored.", ["8.13", "5.30"];
    "T32", "Account takeover", "Attackers control a user's account through stolen sessions or tokens.", ["8.5", "5.17", "8.16"];
    "T33", "Shadow IT", "Teams adopt services outside oversight and store data there.", ["5.23", "5.9", "5.10"];
    "T34", "Data retention breach", "Information is kept longer than allowed or deleted too early.", ["8.10", "5.33", "5.34"];
    "T35", "Unauthorised disclosure by staff", "Employees share information beyond need, often without intent.", ["6.2", "6.6", "5.10", "6.3"];
    "T36", "Compromise of remote workers", "Home or travel setups are attacked or overlooked.", ["6.7", "8.1", "7.9"];
    "T37", "Pandemic or mass absence", "Many people cannot work at once.", ["5.29", "5.30"];
    "T38", "Cryptographic key compromise", "Keys or certificates leak or expire unnoticed.", ["8.24"];
    "T39", "Logging blind spot", "An attack goes unnoticed because events are not recorded or watched.", ["8.15", "8.16", "5.25"];
    "T40", "Data corruption in transfer", "Information is altered or lost when moved between systems.", ["5.14", "8.24", "8.11"];
    "T41", "Test data exposure", "Real personal data ends up in test environments.", ["8.33", "8.31", "8.11"];
    "T42", "Clock drift", "Unsynchronised clocks make logs and certificates unreliable.", ["8.17"];
];

/// Weaknesses a threat can exploit.
pub const VULNERABILITIES: &[LibraryEntry] = entries![
    "V01", "No multi-factor authentication", "A password alone opens the account.", ["8.5", "5.17"];
    "V02", "Weak or reused passwords", "Passwords are short, shared or used on several services.", ["5.17", "8.5"];
    "V03", "Missing patches", "Systems run versions with known flaws.", ["8.8", "8.19"];
    "V04", "Excessive access rights", "People hold rights they no longer need.", ["5.15", "5.18", "8.2"];
    "V05", "No leaver process", "Accounts of people who left stay active.", ["5.18", "6.5"];
    "V06", "Untested backups", "Restores have never been tried.", ["8.13", "5.30"];
    "V07", "Single point of failure", "One component or site carries a service alone.", ["8.14", "5.30"];
    "V08", "Unencrypted devices", "Laptops and phones store data in the clear.", ["8.24", "8.1"];
    "V09", "Unencrypted network traffic", "Data travels without transport encryption.", ["8.24", "8.21"];
    "V10", "No security awareness training", "People do not recognise common attacks.", ["6.3"];
    "V11", "No supplier assessment", "Providers are chosen without checking their security.", ["5.19", "5.21"];
    "V12", "Contracts without security clauses", "Supplier agreements say nothing about protecting data.", ["5.20", "5.21"];
    "V13", "No asset inventory", "Nobody knows which systems and data exist.", ["5.9", "5.10"];
    "V14", "Unclassified information", "Data carries no label telling people how to handle it.", ["5.12", "5.13"];
    "V15", "No logging", "Events are not recorded.", ["8.15"];
    "V16", "Logs not reviewed", "Events are recorded but nobody looks.", ["8.16", "8.15"];
    "V17", "Flat network", "Every system can reach every other one.", ["8.22", "8.20"];
    "V18", "Open administrative interfaces", "Management ports are reachable from the internet.", ["8.20", "8.9", "8.2"];
    "V19", "Default configurations", "Systems run with vendor defaults and sample accounts.", ["8.9"];
    "V20", "No change control", "Changes reach production without review or record.", ["8.32"];
    "V21", "No secure development practice", "Code is written and shipped without security checks.", ["8.25", "8.28", "8.29"];
    "V22", "Unsupported software", "Products past their end of support receive no fixes.", ["8.8", "8.19", "5.9"];
    "V23", "No malware protection", "Endpoints lack tools that detect malicious code.", ["8.7"];
    "V24", "Shared accounts", "Several people use one login, so actions cannot be traced.", ["5.16", "8.5"];
    "V25", "No incident response plan", "Nobody knows who does what when something happens.", ["5.24", "5.26"];
    "V26", "No continuity plan", "There is no way to keep working during a disruption.", ["5.29", "5.30"];
    "V27", "Poor physical security", "Doors, locks or visitor control are weak.", ["7.1", "7.2", "7.3"];
    "V28", "No clear desk rule", "Papers and screens are left readable.", ["7.7"];
    "V29", "Insecure disposal", "Old equipment and paper are thrown away with data on them.", ["7.14", "8.10"];
    "V30", "Unmanaged mobile devices", "Personal phones hold company data without controls.", ["8.1", "6.7"];
    "V31", "Public cloud storage left open", "Buckets or shares are readable by anyone.", ["8.9", "5.23", "8.3"];
    "V32", "Secrets in source code", "Passwords and keys sit in repositories.", ["8.4", "8.24", "8.28"];
    "V33", "No data loss prevention", "Nothing stops sensitive data leaving by mail or upload.", ["8.12"];
    "V34", "Missing segregation of duties", "One person can both make and approve a change or payment.", ["5.3"];
    "V35", "Undocumented procedures", "Operations depend on memory rather than written steps.", ["5.37"];
    "V36", "No screening of staff", "People are given access without background checks.", ["6.1"];
    "V37", "No capacity planning", "Resources run out under load.", ["8.6"];
    "V38", "No time synchronisation", "Systems keep their own, differing clocks.", ["8.17"];
    "V39", "No web filtering", "People can reach known malicious sites.", ["8.23"];
    "V40", "Real data in test systems", "Production data is copied into development.", ["8.33", "8.31"];
    "V41", "Unreviewed third-party code", "Libraries are pulled in without checking where they come from.", ["8.28", "5.21"];
    "V42", "No legal register", "The laws and contracts that apply are not listed.", ["5.31"];
];

/// The entry of the library whose name is `name` (case-insensitive).
pub fn find(name: &str) -> Option<&'static LibraryEntry> {
    let n = name.trim();
    THREATS
        .iter()
        .chain(VULNERABILITIES)
        .find(|e| e.name.eq_ignore_ascii_case(n) || e.id.eq_ignore_ascii_case(n))
}

/// The controls suggested for a risk's threat and vulnerability, in order,
/// without repeats.
pub fn suggested_controls(threat: &str, vulnerability: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for e in [find(threat), find(vulnerability)].into_iter().flatten() {
        for c in e.controls {
            if !out.contains(c) {
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::normalise_control_id;

    #[test]
    fn the_library_has_forty_of_each_with_real_controls_and_unique_names() {
        assert!(THREATS.len() >= 40 && VULNERABILITIES.len() >= 40);
        let mut names = std::collections::HashSet::new();
        for e in THREATS.iter().chain(VULNERABILITIES) {
            assert!(names.insert(e.name.to_lowercase()), "{} twice", e.name);
            assert!(names.insert(e.id.to_lowercase()), "{} twice", e.id);
            assert!(!e.controls.is_empty(), "{}", e.name);
            for c in e.controls {
                assert_eq!(
                    normalise_control_id(c).as_deref(),
                    Some(*c),
                    "{}: {c}",
                    e.name
                );
            }
        }
    }

    #[test]
    fn a_threat_and_a_vulnerability_suggest_their_controls_once() {
        let s = suggested_controls("ransomware", "Untested backups");
        assert_eq!(s, ["8.7", "8.13", "8.8", "5.30"]);
        assert!(suggested_controls("something else", "").is_empty());
        assert_eq!(find("t02").unwrap().name, "Phishing");
    }
}
