//! The main navigation as data: groups in the order an ISMS is run
//! (plan, do, check, improve), each a list of pages with the access they
//! need. A module adds its page with one line in [`GROUPS`]; a group with no
//! page the member may open is not shown, so modules not built yet are
//! simply absent.

use isms_domain::{Permission, Role};

use crate::routes::Access;

/// One page in the navigation.
#[derive(Debug, Clone, Copy)]
pub struct Item {
    /// What handlers pass to `Chrome::new` as the current page.
    pub key: &'static str,
    pub label: &'static str,
    pub href: &'static str,
    /// Must match what the route declares, so nobody sees a link they
    /// would be refused (a unit test checks it against the route table).
    pub access: Access,
}

/// A heading and its pages; an empty heading shows the pages ungrouped.
#[derive(Debug, Clone, Copy)]
pub struct Group {
    pub label: &'static str,
    pub items: &'static [Item],
}

const fn item(key: &'static str, label: &'static str, href: &'static str, access: Access) -> Item {
    Item {
        key,
        label,
        href,
        access,
    }
}

const READ: Access = Access::Needs(Permission::ReadIsms);

/// The whole navigation, grouped the way ISO 27001 runs an ISMS: plan,
/// do, check, improve.
pub const GROUPS: &[Group] = &[
    Group {
        label: "",
        items: &[
            item("dashboard", "Home", "/", Access::Member),
            item("tasks", "My tasks", "/tasks", Access::Member),
            item("inbox", "Inbox", "/inbox", Access::Member),
        ],
    },
    Group {
        label: "Plan",
        items: &[
            item("roadmap", "Roadmap", "/roadmap", READ),
            item("context", "Context", "/context", READ),
            item("gap", "Gap analysis", "/gap", READ),
            item("risks", "Risks", "/risks", READ),
            item("inventory", "Assets", "/inventory", READ),
            item("fair", "Quantitative risk", "/risk/quantitative", READ),
            item("methodology", "Risk methodology", "/risk/methodology", READ),
            item("soa", "Statement of Applicability", "/soa", READ),
            item("readiness", "Readiness", "/readiness", READ),
        ],
    },
    Group {
        label: "Do",
        items: &[
            item("controls", "Applied controls", "/controls", READ),
            item("evidence", "Evidence", "/evidence", READ),
            item("training", "Training", "/training", Access::Member),
            item("documents", "Documents", "/documents", READ),
            item(
                "to-read",
                "Documents to read",
                "/me/documents",
                Access::Member,
            ),
        ],
    },
    Group {
        label: "Check",
        items: &[
            item("metrics", "Metrics", "/metrics", READ),
            item("due", "Due dates", "/tasks/due", READ),
            item("audits", "Internal audits", "/audits", READ),
            item(
                "management_reviews",
                "Management reviews",
                "/management-reviews",
                READ,
            ),
        ],
    },
    Group {
        label: "Improve",
        items: &[item(
            "nonconformities",
            "Nonconformities",
            "/nonconformities",
            READ,
        )],
    },
    Group {
        label: "Frameworks",
        items: &[item(
            "frameworks",
            "Frameworks",
            "/frameworks",
            Access::Member,
        )],
    },
    Group {
        label: "Administration",
        items: &[
            item(
                "users",
                "Users",
                "/admin/users",
                Access::Needs(Permission::ManageMembers),
            ),
            item(
                "settings",
                "Settings",
                "/admin/settings",
                Access::Needs(Permission::ManageMembers),
            ),
            item(
                "audit",
                "Audit log",
                "/audit-log",
                Access::Needs(Permission::ReadAuditLog),
            ),
        ],
    },
];

/// A link as the layout shows it.
#[derive(Debug, Clone)]
pub struct Link {
    pub label: &'static str,
    pub href: &'static str,
    pub current: bool,
}

/// A group as the layout shows it: only the links the member may follow.
#[derive(Debug, Clone)]
pub struct Shown {
    pub label: &'static str,
    pub links: Vec<Link>,
}

/// The groups and links `role` may see, with `current` marked.
pub fn for_role(role: Role, current: &str) -> Vec<Shown> {
    GROUPS
        .iter()
        .map(|g| Shown {
            label: g.label,
            links: g
                .items
                .iter()
                .filter(|i| i.access.admits(role))
                .map(|i| Link {
                    label: i.label,
                    href: i.href,
                    current: i.key == current,
                })
                .collect(),
        })
        .filter(|g| !g.links.is_empty())
        .collect()
}

/// The label of the current page's navigation entry, if it has one.
pub fn label_of(current: &str) -> Option<&'static str> {
    GROUPS
        .iter()
        .flat_map(|g| g.items)
        .find(|i| i.key == current)
        .map(|i| i.label)
}

/// Where a page's navigation entry points (for breadcrumbs).
pub fn href_of(current: &str) -> Option<&'static str> {
    GROUPS
        .iter()
        .flat_map(|g| g.items)
        .find(|i| i.key == current)
        .map(|i| i.href)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_link_is_a_get_route_with_the_same_access() {
        let table = crate::pages::route_table();
        for i in GROUPS.iter().flat_map(|g| g.items) {
            let route = table
                .iter()
                .find(|r| r.method == "GET" && r.path == i.href)
                .unwrap_or_else(|| panic!("{} links to {}, which is no page", i.key, i.href));
            assert_eq!(route.access, i.access, "{} and its route disagree", i.href);
        }
    }

    #[test]
    fn an_employee_sees_their_own_work_and_frameworks_only_and_empty_groups_are_absent() {
        let shown = for_role(Role::Employee, "frameworks");
        let labels: Vec<_> = shown
            .iter()
            .flat_map(|g| g.links.iter().map(|l| l.label))
            .collect();
        assert_eq!(
            labels,
            [
                "Home",
                "My tasks",
                "Inbox",
                "Training",
                "Documents to read",
                "Frameworks"
            ]
        );
        assert!(shown.iter().all(|g| !g.links.is_empty()));
        assert!(
            shown
                .iter()
                .all(|g| g.label != "Plan" && g.label != "Check")
        );
        let current: Vec<_> = shown
            .iter()
            .flat_map(|g| g.links.iter().filter(|l| l.current).map(|l| l.href))
            .collect();
        assert_eq!(current, ["/frameworks"]);
    }

    #[test]
    fn an_administrator_sees_every_built_page() {
        let n: usize = for_role(Role::Admin, "")
            .iter()
            .map(|g| g.links.len())
            .sum();
        assert_eq!(n, GROUPS.iter().map(|g| g.items.len()).sum::<usize>());
    }
}
