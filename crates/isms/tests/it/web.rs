//! The web application in-process: login, sessions, CSRF, roles, tenants,
//! the API and its OpenAPI document, on every engine.

use axum::http::StatusCode;
use isms_domain::Role;
use isms_store::Actor;

use crate::support::{App, PASSWORD, add, org_with, stores};

#[tokio::test]
async fn health_login_dashboard_and_logout() {
    for (engine, store) in stores().await {
        org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let app = App::new(store);
        let h = app.get("/healthz", None).await;
        assert_eq!(
            (h.status, h.body.as_str()),
            (StatusCode::OK, "ok"),
            "{engine}"
        );

        // Not logged in: pages send you to the login form.
        let r = app.get("/", None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(r.header("location").unwrap().starts_with("/login?next=%2F"));

        let form = app.get("/login", None).await;
        let csrf = form.hidden("csrf_token").unwrap();
        let pre = form.cookie("isms_login").unwrap();
        let r = app
            .post(
                "/login",
                Some(&pre),
                &[
                    ("csrf_token", &csrf),
                    ("email", "ann@acme.test"),
                    ("password", PASSWORD),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let set = r.header("set-cookie").unwrap();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        assert!(!set.contains("Secure"), "plain HTTP gets no Secure flag");
        let cookie = r.cookie("isms_session").unwrap();

        let dash = app.get("/", Some(&cookie)).await;
        assert_eq!(dash.status, StatusCode::OK);
        assert!(dash.body.contains("Acme Ltd"));
        assert!(
            dash.header("content-security-policy")
                .unwrap()
                .contains("script-src 'self'")
        );
        assert_eq!(
            dash.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
        let page_csrf = dash.hidden("csrf_token").unwrap();
        let summary = app.get("/readiness/summary", Some(&cookie)).await;
        assert_eq!(summary.status, StatusCode::OK, "{engine}");
        assert!(summary.body.contains("readiness-percent") && !summary.body.contains("<html"));

        // Logout without the token is refused and the session lives on.
        let r = app.post("/logout", Some(&cookie), &[], &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{engine}");
        assert!(r.body.contains("nothing was changed"));
        assert_eq!(app.get("/", Some(&cookie)).await.status, StatusCode::OK);
        // A wrong token, or the right one from another site, is refused too.
        let r = app
            .post("/logout", Some(&cookie), &[("csrf_token", "0000")], &[])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = app
            .post(
                "/logout",
                Some(&cookie),
                &[("csrf_token", &page_csrf)],
                &[("sec-fetch-site", "cross-site")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(app.get("/", Some(&cookie)).await.status, StatusCode::OK);
        // htmx sends the token as a header.
        let r = app
            .post(
                "/logout",
                Some(&cookie),
                &[],
                &[("x-csrf-token", &page_csrf)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(
            app.get("/", Some(&cookie)).await.status,
            StatusCode::SEE_OTHER,
            "{engine}: session ended"
        );
    }
}

#[tokio::test]
async fn bad_logins_are_refused_and_limited() {
    for (engine, store) in stores().await {
        org_with(&store, "Acme", "ann@acme.test", Role::Admin).await;
        let app = App::new(store);
        let form = app.get("/login", None).await;
        let csrf = form.hidden("csrf_token").unwrap();
        let pre = form.cookie("isms_login").unwrap();

        // A forged token is refused even when the cookie repeats it.
        let forged = "1.2.3";
        let r = app
            .post(
                "/login",
                Some(&format!("isms_login={forged}")),
                &[
                    ("csrf_token", forged),
                    ("email", "ann@acme.test"),
                    ("password", PASSWORD),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{engine}");
        // A token from another form load than the cookie's is refused too.
        let other = app.get("/login", None).await.hidden("csrf_token").unwrap();
        let r = app
            .post(
                "/login",
                Some(&pre),
                &[
                    ("csrf_token", &other),
                    ("email", "ann@acme.test"),
                    ("password", PASSWORD),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{engine}");
        // No login token: 403, whatever the password.
        let r = app
            .post(
                "/login",
                None,
                &[("email", "ann@acme.test"), ("password", PASSWORD)],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{engine}");
        assert!(r.cookie("isms_session").is_none());

        let unknown = app
            .post(
                "/login",
                Some(&pre),
                &[
                    ("csrf_token", &csrf),
                    ("email", "nobody@acme.test"),
                    ("password", PASSWORD),
                ],
                &[],
            )
            .await;
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        assert!(unknown.body.contains("e-mail address or password is wrong"));
        for _ in 0..5 {
            let r = app
                .post(
                    "/login",
                    Some(&pre),
                    &[
                        ("csrf_token", &csrf),
                        ("email", "ann@acme.test"),
                        ("password", "wrong password!!"),
                    ],
                    &[],
                )
                .await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        }
        // The account is now locked for a while, even with the right password.
        let r = app
            .post(
                "/login",
                Some(&pre),
                &[
                    ("csrf_token", &csrf),
                    ("email", "ann@acme.test"),
                    ("password", PASSWORD),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{engine}");
        assert!(r.body.contains("Too many failed attempts"));
        assert!(r.cookie("isms_session").is_none());
    }
}

#[tokio::test]
async fn expired_sessions_are_sent_to_login_with_a_reason() {
    for (engine, store) in stores().await {
        org_with(&store, "Acme", "ann@acme.test", Role::Admin).await;
        let app = App::new(store.clone());
        let (cookie, csrf) = app.login("ann@acme.test", PASSWORD).await;
        store
            .execute_raw("UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000000Z'")
            .await
            .unwrap();
        let r = app.get("/", Some(&cookie)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}");
        assert!(r.header("location").unwrap().contains("reason=expired"));
        let r = app
            .post("/logout", Some(&cookie), &[("csrf_token", &csrf)], &[])
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{engine}: the session is gone"
        );
        assert!(r.body.contains("nothing was changed"));
    }
}

#[tokio::test]
async fn roles_are_checked_on_every_page() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "admin@acme.test", Role::Admin).await;
        add(&store, &org, "emp@acme.test", Role::Employee).await;
        add(&store, &org, "aud@acme.test", Role::Auditor).await;
        let app = App::new(store.clone());
        let (emp, emp_csrf) = app.login("emp@acme.test", PASSWORD).await;
        let (aud, _) = app.login("aud@acme.test", PASSWORD).await;

        let r = app.get("/admin/users", Some(&emp)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{engine}");
        assert!(r.body.contains("does not allow this"));
        assert_eq!(
            app.get("/audit-log", Some(&emp)).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get("/audit-log", Some(&aud)).await.status,
            StatusCode::OK
        );
        assert_eq!(
            app.get("/admin/users", Some(&aud)).await.status,
            StatusCode::FORBIDDEN
        );

        // An employee cannot add members even with a valid CSRF token.
        let before = store.members(org.id).await.unwrap().len();
        let r = app
            .post(
                "/admin/users",
                Some(&emp),
                &[
                    ("csrf_token", &emp_csrf),
                    ("email", "new@acme.test"),
                    ("role", "admin"),
                    ("password", PASSWORD),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(
            store.members(org.id).await.unwrap().len(),
            before,
            "{engine}: nothing changed"
        );
    }
}

#[tokio::test]
async fn admins_manage_members_of_their_own_organisation_only() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "admin@acme.test", Role::Admin).await;
        let rival = org_with(&store, "Rival", "boss@rival.test", Role::Admin).await;
        let rival_emp = add(&store, &rival, "emp@rival.test", Role::Employee).await;
        let app = App::new(store.clone());
        let (admin, csrf) = app.login("admin@acme.test", PASSWORD).await;

        // A malformed address or an unknown role is refused and nothing is stored.
        let r = app
            .post(
                "/admin/users",
                Some(&admin),
                &[
                    ("csrf_token", &csrf),
                    ("email", "not-an-address"),
                    ("role", "risk_owner"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(store.invitations(org.id).await.unwrap().is_empty());
        let r = app
            .post(
                "/admin/users",
                Some(&admin),
                &[
                    ("csrf_token", &csrf),
                    ("email", "new@acme.test"),
                    ("role", "superuser"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("unknown role"));

        // A new member comes in by invitation, making their account on its page.
        let r = app
            .post(
                "/admin/users",
                Some(&admin),
                &[
                    ("csrf_token", &csrf),
                    ("email", "new@acme.test"),
                    ("role", "risk_owner"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{engine}: {}", r.body);
        let at = r.body.find("/invite?token=").unwrap() + "/invite?token=".len();
        let token: String = r.body[at..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect();
        let r = app
            .post(
                "/invite",
                None,
                &[
                    ("token", &token),
                    ("name", "Nia"),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let new_id = store
            .user_by_email("new@acme.test")
            .await
            .unwrap()
            .unwrap()
            .id;

        // htmx role change answers with the row.
        let r = app
            .post(
                &format!("/admin/users/{new_id}/role"),
                Some(&admin),
                &[("role", "control_owner")],
                &[("x-csrf-token", &csrf), ("hx-request", "true")],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{engine}: {}", r.body);
        assert!(r.body.starts_with("<tr id=\"member-"));
        assert_eq!(
            store.member(org.id, new_id).await.unwrap().unwrap().role,
            Role::ControlOwner
        );

        // Another organisation's member id: 404, and nothing changes there.
        let r = app
            .post(
                &format!("/admin/users/{rival_emp}/deactivate"),
                Some(&admin),
                &[("csrf_token", &csrf)],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{engine}");
        assert!(
            store
                .member(rival.id, rival_emp)
                .await
                .unwrap()
                .unwrap()
                .active
        );
        let r = app.get("/admin/users", Some(&admin)).await;
        assert!(
            !r.body.contains("rival.test"),
            "{engine}: another tenant's members are invisible"
        );

        // An htmx error comes back as a fragment, not a whole page.
        let me = store
            .user_by_email("admin@acme.test")
            .await
            .unwrap()
            .unwrap()
            .id;
        let r = app
            .post(
                &format!("/admin/users/{me}/deactivate"),
                Some(&admin),
                &[],
                &[("x-csrf-token", &csrf), ("hx-request", "true")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.body.contains("last active administrator") && !r.body.contains("<html"),
            "{}",
            r.body
        );
    }
}

#[tokio::test]
async fn password_change_checks_the_current_one_and_ends_other_sessions() {
    for (engine, store) in stores().await {
        org_with(&store, "Acme", "ann@acme.test", Role::Admin).await;
        let app = App::new(store.clone());
        let (one, csrf) = app.login("ann@acme.test", PASSWORD).await;
        let (two, _) = app.login("ann@acme.test", PASSWORD).await;
        let r = app
            .post(
                "/profile/password",
                Some(&one),
                &[
                    ("csrf_token", &csrf),
                    ("current", "not it at all"),
                    ("new_password", "a brand new passphrase"),
                    ("confirm", "a brand new passphrase"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(r.body.contains("current password is not right"));
        let r = app
            .post(
                "/profile/password",
                Some(&one),
                &[
                    ("csrf_token", &csrf),
                    ("current", PASSWORD),
                    ("new_password", "a brand new passphrase"),
                    ("confirm", "a brand new passphrase"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        assert_eq!(app.get("/", Some(&one)).await.status, StatusCode::OK);
        assert_eq!(
            app.get("/", Some(&two)).await.status,
            StatusCode::SEE_OTHER,
            "{engine}: other session ended"
        );
        app.login("ann@acme.test", "a brand new passphrase").await;
    }
}

#[tokio::test]
async fn the_organisation_switcher_changes_the_current_organisation() {
    for (engine, store) in stores().await {
        org_with(&store, "Alpha", "ann@x.test", Role::Admin).await;
        let beta = org_with(&store, "Beta", "bea@x.test", Role::Admin).await;
        add(&store, &beta, "ann@x.test", Role::Auditor).await;
        let app = App::new(store);
        let (cookie, csrf) = app.login("ann@x.test", PASSWORD).await;
        let dash = app.get("/", Some(&cookie)).await;
        assert!(
            dash.body.contains("<h1>Alpha</h1>") && dash.body.contains("org-switch"),
            "{engine}"
        );
        let r = app
            .post(
                "/org/switch",
                Some(&cookie),
                &[("csrf_token", &csrf), ("org", "beta")],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let dash = app.get("/", Some(&cookie)).await;
        assert!(
            dash.body.contains("<h1>Beta</h1>") && dash.body.contains("Auditor"),
            "{engine}"
        );
        let r = app
            .post(
                "/org/switch",
                Some(&cookie),
                &[("csrf_token", &csrf), ("org", "nowhere")],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn the_api_answers_with_tokens_and_problem_documents() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::IsmsManager).await;
        let ann = store.user_by_email("ann@acme.test").await.unwrap().unwrap();
        let (id, token) = store
            .create_token(org.id, ann.id, "t", &Actor::cli())
            .await
            .unwrap();
        let app = App::new(store.clone());

        let r = app.api("GET", "/api/v1/me", Some(&token)).await;
        assert_eq!(r.status, StatusCode::OK, "{engine}");
        let me: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(me["user"]["email"], "ann@acme.test");
        assert_eq!(me["organisation"]["name"], "Acme Ltd");
        assert_eq!(me["role"], "isms_manager");
        assert_eq!(
            r.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );

        for t in [None, Some("isms_nope")] {
            let r = app.api("GET", "/api/v1/me", t).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
            assert_eq!(
                r.header("content-type").as_deref(),
                Some("application/problem+json")
            );
            let p: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            assert_eq!(p["status"], 401);
            assert!(p["detail"].as_str().unwrap().len() > 10);
        }
        store
            .revoke_token(org.id, ann.id, id, &Actor::cli())
            .await
            .unwrap();
        assert_eq!(
            app.api("GET", "/api/v1/me", Some(&token)).await.status,
            StatusCode::UNAUTHORIZED,
            "{engine}"
        );

        let r = app.api("GET", "/api/v1/nothing-here", None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/problem+json")
        );
    }
}

#[test]
fn every_api_route_is_in_the_openapi_document() {
    let doc = serde_json::to_value(isms_web::openapi_document()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for route in [
        "/me",
        "/frameworks",
        "/frameworks/{id}",
        "/frameworks/{id}/requirements",
        "/requirements/{id}",
        "/fair/simulate",
    ] {
        assert!(
            paths.contains_key(route),
            "{route} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn the_one_time_setup_link_creates_the_first_admin() {
    for (engine, store) in stores().await {
        let token = store
            .create_setup_token(&isms_store::time_from_now(time::Duration::hours(1)))
            .await
            .unwrap();
        let app = App::new(store.clone());
        assert_eq!(
            app.get("/setup?token=wrong", None).await.status,
            StatusCode::FORBIDDEN
        );
        let r = app.get(&format!("/setup?token={token}"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{engine}");
        let r = app
            .post(
                "/setup",
                None,
                &[
                    ("token", &token),
                    ("org_name", "Acme"),
                    ("email", "ann@acme.test"),
                    ("password", "short"),
                    ("password_confirm", "short"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            store.count_orgs().await.unwrap(),
            0,
            "{engine}: nothing half-created"
        );
        let r = app
            .post(
                "/setup",
                None,
                &[
                    ("token", &token),
                    ("org_name", "Acme"),
                    ("email", "ann@acme.test"),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        app.login("ann@acme.test", PASSWORD).await;
        // The link is spent.
        assert_eq!(
            app.get(&format!("/setup?token={token}"), None).await.status,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn a_client_that_keeps_no_cookies_logs_in_with_the_signed_form_token() {
    for (engine, store) in stores().await {
        org_with(&store, "Acme", "ann@acme.test", Role::Admin).await;
        let app = App::new(store);
        let csrf = app.get("/login", None).await.hidden("csrf_token").unwrap();
        let r = app
            .post(
                "/login",
                None,
                &[
                    ("csrf_token", &csrf),
                    ("email", "ann@acme.test"),
                    ("password", PASSWORD),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        // ... but not from another site.
        let r = app
            .post(
                "/login",
                None,
                &[
                    ("csrf_token", &csrf),
                    ("email", "ann@acme.test"),
                    ("password", PASSWORD),
                ],
                &[("origin", "https://evil.example"), ("host", "isms.example")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{engine}");
    }
}

/// The favicon is served (no 404 on every first visit), and the layout
/// shows the navigation grouped and only what the role may open.
#[tokio::test]
async fn the_favicon_and_the_navigation_of_each_role() {
    let (_, store) = stores().await.remove(0);
    let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
    add(&store, &org, "eve@acme.test", Role::Employee).await;
    let app = App::new(store.clone());
    let icon = app.get("/favicon.ico", None).await;
    assert_eq!(icon.status, StatusCode::OK);
    assert_eq!(
        icon.header("content-type").as_deref(),
        Some("image/svg+xml")
    );
    assert!(icon.body.starts_with("<svg"));

    let (admin, _) = app.login("ann@acme.test", PASSWORD).await;
    let page = app.get("/soa", Some(&admin)).await;
    let nav = &page.body[page.body.find("<nav id=\"mainnav\"").unwrap()..];
    let nav = &nav[..nav.find("</nav>").unwrap()];
    for group in [
        "Plan",
        "Do",
        "Check",
        "Improve",
        "Frameworks",
        "Administration",
    ] {
        assert!(nav.contains(&format!(">{group}</p>")), "{group}: {nav}");
    }
    assert!(nav.contains("<a href=\"/training\">Training</a>"), "{nav}");
    assert!(
        nav.contains("<a href=\"/soa\" aria-current=\"page\">"),
        "{nav}"
    );
    assert_eq!(nav.matches("aria-current").count(), 1, "{nav}");
    // A detail page has breadcrumbs back to its section.
    let detail = app.get("/soa/5.1", Some(&admin)).await;
    assert!(
        detail
            .body
            .contains("<nav class=\"crumbs\" aria-label=\"Breadcrumb\">")
            && detail
                .body
                .contains("<a href=\"/soa\">Statement of Applicability</a>")
            && detail
                .body
                .contains("<span aria-current=\"page\">5.1</span>"),
        "{}",
        detail.body
    );

    let (employee, _) = app.login("eve@acme.test", PASSWORD).await;
    let page = app.get("/", Some(&employee)).await;
    let nav = &page.body[page.body.find("<nav id=\"mainnav\"").unwrap()..];
    let nav = &nav[..nav.find("</nav>").unwrap()];
    let links: Vec<&str> = nav
        .split("<a href=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(
        links,
        [
            "/",
            "/tasks",
            "/inbox",
            "/training",
            "/me/documents",
            "/frameworks",
            "/profile"
        ],
        "{nav}"
    );
}

/// Home is per role: an employee sees their (empty) work and no
/// administrative counts; a manager the ISMS status, each figure a link
/// to the list it counts.
#[tokio::test]
async fn home_shows_each_role_what_it_acts_on() {
    let (_, store) = stores().await.remove(0);
    let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
    add(&store, &org, "eve@acme.test", Role::Employee).await;
    add(&store, &org, "mia@acme.test", Role::IsmsManager).await;
    let app = App::new(store.clone());

    let (eve, _) = app.login("eve@acme.test", PASSWORD).await;
    let home = app.get("/", Some(&eve)).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body.contains("Nothing is waiting for you."),
        "{}",
        home.body
    );
    for hidden in [
        "active members",
        "Statement of Applicability</h2>",
        "audit log entries",
        "/readiness/summary",
    ] {
        assert!(!home.body.contains(hidden), "employee sees {hidden}");
    }

    let (mia, csrf) = app.login("mia@acme.test", PASSWORD).await;
    // Mia owns one control; 5.1 gets a justification.
    let r = app
        .post(
            "/soa/5.1",
            Some(&mia),
            &[
                ("csrf_token", &csrf),
                ("version", "1"),
                ("applicable", "yes"),
                ("justification", "Policies are the base of the ISMS"),
                ("status", "implemented"),
                ("owner", "mia@acme.test"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let home = app.get("/", Some(&mia)).await;
    let link = |href: &str, n: &str, label: &str| {
        format!(
            "<a class=\"stat\" href=\"{href}\"><span class=\"n\">{n}</span><span class=\"l\">{label}</span></a>"
        )
    };
    for expected in [
        link("/soa?owner=mia%40acme.test", "1", "SoA controls you own"),
        link(
            "/soa?applicable=yes&#38;status=implemented",
            "1",
            "implemented",
        ),
        link("/soa?justification=missing", "92", "without justification"),
        link("/soa?applicable=yes", "93", "applicable controls"),
    ] {
        assert!(home.body.contains(&expected), "{expected}\n{}", home.body);
    }
    assert!(home.body.contains("No gap assessment yet."));
    assert!(
        !home.body.contains("active members"),
        "not an administrator"
    );
    assert!(
        home.body.contains("changes in the last 7 days"),
        "reads the audit log"
    );
    // The lists behind the figures.
    let list = app.get("/soa?justification=missing", Some(&mia)).await;
    assert!(
        list.body
            .contains("92 of 93 controls shown: those without a justification")
    );
    assert!(!list.body.contains("id=\"c-5.1\""));
    let list = app.get("/soa?owner=mia%40acme.test", Some(&mia)).await;
    assert!(
        list.body
            .contains("1 of 93 controls shown: those mia@acme.test owns"),
        "{}",
        list.body
    );
    assert!(list.body.contains("id=\"c-5.1\""));
    let list = app
        .get("/soa?applicable=yes&status=implemented", Some(&mia))
        .await;
    assert!(list.body.contains("1 of 93 controls shown"));
}

/// The search box finds requirements, SoA entries and context items; an
/// employee finds requirements only.
#[tokio::test]
async fn the_search_box_looks_across_the_isms() {
    let (_, store) = stores().await.remove(0);
    let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
    add(&store, &org, "eve@acme.test", Role::Employee).await;
    let app = App::new(store.clone());
    let (ann, csrf) = app.login("ann@acme.test", PASSWORD).await;
    let r = app
        .post(
            "/context/items",
            Some(&ann),
            &[
                ("csrf_token", &csrf),
                ("kind", "issue"),
                ("title", "Backup supplier goes out of business"),
                ("category", "external"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get("/", Some(&ann)).await;
    assert!(page.body.contains("action=\"/search\" role=\"search\""));
    let found = app.get("/search?q=backup", Some(&ann)).await;
    assert_eq!(found.status, StatusCode::OK);
    for expected in [
        "<h2 id=\"s-1\">Statement of Applicability",
        "href=\"/soa/8.13\"><span class=\"mono\">8.13</span> Information backup</a>",
        "<h2 id=\"s-2\">Context",
        "Backup supplier goes out of business</a>",
        "<h2 id=\"s-3\">ISO/IEC 27001:2022",
    ] {
        assert!(found.body.contains(expected), "{expected}\n{}", found.body);
    }
    let (eve, _) = app.login("eve@acme.test", PASSWORD).await;
    let found = app.get("/search?q=backup", Some(&eve)).await;
    assert!(found.body.contains("Information backup"));
    assert!(!found.body.contains("/soa/8.13") && !found.body.contains("Backup supplier"));
    let none = app.get("/search?q=zzzqqq", Some(&eve)).await;
    assert!(none.body.contains("Nothing matches “zzzqqq”."));
}
