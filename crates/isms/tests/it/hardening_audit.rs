//! Audit coverage: security events in the right organisation's log (and no
//! other's), creations on read under the system, imports in the importing
//! organisation's log, name changes in every organisation of the member,
//! token revocation with before/after, and the chains still verify.

use axum::http::StatusCode;
use isms_domain::Role;
use isms_store::{Actor, AuditEntry, AuditFilter, Org, Store};

use crate::support::{App, PASSWORD, add, multipart, org_with, stores};

async fn log(store: &Store, org: &Org) -> Vec<AuditEntry> {
    store
        .audit_entries(
            org.id,
            &AuditFilter {
                limit: 1000,
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap()
}

async fn sessions(store: &Store, org: &Org) -> Vec<(String, String, String)> {
    store
        .audit_entries(
            org.id,
            &AuditFilter {
                entity_type: Some("session".into()),
                limit: 1000,
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| (e.action, e.actor, e.after_json.unwrap_or_default()))
        .collect()
}

async fn chains_verify(store: &Store, engine: &str) {
    let reports = store.verify_audit_log().await.unwrap();
    assert!(
        reports.iter().all(|r| r.problem.is_none()),
        "{engine}: {reports:?}"
    );
}

/// A failed login through the real form; returns the status.
async fn bad_login(app: &App, email: &str, password: &str) -> StatusCode {
    let form = app.get("/login", None).await;
    let csrf = form.hidden("csrf_token").unwrap();
    let pre = form.cookie("isms_login").unwrap();
    app.post(
        "/login",
        Some(&pre),
        &[
            ("csrf_token", &csrf),
            ("email", email),
            ("password", password),
        ],
        &[],
    )
    .await
    .status
}

#[tokio::test]
async fn security_events_land_in_each_concerned_organisation_only() {
    for (engine, store) in stores().await {
        // Ann belongs to Acme (admin) and Beta (employee); Carl only to Beta;
        // Gamma has nobody of theirs.
        let acme = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let beta = org_with(&store, "Beta", "carl@x.test", Role::Admin).await;
        let gamma = org_with(&store, "Gamma", "gus@x.test", Role::Admin).await;
        add(&store, &beta, "ann@x.test", Role::Employee).await;
        let gamma_before = log(&store, &gamma).await.len();
        let app = App::new(store.clone());

        // A login lands in Acme (first by name): only Acme's log says so.
        let (cookie, csrf) = app.login("ann@x.test", PASSWORD).await;
        let a = sessions(&store, &acme).await;
        assert_eq!(a.len(), 1, "{engine}: {a:?}");
        assert_eq!(a[0].0, "login");
        assert_eq!(a[0].1, "ann@x.test");
        assert!(a[0].2.contains("\"address\":\"127.0.0.1\""), "{}", a[0].2);
        assert!(sessions(&store, &beta).await.is_empty(), "{engine}");

        // A switch to Beta: away in Acme, to in Beta; neither names the other.
        let r = app
            .post(
                "/org/switch",
                Some(&cookie),
                &[("csrf_token", &csrf), ("org", &beta.slug)],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let a = sessions(&store, &acme).await;
        let b = sessions(&store, &beta).await;
        assert_eq!(a.last().unwrap().0, "switch_away", "{engine}");
        assert_eq!(b.last().unwrap().0, "switch_to", "{engine}");
        for (_, _, after) in a.iter().chain(&b) {
            assert!(
                !after.contains("beta") && !after.contains("acme"),
                "{after}"
            );
        }

        // Logout, in the organisation the session was in (Beta).
        let r = app
            .post("/logout", Some(&cookie), &[("csrf_token", &csrf)], &[])
            .await;
        assert!(r.status.is_redirection(), "{engine}: {}", r.status);
        assert_eq!(sessions(&store, &beta).await.last().unwrap().0, "logout");
        assert_eq!(sessions(&store, &acme).await.len(), 2, "{engine}");

        // A wrong password for Ann: in both her organisations, with the
        // address, never the password.
        let secret_guess = "hunter2-wrong-guess";
        assert_eq!(
            bad_login(&app, "ann@x.test", secret_guess).await,
            StatusCode::UNAUTHORIZED
        );
        for org in [&acme, &beta] {
            let (action, actor, after) = sessions(&store, org).await.pop().unwrap();
            assert_eq!(action, "login_failed", "{engine}");
            assert_eq!(actor, "anonymous");
            assert!(after.contains("\"email\":\"ann@x.test\""), "{after}");
            assert!(after.contains("\"address\":\"127.0.0.1\""), "{after}");
            assert!(after.contains("wrong password"), "{after}");
            assert!(
                !after.contains(secret_guess),
                "{engine}: the password leaked"
            );
        }
        // An unknown account: no organisation's log.
        let counts = (
            log(&store, &acme).await.len(),
            log(&store, &beta).await.len(),
        );
        assert_eq!(
            bad_login(&app, "nobody@x.test", "whatever-guess").await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            counts,
            (
                log(&store, &acme).await.len(),
                log(&store, &beta).await.len()
            ),
            "{engine}"
        );

        // Carl (Beta only) is locked out at the fifth failure: five failures
        // and one lockout in Beta, nothing in Acme; the refused sixth try
        // adds nothing.
        let acme_count = log(&store, &acme).await.len();
        for _ in 0..5 {
            assert_eq!(
                bad_login(&app, "carl@x.test", "wrong-password-x").await,
                StatusCode::UNAUTHORIZED
            );
        }
        assert_eq!(
            bad_login(&app, "carl@x.test", "wrong-password-x").await,
            StatusCode::TOO_MANY_REQUESTS
        );
        let b = sessions(&store, &beta).await;
        let carl: Vec<_> = b
            .iter()
            .filter(|(_, _, after)| after.contains("carl@x.test"))
            .map(|(a, _, _)| a.as_str())
            .collect();
        assert_eq!(
            carl,
            [
                "login_failed",
                "login_failed",
                "login_failed",
                "login_failed",
                "login_failed",
                "lockout"
            ],
            "{engine}"
        );
        assert_eq!(log(&store, &acme).await.len(), acme_count, "{engine}");
        assert_eq!(log(&store, &gamma).await.len(), gamma_before, "{engine}");

        // The audit page shows them under the entity type "session".
        let (cookie, _) = app.login("ann@x.test", PASSWORD).await;
        let page = app.get("/audit-log?entity=session", Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{engine}");
        // (as words: the page shows no raw identifiers)
        assert!(
            page.body.contains("<td>Login failed</td>")
                && page.body.contains("<td>Switch away</td>"),
            "{engine}: {}",
            page.body
        );
        assert!(page.body.contains("<td>Session <span class=\"mono\">"));
        chains_verify(&store, engine).await;
    }
}

#[tokio::test]
async fn creations_on_read_are_the_systems_not_the_readers() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let auditor = add(&store, &org, "aud@x.test", Role::Auditor).await;
        let t = store
            .create_token(org.id, auditor, "audit", &Actor::cli())
            .await
            .unwrap()
            .1;
        let app = App::new(store.clone());
        let r = app.api("GET", "/api/v1/readiness", Some(&t)).await;
        assert_eq!(r.status, StatusCode::OK, "{engine}: {}", r.body);
        let r = app.api("GET", "/api/v1/soa", Some(&t)).await;
        assert_eq!(r.status, StatusCode::OK, "{engine}");
        let (cookie, _) = app.login("aud@x.test", PASSWORD).await;
        for path in ["/readiness", "/soa"] {
            assert_eq!(app.get(path, Some(&cookie)).await.status, StatusCode::OK);
        }
        let entries = log(&store, &org).await;
        let by_auditor: Vec<_> = entries
            .iter()
            .filter(|e| e.actor == "aud@x.test" && e.entity_type != "session")
            .map(|e| (&e.action, &e.entity_type))
            .collect();
        assert!(by_auditor.is_empty(), "{engine}: {by_auditor:?}");
        let soa: Vec<_> = entries.iter().filter(|e| e.entity_type == "soa").collect();
        assert_eq!(soa.len(), 1, "{engine}: the SoA is created once");
        assert_eq!(
            (soa[0].actor.as_str(), soa[0].via.as_str()),
            ("system", "system")
        );
        let updated_by: Vec<String> = store
            .soa_entries(org.id, &Actor::cli())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.updated_by)
            .collect();
        assert!(updated_by.iter().all(|u| u == "system"), "{engine}");
        chains_verify(&store, engine).await;
    }
}

#[tokio::test]
async fn the_cli_actor_is_the_operating_system_user() {
    let label = Actor::cli().label;
    let id = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    let name = String::from_utf8(id.stdout).unwrap().trim().to_owned();
    assert_eq!(label, format!("cli ({name})"));
}

#[tokio::test]
async fn name_changes_imports_and_token_revocations_are_in_the_right_logs() {
    for (engine, store) in stores().await {
        let acme = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let beta = org_with(&store, "Beta", "bob@x.test", Role::Admin).await;
        let gamma = org_with(&store, "Gamma", "gus@x.test", Role::Admin).await;
        let ann = add(&store, &beta, "ann@x.test", Role::Employee).await;
        let gamma_before = log(&store, &gamma).await.len();

        // A name change from Acme is in Acme's and Beta's logs.
        store
            .set_display_name(
                acme.id,
                ann,
                "Ann Smith",
                &Actor::user(ann, "ann@x.test", isms_store::Via::Web),
            )
            .await
            .unwrap();
        for org in [&acme, &beta] {
            let e = &log(&store, org).await[0];
            assert_eq!(
                (e.action.as_str(), e.entity_type.as_str()),
                ("update", "user"),
                "{engine}"
            );
            assert!(e.after_json.as_deref().unwrap().contains("Ann Smith"));
        }

        // Token revocation: before names the token, after has the time.
        let (id, _) = store
            .create_token(acme.id, ann, "ci deploy", &Actor::cli())
            .await
            .unwrap();
        store
            .revoke_token(
                acme.id,
                ann,
                id,
                &Actor::user(ann, "ann@x.test", isms_store::Via::Web),
            )
            .await
            .unwrap();
        let e = &log(&store, &acme).await[0];
        assert_eq!(e.action, "revoke");
        let before: serde_json::Value =
            serde_json::from_str(e.before_json.as_deref().unwrap()).unwrap();
        let after: serde_json::Value =
            serde_json::from_str(e.after_json.as_deref().unwrap()).unwrap();
        assert_eq!(before["name"], "ci deploy", "{engine}");
        assert_eq!(before["prefix"], "isms_");
        assert!(before["created_at"].as_str().unwrap().starts_with("20"));
        assert!(before["revoked_at"].is_null());
        assert!(after["revoked_at"].as_str().unwrap().starts_with("20"));

        // A framework and a mapping file imported on the web from Acme: in
        // Acme's log and the installation's, nowhere else.
        let app = App::new(store.clone());
        let (cookie, csrf) = app.login("ann@x.test", PASSWORD).await;
        let beta_before = log(&store, &beta).await.len();
        let csv = "ref_id,parent_ref_id,title\nA,,Alpha\nA.1,A,Alpha one\n";
        let (ct, body) = multipart(Some(&csrf), &[("format", "auto")], "acme-policy.csv", csv);
        let r = app
            .send(
                axum::http::Request::post("/frameworks/import")
                    .header("content-type", ct)
                    .header("cookie", &cookie)
                    .body(axum::body::Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let mapping = "source_framework,source_ref,target_framework,target_ref,relationship\nacme-policy,A.1,iso27001-2022,5.1,related\n";
        let (ct, body) = multipart(Some(&csrf), &[], "acme-map.csv", mapping);
        let r = app
            .send(
                axum::http::Request::post("/mappings/import")
                    .header("content-type", ct)
                    .header("cookie", &cookie)
                    .body(axum::body::Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let imports: Vec<_> = log(&store, &acme)
            .await
            .into_iter()
            .filter(|e| e.action == "import")
            .map(|e| (e.entity_type, e.entity_id, e.actor))
            .collect();
        assert_eq!(
            imports,
            [
                (
                    "mapping_set".to_owned(),
                    "acme-map.csv".to_owned(),
                    "ann@x.test".to_owned()
                ),
                (
                    "framework".to_owned(),
                    "acme-policy".to_owned(),
                    "ann@x.test".to_owned()
                ),
            ],
            "{engine}"
        );
        let system = store.system_audit_entries(10).await.unwrap();
        assert!(
            !system.iter().any(|e| e.entity_id == "acme-policy"),
            "{engine}: an organisation's private import is not an installation change"
        );
        assert_eq!(log(&store, &beta).await.len(), beta_before, "{engine}");
        assert_eq!(log(&store, &gamma).await.len(), gamma_before, "{engine}");
        chains_verify(&store, engine).await;
    }
}

/// The invitation secret in a page (`token=…` of its link).
fn invite_token(body: &str) -> String {
    let at = body.find("/invite?token=").expect("an invitation link") + "/invite?token=".len();
    body[at..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

async fn invite(
    app: &App,
    cookie: &str,
    csrf: &str,
    email: &str,
    role: &str,
) -> (StatusCode, String) {
    let r = app
        .post(
            "/admin/users",
            Some(cookie),
            &[("csrf_token", csrf), ("email", email), ("role", role)],
            &[],
        )
        .await;
    (r.status, r.body)
}

#[tokio::test]
async fn adding_a_member_invites_and_reveals_no_account() {
    for (engine, store) in stores().await {
        let acme = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let other = org_with(&store, "Other", "olga@x.test", Role::Admin).await;
        let pat = add(&store, &other, "pat@x.test", Role::Employee).await;
        let other_log = log(&store, &other).await.len();
        let app = App::new(store.clone());
        let (ann, csrf) = app.login("ann@x.test", PASSWORD).await;

        // An address with an account elsewhere and an unknown one: the same
        // status and the same page, but for the address and the link.
        let (s1, known) = invite(&app, &ann, &csrf, "pat@x.test", "risk_owner").await;
        let (s2, unknown) = invite(&app, &ann, &csrf, "neo@x.test", "risk_owner").await;
        assert_eq!(
            (s1, s2),
            (StatusCode::OK, StatusCode::OK),
            "{engine}: {known}"
        );
        let (t1, t2) = (invite_token(&known), invite_token(&unknown));
        assert_eq!(t1.len(), 64);
        assert_ne!(t1, t2);
        assert!(
            known.contains("Invitation created for pat@x.test"),
            "{known}"
        );
        assert_eq!(
            known.replace(&t1, "TOKEN").replace("pat@x.test", "EMAIL"),
            unknown.replace(&t2, "TOKEN").replace("neo@x.test", "EMAIL"),
            "{engine}: the answers differ"
        );
        // No membership without consent, nothing in the other organisation's log.
        assert!(
            store.member(acme.id, pat).await.unwrap().is_none(),
            "{engine}"
        );
        assert_eq!(log(&store, &other).await.len(), other_log, "{engine}");
        let created: Vec<_> = log(&store, &acme)
            .await
            .into_iter()
            .filter(|e| e.entity_type == "invitation" && e.action == "create")
            .collect();
        assert_eq!(created.len(), 2, "{engine}");
        assert!(
            !created[0].after_json.as_deref().unwrap().contains(&t2),
            "no secret in the log"
        );
        let users = app.get("/admin/users", Some(&ann)).await;
        assert_eq!(users.body.matches(">Pending<").count(), 2, "{engine}");
        assert!(!users.body.contains(&t1), "the link is shown once");
        // The secret is stored hashed.
        let n = store
            .execute_raw(&format!(
                "UPDATE invitations SET email = email WHERE token_hash = '{t1}'"
            ))
            .await
            .unwrap();
        assert_eq!(n, 0, "{engine}: the token is not stored as is");

        // Opening the links without a session: the same neutral page.
        let p1 = app.get(&format!("/invite?token={t1}"), None).await;
        let p2 = app.get(&format!("/invite?token={t2}"), None).await;
        assert_eq!((p1.status, p2.status), (StatusCode::OK, StatusCode::OK));
        assert_eq!(
            p1.body.replace(&t1, "TOKEN").replace("pat@x.test", "EMAIL"),
            p2.body.replace(&t2, "TOKEN").replace("neo@x.test", "EMAIL"),
            "{engine}: the invitation page tells whether an account exists"
        );

        // The existing account accepts while logged in as itself.
        let (pat_cookie, _) = app.login("pat@x.test", PASSWORD).await;
        let page = app
            .get(&format!("/invite?token={t1}"), Some(&pat_cookie))
            .await;
        assert!(
            page.body.contains("Accept and join Acme"),
            "{engine}: {}",
            page.body
        );
        let pat_csrf = page.hidden("csrf_token").unwrap();
        let r = app
            .post(
                "/invite/accept",
                Some(&pat_cookie),
                &[("csrf_token", &pat_csrf), ("token", &t1)],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let m = store.member(acme.id, pat).await.unwrap().unwrap();
        assert_eq!(m.role, Role::RiskOwner);
        let accepted: Vec<_> = log(&store, &acme)
            .await
            .into_iter()
            .filter(|e| e.actor == "pat@x.test")
            .map(|e| (e.action, e.entity_type))
            .collect();
        assert!(
            accepted.contains(&("accept".into(), "invitation".into()))
                && accepted.contains(&("create".into(), "membership".into())),
            "{engine}: {accepted:?}"
        );
        // Used once only.
        let again = app
            .get(&format!("/invite?token={t1}"), Some(&pat_cookie))
            .await;
        assert_eq!(again.status, StatusCode::GONE, "{engine}");
        assert!(again.body.contains("already used"));
        let r = app
            .post(
                "/invite/accept",
                Some(&pat_cookie),
                &[("csrf_token", &pat_csrf), ("token", &t1)],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::GONE, "{engine}");

        // The unknown address makes its account on the invitation page; a
        // weak password first is refused and creates nothing.
        let r = app
            .post(
                "/invite",
                None,
                &[
                    ("token", &t2),
                    ("name", "Neo"),
                    ("password", "short"),
                    ("password_confirm", "short"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(store.user_by_email("neo@x.test").await.unwrap().is_none());
        let r = app
            .post(
                "/invite",
                None,
                &[
                    ("token", &t2),
                    ("name", "Neo"),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let neo = store.user_by_email("neo@x.test").await.unwrap().unwrap();
        assert_eq!(neo.display_name, "Neo");
        assert_eq!(
            store.member(acme.id, neo.id).await.unwrap().unwrap().role,
            Role::RiskOwner
        );
        app.login("neo@x.test", PASSWORD).await;

        // The wrong account cannot accept; a pending invitation is not for
        // creating an account that exists.
        let (_, body) = invite(&app, &ann, &csrf, "olga@x.test", "auditor").await;
        let t3 = invite_token(&body);
        let r = app
            .post(
                "/invite/accept",
                Some(&ann),
                &[("csrf_token", &csrf), ("token", &t3)],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(
            r.body.contains("this invitation is for olga@x.test")
                || r.body.contains("This invitation is for olga@x.test"),
            "{}",
            r.body
        );
        let r = app
            .post(
                "/invite",
                None,
                &[
                    ("token", &t3),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{engine}");
        let olga = store.user_by_email("olga@x.test").await.unwrap().unwrap();
        assert!(store.member(acme.id, olga.id).await.unwrap().is_none());
        assert!(
            isms_domain::password::verify_password(PASSWORD, &olga.password_hash),
            "{engine}: the existing password is untouched"
        );

        // Another organisation's admin cannot revoke it; Acme's admin can.
        let id3 = store.invitations(acme.id).await.unwrap()[0].id;
        let (olga_cookie, olga_csrf) = app.login("olga@x.test", PASSWORD).await;
        let r = app
            .post(
                &format!("/admin/invitations/{id3}/revoke"),
                Some(&olga_cookie),
                &[("csrf_token", &olga_csrf)],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{engine}");
        assert_eq!(
            app.get(&format!("/invite?token={t3}"), None).await.status,
            StatusCode::OK
        );
        let r = app
            .post(
                &format!("/admin/invitations/{id3}/revoke"),
                Some(&ann),
                &[("csrf_token", &csrf)],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let gone = app.get(&format!("/invite?token={t3}"), None).await;
        assert_eq!(gone.status, StatusCode::GONE);
        assert!(gone.body.contains("revoked"), "{}", gone.body);
        let revoked = &log(&store, &acme).await[0];
        assert_eq!(
            (revoked.action.as_str(), revoked.entity_type.as_str()),
            ("revoke", "invitation")
        );
        assert!(
            revoked
                .before_json
                .as_deref()
                .unwrap()
                .contains("olga@x.test")
        );

        // Bad input: a member of this organisation, a second pending
        // invitation, a cross-site form, a name too long.
        let (s, body) = invite(&app, &ann, &csrf, " PAT@X.test ", "employee").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(body.contains("already a member"), "{body}");
        let (s, body) = invite(&app, &ann, &csrf, "kim@x.test", "employee").await;
        assert_eq!(s, StatusCode::OK);
        let t5 = invite_token(&body);
        let (s, body) = invite(&app, &ann, &csrf, "Kim@X.test", "auditor").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(body.contains("pending invitation"), "{body}");
        let form = [
            ("token", t5.as_str()),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ];
        let r = app
            .post("/invite", None, &form, &[("sec-fetch-site", "cross-site")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{engine}");
        let long = "n".repeat(121);
        let r = app
            .post(
                "/invite",
                None,
                &[("name", long.as_str()), form[0], form[1], form[2]],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(store.user_by_email("kim@x.test").await.unwrap().is_none());
        let r = app
            .post(
                "/invite",
                None,
                &[("name", "Kim"), form[0], form[1], form[2]],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);

        // An expired invitation is refused; an unknown token is not found.
        let (_, body) = invite(&app, &ann, &csrf, "late@x.test", "employee").await;
        let t4 = invite_token(&body);
        store
            .execute_raw("UPDATE invitations SET created_at = '2000-01-01T00:00:00.000000Z', expires_at = '2000-01-08T00:00:00.000000Z' WHERE email = 'late@x.test'")
            .await
            .unwrap();
        let r = app.get(&format!("/invite?token={t4}"), None).await;
        assert_eq!(r.status, StatusCode::GONE, "{engine}");
        assert!(r.body.contains("expired"));
        let r = app
            .post(
                "/invite",
                None,
                &[
                    ("token", &t4),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::GONE, "{engine}");
        assert!(store.user_by_email("late@x.test").await.unwrap().is_none());
        let r = app.get("/invite?token=00ff", None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{engine}");
        let r = app.get("/invite", None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{engine}");

        chains_verify(&store, engine).await;
    }
}

#[tokio::test]
async fn concurrent_invitations_of_one_address_make_one() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let store = store.clone();
            let org_id = org.id;
            tasks.push(tokio::spawn(async move {
                store
                    .create_invitation(org_id, "same@x.test", Role::Employee, &Actor::cli())
                    .await
            }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(isms_store::StoreError::Conflict(m)) => assert!(m.contains("pending"), "{m}"),
                Err(e) => panic!("{engine}: {e}"),
            }
        }
        assert_eq!(ok, 1, "{engine}: exactly one invitation");
        assert_eq!(store.invitations(org.id).await.unwrap().len(), 1);
        chains_verify(&store, engine).await;
    }
}

#[tokio::test]
async fn logging_in_from_the_invitation_comes_back_to_accept() {
    for (engine, store) in stores().await {
        let acme = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let other = org_with(&store, "Other", "pat@x.test", Role::Admin).await;
        let (_, token) = store
            .create_invitation(acme.id, "pat@x.test", Role::Auditor, &Actor::cli())
            .await
            .unwrap();
        let app = App::new(store.clone());
        let page = app.get(&format!("/invite?token={token}"), None).await;
        let at = page.body.find("href=\"/login?next=").unwrap() + "href=\"".len();
        let link = page.body[at..]
            .split('"')
            .next()
            .unwrap()
            .replace("&amp;", "&");
        let form = app.get(&link, None).await;
        let next = form.hidden("next").unwrap();
        assert_eq!(next, format!("/invite?token={token}"), "{engine}");
        let r = app
            .post(
                "/login",
                Some(&form.cookie("isms_login").unwrap()),
                &[
                    ("csrf_token", &form.hidden("csrf_token").unwrap()),
                    ("email", "pat@x.test"),
                    ("password", PASSWORD),
                    ("next", &next),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}");
        assert_eq!(r.header("location").unwrap(), next);
        let cookie = r.cookie("isms_session").unwrap();
        let page = app.get(&next, Some(&cookie)).await;
        assert!(page.body.contains("Accept and join Acme"), "{engine}");
        assert!(
            store
                .member(
                    acme.id,
                    store.user_by_email("pat@x.test").await.unwrap().unwrap().id
                )
                .await
                .unwrap()
                .is_none(),
            "{engine}: logging in alone does not join"
        );
        let r = app
            .post(
                "/invite/accept",
                Some(&cookie),
                &[
                    ("csrf_token", &page.hidden("csrf_token").unwrap()),
                    ("token", &token),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}");
        // Now in Acme, as an auditor; the switch is in both logs.
        let me = app.get("/profile", Some(&cookie)).await;
        assert!(me.body.contains("Acme"), "{engine}");
        assert_eq!(
            sessions(&store, &other).await.last().unwrap().0,
            "switch_away"
        );
        assert_eq!(sessions(&store, &acme).await.last().unwrap().0, "switch_to");
        // Without the CSRF token the accept is refused.
        let (_, t2) = store
            .create_invitation(acme.id, "zoe@x.test", Role::Auditor, &Actor::cli())
            .await
            .unwrap();
        let r = app
            .post("/invite/accept", Some(&cookie), &[("token", &t2)], &[])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{engine}");
    }
}
