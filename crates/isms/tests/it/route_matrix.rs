//! The route matrix: every route the router holds (read from
//! `isms_web::routes::route_table()`, so a new route cannot be left out) x
//! every role and no login x an object of another organisation in its path.
//!
//! Expected, from the access each route declares:
//! - nobody ever gets a 5xx;
//! - without a login, only public routes answer; pages send to the login
//!   page, the API answers 401;
//! - a role the route does not admit gets 403;
//! - a role it admits never reaches another organisation's object: a path
//!   naming one answers as for an object that exists nowhere (404, or the
//!   same 4xx for a malformed request), never 2xx or 3xx; other requests
//!   are not refused for rights.
//!
//! Path parameters are named after what they name; the test fills each with
//! the other organisation's object and fails on a parameter it does not know.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use isms_domain::Role;
use isms_store::{Actor, ContextInput, Store, Tenant};
use isms_web::routes::{Access, Route, route_table};

use crate::support::{App, PASSWORD, add, org_with, stores};

/// What fills a parameter, and whether it names another organisation's object.
struct Fill {
    value: String,
    foreign: bool,
}

/// Objects of organisation B, the one the callers do not belong to.
async fn foreign_objects(store: &Store) -> HashMap<&'static str, Fill> {
    let b = org_with(store, "Bolt", "admin@bolt.test", Role::Admin).await;
    let actor = Actor::cli();
    let b_user = add(store, &b, "member@bolt.test", Role::Employee).await;
    let (b_token, _) = store.create_token(b.id, b_user, "b", &actor).await.unwrap();
    let (invitation, _) = store
        .create_invitation(b.id, "new@bolt.test", Role::Employee, &actor)
        .await
        .unwrap();
    let item = store
        .create_context_item(
            b.id,
            "issue",
            &ContextInput {
                title: Some("B's issue".into()),
                category: Some("internal".into()),
                ..ContextInput::default()
            },
            &actor,
        )
        .await
        .unwrap();
    let gap = store
        .create_gap_assessment(b.id, "B's baseline", None, &actor)
        .await
        .unwrap();
    let scenario = store
        .save_fair_scenario(b.id, None, None, "B's scenarios", "iterations: 10", &actor)
        .await
        .unwrap();
    let csv = "ref_id,parent_ref_id,title,description\nB-1,,B's private requirement,\n";
    let tree = isms_catalog::import_catalog_csv(
        "bolt-private.csv",
        csv.as_bytes(),
        isms_catalog::framework_from_file_name("bolt-private.csv"),
    )
    .unwrap();
    store
        .import_framework(
            &tree,
            "bolt-private.csv",
            "csv",
            false,
            Tenant::Org(b.id),
            &actor,
        )
        .await
        .unwrap();
    let requirement = store
        .requirement_by_ref("bolt-private", "B-1", Tenant::Org(b.id))
        .await
        .unwrap()
        .unwrap();
    // B has SoA versions 1 and 2; the callers' organisation at most 1.
    store.soa_entries(b.id, &actor).await.unwrap();
    store.approve_soa(b.id, "B's first", &actor).await.unwrap();
    store
        .update_soa_entry(
            b.id,
            "5.1",
            &isms_store::SoaPatch {
                justification: Some("B's reason".into()),
                version: Some(1),
                ..Default::default()
            },
            &actor,
        )
        .await
        .unwrap();
    store.approve_soa(b.id, "B's second", &actor).await.unwrap();

    let asset = store
        .create_asset(
            b.id,
            &isms_store::AssetInput {
                name: Some("B's database".into()),
                asset_type: Some("information".into()),
                ..Default::default()
            },
            &actor,
        )
        .await
        .unwrap();
    let risk = store
        .create_risk(
            b.id,
            &isms_store::RiskInput {
                title: Some("B's risk".into()),
                likelihood: Some(3),
                impact: Some(3),
                treatment: Some("modify".into()),
                ..Default::default()
            },
            &actor,
        )
        .await
        .unwrap();
    let action = store
        .create_risk_action(
            b.id,
            risk.id,
            &isms_store::ActionInput {
                title: Some("B's action".into()),
                ..Default::default()
            },
            &actor,
        )
        .await
        .unwrap();
    let control = store
        .create_control(
            b.id,
            &isms_store::ControlInput {
                name: Some("B's control".into()),
                ..Default::default()
            },
            &actor,
        )
        .await
        .unwrap();
    let evidence = store
        .create_evidence(
            b.id,
            &isms_store::EvidenceInput {
                title: Some("B's evidence".into()),
                url: Some("https://bolt.test/proof".into()),
                controls: Some(vec![control.id]),
                ..Default::default()
            },
            None,
            &actor,
        )
        .await
        .unwrap();
    let metric = store
        .create_metric(
            b.id,
            &isms_store::MetricInput {
                name: Some("B's metric".into()),
                unit: Some("%".into()),
                target: Some(90.0),
                ..Default::default()
            },
            &actor,
        )
        .await
        .unwrap();

    let course = store
        .create_course(
            b.id,
            &isms_store::CourseInput {
                title: Some("B's course".into()),
                content: Some("B's content".into()),
                ..Default::default()
            },
            &actor,
        )
        .await
        .unwrap();
    let audit = store
        .create_audit(
            b.id,
            &isms_store::AuditInput {
                title: Some("B's audit".into()),
                scope: vec!["8.5".into()],
                auditors: vec!["member@bolt.test".into()],
                ..Default::default()
            },
            &actor,
        )
        .await
        .unwrap();
    let finding = store
        .record_finding(
            b.id,
            audit.id,
            &isms_store::FindingInput {
                requirement: Some("8.5".into()),
                result: Some("observation".into()),
                ..Default::default()
            },
            &actor,
        )
        .await
        .unwrap();
    let task = store
        .create_task(
            b.id,
            &isms_store::TaskInput {
                title: Some("B's task".into()),
                owner: Some("member@bolt.test".into()),
                ..Default::default()
            },
            &actor,
        )
        .await
        .unwrap();
    let nonconformity = store
        .create_nonconformity(
            b.id,
            &isms_store::NcInput {
                title: Some("B's nonconformity".into()),
                ..Default::default()
            },
            &actor,
        )
        .await
        .unwrap();
    let b_email = store
        .members(b.id)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.user_id == b_user)
        .unwrap()
        .email;
    let due = isms_store::time_from_now(time::Duration::days(30))[..10].to_owned();
    store
        .assign_course(
            b.id,
            course.id,
            &isms_domain::training::Audience::People(vec![b_email.clone()]),
            &due,
            &actor,
        )
        .await
        .unwrap();
    let assignment = store
        .assignments(b.id, &isms_store::AssignmentFilter::default())
        .await
        .unwrap()[0]
        .id;
    let requirement_b = store
        .create_competence_requirement(
            b.id,
            &isms_store::RequirementInput {
                role: Some("employee".into()),
                title: Some("B's competence".into()),
                description: None,
            },
            &actor,
        )
        .await
        .unwrap();
    let record = store
        .record_competence(
            b.id,
            &isms_store::CompetenceInput {
                person: Some(b_email),
                requirement: Some(requirement_b.id),
                evidence: Some("B's certificate".into()),
                achieved_on: Some("2026-01-01".into()),
                ..Default::default()
            },
            &actor,
        )
        .await
        .unwrap();
    let review = store
        .create_management_review(
            b.id,
            &isms_store::ReviewInput {
                title: Some("B's review".into()),
                date: Some("2026-01-01".into()),
                ..Default::default()
            },
            &actor,
        )
        .await
        .unwrap();
    store
        .notify(
            b.id,
            b_user,
            &isms_store::NewNotification {
                category: "task",
                title: "B's message",
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let notification = store.inbox(b.id, b_user, false).await.unwrap()[0].id;
    let feed = store
        .create_calendar_feed(b.id, b_user, &actor)
        .await
        .unwrap();
    let review = store
        .add_review_action(
            b.id,
            review.id,
            &isms_store::ReviewActionInput {
                title: Some("B's review action".into()),
                ..Default::default()
            },
            &actor,
        )
        .await
        .unwrap();
    let matrix = "urn: urn:test:risk:library:bolt-matrix
version: 1
objects:
  risk_matrix:
  - urn: urn:test:risk:matrix:bolt
    name: Bolt's 3x3
    probability: [{name: a}, {name: b}, {name: c}]
    impact: [{name: a}, {name: b}, {name: c}]
    risk: [{name: low}, {name: high}]
    grid: [[0, 0, 1], [0, 1, 1], [1, 1, 1]]
";
    let lib = isms_catalog::import_ciso_assistant("bolt-matrix.yaml", matrix.as_bytes()).unwrap();
    store
        .import_library(&lib, "bolt-matrix.yaml", false, Tenant::Org(b.id), &actor)
        .await
        .unwrap();
    let template = store
        .methodology_templates(Tenant::Org(b.id))
        .await
        .unwrap()[0]
        .id;

    let document = store
        .create_document(
            b.id,
            &isms_store::DocumentInput {
                title: Some("B's policy".into()),
                doc_type: Some("policy".into()),
                ..Default::default()
            },
            &actor,
        )
        .await
        .unwrap();

    let f = |v: String, foreign: bool| Fill { value: v, foreign };
    HashMap::from([
        // Pages.
        ("token", f(b_token.to_string(), true)),
        ("member", f(b_user.to_string(), true)),
        ("invitation", f(invitation.id.to_string(), true)),
        ("item", f(item.id.to_string(), true)),
        ("assessment", f(gap.id.to_string(), true)),
        ("scenario", f(scenario.id.to_string(), true)),
        ("framework", f("bolt-private".into(), true)),
        ("requirement", f(requirement.id.to_string(), true)),
        ("asset", f(asset.id.to_string(), true)),
        ("risk", f(risk.id.to_string(), true)),
        ("action", f(action.id.to_string(), true)),
        ("course", f(course.id.to_string(), true)),
        ("assignment", f(assignment.to_string(), true)),
        ("record", f(record.id.to_string(), true)),
        ("task", f(task.id.to_string(), true)),
        ("notification", f(notification.to_string(), true)),
        // Public: the secret is the credential.
        ("feed", f(feed, false)),
        // Every organisation has the same roadmap steps.
        ("step", f("scope".into(), false)),
        ("audit", f(audit.id.to_string(), true)),
        ("finding", f(finding.id.to_string(), true)),
        ("nonconformity", f(nonconformity.id.to_string(), true)),
        ("review", f(review.id.to_string(), true)),
        ("review_action", f(review.actions[0].id.to_string(), true)),
        ("template", f(template.to_string(), true)),
        ("applied_control", f(control.id.to_string(), true)),
        ("evidence", f(evidence.id.to_string(), true)),
        ("metric", f(metric.id.to_string(), true)),
        ("document", f(document.id.to_string(), true)),
        // Within the caller's own organisation: every organisation has
        // control 5.1 and requirement A.5.1; these name no foreign object.
        ("control", f("5.1".into(), false)),
        ("control_id", f("5.1".into(), false)),
        ("ref_id", f("A.5.1".into(), false)),
        ("number", f("2".into(), true)),
        // Public assets.
        ("version", f("0".into(), false)),
        ("name", f("nothing.css".into(), false)),
    ])
}

/// The API names objects `{id}`: which one depends on the path.
fn api_id<'a>(path: &str, fills: &'a HashMap<&'static str, Fill>) -> &'a Fill {
    let key = if path.starts_with("/api/v1/context-items") {
        "item"
    } else if path.starts_with("/api/v1/gap-assessments") {
        "assessment"
    } else if path.starts_with("/api/v1/frameworks") {
        "framework"
    } else if path.starts_with("/api/v1/requirements") {
        "requirement"
    } else {
        panic!("{path}: the route-matrix test does not know what its {{id}} names; add it")
    };
    &fills[key]
}

/// The concrete path for `route`, and whether it names a foreign object;
/// with `missing`, foreign objects are replaced by ids that exist nowhere.
fn concrete(route: &Route, fills: &HashMap<&'static str, Fill>, missing: bool) -> (String, bool) {
    let mut out = String::new();
    let mut foreign = false;
    let mut rest = route.path.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').expect("closing brace") + open;
        let name = &rest[open + 1..close];
        let fill = if name == "id" && route.path.starts_with("/api/") {
            api_id(&route.path, fills)
        } else {
            fills.get(name).unwrap_or_else(|| {
                panic!(
                    "{} {}: the route-matrix test does not know the parameter {{{name}}}; name parameters after what they name and add it here",
                    route.method, route.path
                )
            })
        };
        if missing && fill.foreign {
            out.push_str(if fill.value.parse::<i64>().is_ok() {
                "987654"
            } else {
                "no-such-thing"
            });
        } else {
            out.push_str(&fill.value);
        }
        foreign |= fill.foreign;
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    (out, foreign)
}

/// A caller: a role's session (cookie and CSRF token) and API token.
struct Caller {
    role: Option<Role>,
    cookie: Option<String>,
    csrf: String,
    token: Option<String>,
}

async fn call(app: &App, route: &Route, path: &str, who: &Caller) -> StatusCode {
    let api = route.path.starts_with("/api/");
    let mut b = Request::builder().method(route.method).uri(path);
    let body = if api {
        if let Some(t) = &who.token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if route.method == "GET" {
            Body::empty()
        } else {
            b = b.header(header::CONTENT_TYPE, "application/json");
            Body::from("{}")
        }
    } else {
        if let Some(c) = &who.cookie {
            b = b.header(header::COOKIE, c);
        }
        if route.method == "GET" {
            Body::empty()
        } else {
            b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(format!("csrf_token={}", who.csrf))
        }
    };
    app.send(b.body(body).unwrap()).await.status
}

#[tokio::test]
async fn every_route_x_every_role_x_another_organisations_objects() {
    let routes = route_table();
    let undeclared: Vec<String> = routes
        .iter()
        .filter(|(_, declared)| !declared)
        .map(|(r, _)| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        undeclared.is_empty(),
        "API operations without a declared access (add them to ACCESS in crates/web/src/api.rs): {undeclared:?}"
    );
    assert!(routes.len() > 60, "only {} routes found", routes.len());

    for (engine, store) in stores().await {
        let fills = foreign_objects(&store).await;
        let a = org_with(&store, "Acme", "admin@acme.test", Role::Admin).await;
        let app = App::new(store.clone());
        let mut callers = vec![Caller {
            role: None,
            cookie: None,
            csrf: String::new(),
            token: None,
        }];
        for role in Role::ALL {
            let email = format!("{}@acme.test", role.as_str());
            let id = if role == Role::Admin {
                store
                    .user_by_email("admin@acme.test")
                    .await
                    .unwrap()
                    .unwrap()
                    .id
            } else {
                add(&store, &a, &email, role).await
            };
            let email = if role == Role::Admin {
                "admin@acme.test".to_owned()
            } else {
                email
            };
            let (cookie, csrf) = app.login(&email, PASSWORD).await;
            let (_, token) = store
                .create_token(a.id, id, "matrix", &Actor::cli())
                .await
                .unwrap();
            callers.push(Caller {
                role: Some(role),
                cookie: Some(cookie),
                csrf,
                token: Some(token),
            });
        }

        let mut problems = Vec::new();
        let mut calls = 0;
        // Routes that end the caller's session go last.
        let mut ordered: Vec<&Route> = routes.iter().map(|(r, _)| r).collect();
        ordered.sort_by_key(|r| r.path == "/logout");
        for route in ordered {
            let (path, foreign) = concrete(route, &fills, false);
            let (missing_path, _) = concrete(route, &fills, true);
            for who in &callers {
                if route.path == "/logout" && who.role.is_some() {
                    continue;
                }
                let status = call(&app, route, &path, who).await;
                calls += 1;
                let who_name = who.role.map_or("nobody", Role::as_str);
                let mut bad = |why: &str| {
                    problems.push(format!(
                        "{engine}: {} {path} as {who_name}: {status} ({why})",
                        route.method
                    ));
                };
                if status.is_server_error() {
                    bad("a server error");
                    continue;
                }
                match (route.access, who.role) {
                    (Access::Public, _) => {}
                    (_, None) => {
                        let refused = if route.path.starts_with("/api/") {
                            status == StatusCode::UNAUTHORIZED
                        } else if route.method == "GET" {
                            status == StatusCode::SEE_OTHER
                        } else {
                            matches!(
                                status,
                                StatusCode::SEE_OTHER
                                    | StatusCode::UNAUTHORIZED
                                    | StatusCode::FORBIDDEN
                            )
                        };
                        if !refused {
                            bad("answered without a login");
                        }
                    }
                    (access, Some(role)) if !access.admits(role) => {
                        if status != StatusCode::FORBIDDEN {
                            bad("the role is not admitted: expected 403");
                        }
                    }
                    (_, Some(_)) if foreign => {
                        // Another organisation's object is indistinguishable
                        // from one that does not exist, and never served.
                        let none = call(&app, route, &missing_path, who).await;
                        if status.is_success() || status.is_redirection() {
                            bad("another organisation's object was served");
                        } else if status != none {
                            bad(&format!(
                                "another organisation's object answers unlike a missing one ({none})"
                            ));
                        }
                    }
                    (_, Some(_)) => {
                        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
                            bad("an admitted role was refused");
                        }
                    }
                }
            }
        }
        assert!(
            problems.is_empty(),
            "{} of {calls} calls broke the declared access:\n{}",
            problems.len(),
            problems.join("\n")
        );
        println!("{engine}: {calls} calls over {} routes", routes.len());
    }
}
