//! Cross-links between the records that describe one ISO/IEC 27001:2022
//! requirement: its page in the framework browser, its SoA entry (Annex A
//! controls) and its row in the latest gap assessment. Risks, controls,
//! documents and findings add theirs here as they land. Documents that
//! address the requirement are listed from every end.

use isms_domain::Permission;
use isms_store::{SessionUser, Tenant, gap_requirements};

use crate::AppState;
use crate::error::WebError;

/// The framework every ISMS record is kept against.
const ISO: &str = "iso27001-2022";

/// The page a list of related links is shown on (it is left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    Requirement,
    Soa,
    Gap,
}

/// One link to a related record.
#[derive(Debug, Clone)]
pub struct Related {
    pub label: String,
    pub href: String,
}

/// The records related to `ref_id` (an ISO/IEC 27001:2022 ref id:
/// `A.5.1`, `6.1.2`) that `user` may open, except the one on `from`.
pub async fn related(
    state: &AppState,
    user: &SessionUser,
    ref_id: &str,
    from: From,
) -> Result<Vec<Related>, WebError> {
    let mut out = Vec::new();
    if from != From::Requirement
        && let Some(r) = state
            .store
            .requirement_by_ref(ISO, ref_id, Tenant::Org(user.org_id))
            .await?
    {
        out.push(Related {
            label: format!("{ref_id} in ISO/IEC 27001:2022, with guidance"),
            href: format!("/requirements/{}", r.id),
        });
    }
    if !user.role.can(Permission::ReadIsms) {
        return Ok(out);
    }
    if from != From::Soa
        && let Some(control) = ref_id.strip_prefix("A.")
    {
        out.push(Related {
            label: format!("Statement of Applicability entry {control}"),
            href: format!("/soa/{control}"),
        });
    }
    if from != From::Gap
        && gap_requirements().iter().any(|r| r.ref_id == ref_id)
        && let Some(a) = state
            .store
            .gap_assessments(user.org_id)
            .await?
            .into_iter()
            .next()
    {
        out.push(Related {
            label: format!("Gap assessment “{}”", a.title),
            href: format!("/gap/{}#g-{}", a.id, ref_id.replace('.', "-")),
        });
    }
    for (id, title) in state
        .store
        .documents_addressing(user.org_id, ref_id)
        .await?
    {
        out.push(Related {
            label: format!("Document “{title}”"),
            href: format!("/documents/{id}"),
        });
    }
    Ok(out)
}
