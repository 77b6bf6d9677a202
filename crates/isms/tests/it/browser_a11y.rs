//! Accessibility in a real browser: axe-core on every page route at 1280
//! and 390 pixels, as an administrator and as an employee (no serious or
//! critical violation, no console error, no sideways scrolling on a
//! phone); a keyboard-only journey through an SoA edit; a phone journey
//! through the menu. Runs when `ISMS_BROWSER_TESTS=1`.
//!
//! axe-core is vendored in `vendor/` (see its README) and injected with
//! WebDriver's execute-script, so it never ships with the product.

use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, Locator};
use isms_domain::Role;
use serde_json::{Value, json};

use crate::browser::{Driver, browser, enabled, setup};
use crate::cli::{Server, start_server};

const AXE: &str = include_str!("vendor/axe.min.js");
const PASSWORD: &str = "correct horse battery";
const ADMIN: &str = "ann@acme.test";
const EMPLOYEE: &str = "eve@acme.test";
const AUDITOR: &str = "aud@acme.test";

#[test]
fn the_vendored_axe_is_the_recorded_release() {
    assert!(AXE.starts_with("/*! axe v4.14.1"));
    let readme = include_str!("vendor/README.md");
    assert!(readme.contains("4.14.1") && readme.contains("MPL-2.0"));
}

/// chromedriver's console log (`goog:loggingPrefs` is set in `browser`):
/// the entries since the last call.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }
    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

async fn console_errors(c: &Client) -> Vec<String> {
    let log = c.issue_cmd(BrowserLog).await.expect("read the browser log");
    log.as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// An organisation with an administrator and an employee, served.
struct Fixture {
    server: Server,
    dir: std::path::PathBuf,
}

fn fixture(name: &str) -> Fixture {
    let dir = std::env::temp_dir().join(format!("isms_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("a11y.db").display());
    setup(&db, &["org", "create", "Acme Ltd"], "");
    for (email, role, who) in [
        (ADMIN, "admin", "Ann Admin"),
        (EMPLOYEE, "employee", "Eve Employee"),
        (AUDITOR, "auditor", "Otto Auditor"),
    ] {
        setup(
            &db,
            &[
                "user",
                "add",
                email,
                "--org",
                "acme-ltd",
                "--role",
                role,
                "--password-stdin",
                "--name",
                who,
            ],
            &format!("{PASSWORD}\n"),
        );
    }
    let server = tokio::task::block_in_place(|| start_server(&db, &dir));
    Fixture { server, dir }
}

async fn wait_loaded(c: &Client) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = c
            .execute("return document.readyState", vec![])
            .await
            .unwrap();
        if state == "complete" {
            return;
        }
        assert!(Instant::now() < deadline, "the page did not finish loading");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn login(c: &Client, base: &str, email: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("form[action='/logout']"))
        .await
        .unwrap();
}

async fn logout(c: &Client) {
    c.execute(
        "document.querySelector(\"form[action='/logout']\").submit()",
        vec![],
    )
    .await
    .unwrap();
    c.wait().for_element(Locator::Id("email")).await.unwrap();
}

/// Fills the form that `selector` finds and submits it; returns the path
/// of the page it leads to.
async fn submit(c: &Client, selector: &str, fields: &[(&str, &str)]) -> String {
    let before = c.current_url().await.unwrap();
    let fields: Vec<Value> = fields.iter().map(|(k, v)| json!([k, v])).collect();
    c.execute(
        "const f = document.querySelector(arguments[0]);
         for (const [k, v] of arguments[1]) { f.elements[k].value = v; }
         f.requestSubmit();",
        vec![json!(selector), json!(fields)],
    )
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = c.current_url().await.unwrap();
        if now != before {
            wait_loaded(c).await;
            return now.path().to_owned();
        }
        assert!(Instant::now() < deadline, "{selector} led nowhere");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Objects whose pages have an id in their address.
struct Ids {
    assessment: String,
    item: String,
    scenario: String,
    requirement: String,
    risk: String,
    asset: String,
    course: String,
    task: String,
    control: String,
    metric: String,
    document: String,
    /// An invitation link (path and query).
    invitation: String,
    audit: String,
    nonconformity: String,
    review: String,
}

async fn create_objects(c: &Client, base: &str) -> Ids {
    c.goto(&format!("{base}/gap")).await.unwrap();
    let assessment = submit(
        c,
        "form[action='/gap'][method=post]",
        &[("title", "Baseline")],
    )
    .await;
    c.goto(&format!("{base}/context")).await.unwrap();
    let item = submit(
        c,
        "form[action='/context/items']",
        &[("title", "Cloud hosting dependency")],
    )
    .await;
    c.goto(&format!("{base}/risk/quantitative")).await.unwrap();
    let scenario = submit(
        c,
        "form[action='/risk/quantitative'][method=post]",
        &[("name", "Ransomware")],
    )
    .await;
    // A run draws the charts of the results.
    submit(c, "form[action$='/run']", &[]).await;
    c.goto(&format!("{base}/frameworks/iso27001-2022"))
        .await
        .unwrap();
    let requirement = c
        .find(Locator::Css("a[href^='/requirements/']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    c.goto(&format!("{base}/inventory")).await.unwrap();
    let asset = submit(
        c,
        "form[action='/inventory'][method=post]",
        &[("name", "Customer database")],
    )
    .await;
    c.goto(&format!("{base}/risks")).await.unwrap();
    let risk = submit(
        c,
        "form[action='/risks'][method=post]",
        &[("title", "Ransomware encrypts the customer database")],
    )
    .await;
    c.goto(&format!("{base}/training")).await.unwrap();
    let course = submit(
        c,
        "form[action='/training/courses'][method=post]",
        &[
            ("title", "Security awareness"),
            ("content", "# Phishing\n\nReport it."),
            ("quiz", "? Report phishing to\n* The service desk\n- Nobody"),
        ],
    )
    .await;
    c.goto(&format!("{base}/tasks")).await.unwrap();
    let task = submit(
        c,
        "form[action='/tasks'][method=post]",
        // The employee's: every role checked below may open it.
        &[("title", "Renew the penetration test"), ("owner", EMPLOYEE)],
    )
    .await;
    c.goto(&format!("{base}/audits")).await.unwrap();
    let audit = submit(
        c,
        "form[action='/audits'][method=post]",
        &[
            ("title", "Access control audit"),
            ("scope", "5.15, 8.5"),
            ("auditors", AUDITOR),
        ],
    )
    .await;
    submit(
        c,
        "form[action$='/findings']",
        &[
            ("requirement", "8.5"),
            ("result", "minor_nonconformity"),
            ("notes", "No MFA on the VPN"),
        ],
    )
    .await;
    let nonconformity = c
        .find(Locator::Css("main a[href^='/nonconformities/']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    c.goto(&format!("{base}/management-reviews")).await.unwrap();
    let review = submit(
        c,
        "form[action='/management-reviews'][method=post]",
        &[("title", "Annual management review")],
    )
    .await;
    c.goto(&format!("{base}/controls")).await.unwrap();
    let control = submit(
        c,
        "form[action='/controls'][method=post]",
        &[
            ("name", "Quarterly access review"),
            ("annex_a", "5.18, 8.5"),
        ],
    )
    .await;
    c.goto(&format!("{base}/metrics")).await.unwrap();
    let metric = submit(
        c,
        "form[action='/metrics'][method=post]",
        &[("name", "Staff trained"), ("unit", "%"), ("target", "95")],
    )
    .await;
    c.goto(&format!("{base}/documents")).await.unwrap();
    let document = submit(
        c,
        "form[action='/documents'][method=post]",
        &[("template", "information-security-policy")],
    )
    .await;
    // Published for everyone, so employees have a page and something to read:
    // four-eyes off (one administrator here), then submit, approve, publish.
    c.goto(&format!("{base}/documents")).await.unwrap();
    c.execute(
        "document.querySelector(\"form[action='/documents/settings'] input[name=four_eyes]\").checked = false;",
        vec![],
    )
    .await
    .unwrap();
    submit(c, "form[action='/documents/settings']", &[]).await;
    c.goto(&format!("{base}{document}")).await.unwrap();
    submit(c, "form[action$='/submit']", &[]).await;
    submit(c, "form[action$='/approve']", &[]).await;
    submit(c, "form[action$='/publish']", &[("acknowledge", "all")]).await;
    c.goto(&format!("{base}/admin/users")).await.unwrap();
    c.execute(
        "const f = document.querySelector(\"form[action='/admin/users']\");
         f.elements.email.value = 'ivy@acme.test'; f.requestSubmit();",
        vec![],
    )
    .await
    .unwrap();
    let link = c
        .wait()
        .for_element(Locator::Id("invite-link"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    let link = url::Url::parse(&link).unwrap();
    let invitation = format!("{}?{}", link.path(), link.query().unwrap_or_default());
    Ids {
        assessment,
        item,
        scenario,
        requirement,
        risk,
        asset,
        course,
        task,
        control,
        metric,
        document,
        invitation,
        audit,
        nonconformity,
        review,
    }
}

/// The address to check for each GET page route, `None` for routes that
/// are not pages (files, fragments) — with the reason.
fn address(path: &str, ids: &Ids) -> Option<String> {
    let fixed = |s: &str| Some(s.to_owned());
    match path {
        // Not HTML pages; downloads; htmx fragments, checked inside their
        // pages (the SoA row editor in the keyboard journey, the readiness
        // summary on the dashboard).
        "/healthz"
        | "/favicon.ico"
        | "/assets/{version}/{name}"
        | "/soa/export"
        | "/risks/export"
        | "/risks/treatment/export"
        | "/training/export"
        | "/training/competence/export"
        | "/controls/export"
        | "/coverage/{framework}/export"
        | "/metrics/export"
        | "/evidence/{evidence}/download"
        | "/gap/{assessment}/report"
        | "/readiness/summary"
        | "/soa/{control}/row"
        | "/soa/{control}/row-edit"
        | "/gap/{assessment}/progress"
        | "/gap/{assessment}/{ref_id}/row"
        | "/gap/{assessment}/{ref_id}/edit"
        | "/audits/{audit}/report"
        | "/nonconformities/export"
        | "/management-reviews/{review}/report"
        | "/documents/export"
        | "/documents/acknowledgements/export"
        | "/documents/{document}/export"
        // Public, not a page: an iCalendar feed.
        | "/calendar/{feed}" => None,
        "/audits/{audit}" => fixed(&ids.audit),
        "/nonconformities/{nonconformity}" => fixed(&ids.nonconformity),
        "/management-reviews/{review}" => fixed(&ids.review),
        "/soa/{control}" => fixed("/soa/5.1"),
        "/search" => fixed("/search?q=access"),
        "/gap/{assessment}" => fixed(&ids.assessment),
        "/context/items/{item}" => fixed(&ids.item),
        "/risk/quantitative/{scenario}" => fixed(&ids.scenario),
        "/frameworks/{framework}" => fixed("/frameworks/iso27001-2022"),
        "/requirements/{requirement}" => fixed(&ids.requirement),
        "/risks/{risk}" => fixed(&ids.risk),
        "/inventory/{asset}" => fixed(&ids.asset),
        "/training/courses/{course}" => fixed(&ids.course),
        "/tasks/{task}" => fixed(&ids.task),
        "/controls/{applied_control}" => fixed(&ids.control),
        "/metrics/{metric}" => fixed(&ids.metric),
        "/coverage/{framework}" => fixed("/coverage/iso27001-2022"),
        "/documents/{document}" => fixed(&ids.document),
        p if !p.contains('{') => fixed(p),
        other => panic!("the accessibility test has no address for {other}: add one"),
    }
}

/// axe-core, console errors and sideways scrolling on the current page.
async fn problems(c: &Client, width: u32) -> Vec<String> {
    wait_loaded(c).await;
    // Let htmx load what the page asks for on load.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut found = Vec::new();
    let has_axe = c
        .execute("return typeof window.axe === 'object'", vec![])
        .await
        .unwrap();
    if has_axe != true {
        c.execute(AXE, vec![]).await.unwrap();
    }
    let result = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']})
               .then(r => done(r.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at ' +
                   v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))))
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    found.extend(
        result
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| v.as_str().unwrap_or_default().to_owned()),
    );
    found.extend(
        console_errors(c)
            .await
            .into_iter()
            .map(|e| format!("console: {e}")),
    );
    if width < 500 {
        let wide = c
            .execute(
                "const d = document.documentElement;
                 if (d.scrollWidth <= window.innerWidth) return null;
                 const wide = [...document.querySelectorAll('body *')]
                   .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                     && !e.closest('.table-wrap'))
                   .slice(-3).map(e => e.tagName + '.' + e.className + '#' + e.id);
                 return d.scrollWidth + ' > ' + window.innerWidth + ' (' + wide.join(', ') + ')';",
                vec![],
            )
            .await
            .unwrap();
        if let Some(w) = wide.as_str() {
            found.push(format!("scrolls sideways: {w}"));
        }
    }
    found
}

async fn set_width(c: &Client, width: u32) {
    c.set_window_size(width, 900).await.unwrap();
    let inner = c.execute("return window.innerWidth", vec![]).await.unwrap();
    assert!(
        inner
            .as_u64()
            .is_some_and(|w| w.abs_diff(u64::from(width)) < 20),
        "window is {inner} wide, not {width}"
    );
}

fn shot_dir() -> Option<std::path::PathBuf> {
    std::env::var("ISMS_SCREENSHOT_DIR").ok().map(Into::into)
}

async fn shot(c: &Client, name: &str) {
    if let Some(dir) = shot_dir() {
        let png = c.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_passes_axe_at_1280_and_390_as_administrator_employee_and_auditor() {
    if !enabled() {
        return;
    }
    let fx = fixture("a11y");
    let base = fx.server.base.clone();
    let (c, _driver): (Client, Driver) = browser(None).await;
    login(&c, &base, ADMIN).await;
    let ids = create_objects(&c, &base).await;
    logout(&c).await;
    let _ = console_errors(&c).await;

    let routes: Vec<_> = isms_web::routes::route_table()
        .into_iter()
        .map(|(r, _)| r)
        .filter(|r| r.method == "GET" && !r.path.starts_with("/api/"))
        .filter_map(|r| address(&r.path, &ids).map(|a| (r, a)))
        .collect();
    let public = ["/login", "/setup", "/invite"];
    // The set-up page exists only before the first organisation: a second
    // server with an empty database shows it.
    let empty = fx.dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let fresh_db = format!("sqlite://{}", empty.join("empty.db").display());
    let fresh = tokio::task::block_in_place(|| start_server(&fresh_db, &empty));
    let token = isms_store::Store::connect(&fresh_db)
        .await
        .unwrap()
        .create_setup_token(&isms_store::time_from_now(time::Duration::hours(1)))
        .await
        .unwrap();
    let public_urls = [
        format!("{base}/login"),
        format!("{}/setup?token={token}", fresh.base),
        format!("{base}{}", ids.invitation),
    ];
    let mut failures = Vec::new();
    let mut checked = 0;
    for width in [1280, 390] {
        set_width(&c, width).await;
        for url in &public_urls {
            c.goto(url).await.unwrap();
            for p in problems(&c, width).await {
                failures.push(format!("{url} at {width} px, logged out: {p}"));
            }
            checked += 1;
        }
        for (who, email, role) in [
            ("administrator", ADMIN, Role::Admin),
            ("employee", EMPLOYEE, Role::Employee),
            // Reads everything, edits nothing: the read-only views.
            ("auditor", AUDITOR, Role::Auditor),
        ] {
            login(&c, &base, email).await;
            for (route, addr) in &routes {
                // Public pages are checked logged out; routes the role may
                // not open answer 403 (the route-matrix test checks that).
                if public.contains(&addr.as_str()) || !route.access.admits(role) {
                    continue;
                }
                c.goto(&format!("{base}{addr}")).await.unwrap();
                for p in problems(&c, width).await {
                    failures.push(format!("{addr} at {width} px as {who}: {p}"));
                }
                checked += 1;
                let name = format!("{who}-{width}{}", addr.replace('/', "_"));
                shot(&c, &name).await;
            }
            logout(&c).await;
        }
    }
    assert!(checked >= 70, "only {checked} pages checked");
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The key WebDriver sends for Tab, Enter and so on.
const TAB: &str = "\u{e004}";
const ENTER: &str = "\u{e007}";

async fn active(c: &Client) -> Value {
    c.execute(
        "const a = document.activeElement;
         const row = a.closest('tr[id]');
         return {tag: a.tagName, id: a.id, text: a.textContent.trim().slice(0, 40),
                 row: row ? row.id : null, editRow: !!(row && row.classList.contains('editing')),
                 hxGet: a.getAttribute('hx-get')};",
        vec![],
    )
    .await
    .unwrap()
}

async fn press(c: &Client, key: &str) {
    c.active_element()
        .await
        .unwrap()
        .send_keys(key)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn keyboard_only_log_in_edit_an_soa_entry_and_come_back_to_the_row() {
    if !enabled() {
        return;
    }
    let fx = fixture("a11y_keys");
    let base = fx.server.base.clone();
    let (c, _driver) = browser(None).await;
    c.goto(&format!("{base}/login")).await.unwrap();
    wait_loaded(&c).await;
    // Tab from the top of the page to the e-mail field.
    let mut tabs = 0;
    while active(&c).await["id"] != "email" {
        press(&c, TAB).await;
        tabs += 1;
        assert!(tabs < 10, "the e-mail field is not reachable by Tab");
    }
    press(&c, ADMIN).await;
    press(&c, TAB).await;
    assert_eq!(active(&c).await["id"], "password");
    press(&c, PASSWORD).await;
    press(&c, ENTER).await;
    c.wait()
        .for_element(Locator::Css("form[action='/logout']"))
        .await
        .unwrap();

    c.goto(&format!("{base}/soa")).await.unwrap();
    wait_loaded(&c).await;
    // Tab to the edit button of control 5.2.
    let mut tabs = 0;
    loop {
        press(&c, TAB).await;
        tabs += 1;
        let a = active(&c).await;
        if a["hxGet"] == "/soa/5.2/row-edit" {
            break;
        }
        assert!(tabs < 150, "the edit button of 5.2 is not reachable by Tab");
    }
    press(&c, ENTER).await;
    // The editor opens in the row with the focus on its first field.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let a = active(&c).await;
        if a["editRow"] == true {
            assert_eq!(a["row"], "c-5.2");
            assert_eq!(a["id"], "ia-5-2", "{a}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "focus did not move into the editor: {a}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    press(&c, TAB).await;
    assert_eq!(active(&c).await["id"], "ij-5-2");
    press(&c, "Roles are assigned in the RACI of the context page").await;
    // Tab past the status to Save, and press it.
    loop {
        press(&c, TAB).await;
        let a = active(&c).await;
        if a["tag"] == "BUTTON" && a["text"] == "Save" {
            break;
        }
        assert_eq!(a["row"], "c-5.2", "Tab left the editor before Save: {a}");
    }
    press(&c, ENTER).await;
    // Saved: the row is back, the focus is on its edit button, and the
    // live region says so.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let a = active(&c).await;
        if a["row"] == "c-5.2" && a["editRow"] == false {
            assert_eq!(a["hxGet"], "/soa/5.2/row-edit", "{a}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "focus was lost after saving: {a}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let flash = c.find(Locator::Id("flash")).await.unwrap();
    assert_eq!(
        flash.attr("aria-live").await.unwrap().as_deref(),
        Some("polite")
    );
    assert_eq!(flash.text().await.unwrap(), "Saved 5.2.");
    let row = c
        .find(Locator::Id("c-5.2"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(row.contains("Roles are assigned in the RACI"), "{row}");
    // The next Tab goes on to the next row, not back to the top.
    press(&c, TAB).await;
    let a = active(&c).await;
    assert_eq!(a["row"], "c-5.3", "{a}");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_phone_the_menu_opens_shows_where_one_is_and_leads_on() {
    if !enabled() {
        return;
    }
    let fx = fixture("a11y_phone");
    let base = fx.server.base.clone();
    let (c, _driver) = browser(None).await;
    set_width(&c, 390).await;
    login(&c, &base, ADMIN).await;
    c.goto(&format!("{base}/soa")).await.unwrap();
    wait_loaded(&c).await;
    let toggle = c.find(Locator::Css(".menu-toggle")).await.unwrap();
    assert!(toggle.is_displayed().await.unwrap());
    assert!(
        toggle
            .text()
            .await
            .unwrap()
            .contains("Statement of Applicability")
    );
    assert_eq!(
        toggle.attr("aria-expanded").await.unwrap().as_deref(),
        Some("false")
    );
    let nav = c.find(Locator::Id("mainnav")).await.unwrap();
    assert!(!nav.is_displayed().await.unwrap(), "the menu starts closed");
    // The closed header takes little of the screen.
    let header = c
        .execute(
            "return document.querySelector('header.top').getBoundingClientRect().height",
            vec![],
        )
        .await
        .unwrap();
    let layout = c
        .execute(
            "return [...document.querySelectorAll('header.top .bar > *')].map(e => e.className + ' ' + JSON.stringify(e.getBoundingClientRect()))",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        header.as_f64().unwrap() < 70.0,
        "header is {header} px tall: {layout}"
    );
    shot(&c, "phone-menu-closed").await;
    toggle.click().await.unwrap();
    assert_eq!(
        toggle.attr("aria-expanded").await.unwrap().as_deref(),
        Some("true")
    );
    assert!(nav.is_displayed().await.unwrap());
    // The current page is marked, and has the focus.
    let a = c
        .execute(
            "return [document.activeElement.getAttribute('aria-current'), document.activeElement.getAttribute('href')]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(a, json!(["page", "/soa"]));
    shot(&c, "phone-menu-open").await;
    // Escape closes it and gives the focus back to the button.
    press(&c, "\u{e00c}").await;
    assert!(!nav.is_displayed().await.unwrap());
    let focused = c
        .execute("return document.activeElement.className", vec![])
        .await
        .unwrap();
    assert_eq!(focused, "menu-toggle");
    // Open again and go to the context page.
    toggle.click().await.unwrap();
    c.find(Locator::Css("#mainnav a[href='/context']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("statement"))
        .await
        .unwrap();
    let toggle = c.find(Locator::Css(".menu-toggle")).await.unwrap();
    assert!(toggle.text().await.unwrap().contains("Context"));
    let wide = c
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(wide, true, "the context page scrolls sideways");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gap_row_is_edited_in_place_and_the_charts_follow() {
    if !enabled() {
        return;
    }
    let fx = fixture("a11y_gap");
    let base = fx.server.base.clone();
    let (c, _driver) = browser(None).await;
    login(&c, &base, ADMIN).await;
    c.goto(&format!("{base}/gap")).await.unwrap();
    submit(
        &c,
        "form[action='/gap'][method=post]",
        &[("title", "Baseline")],
    )
    .await;
    let heading = c.find(Locator::Id("gap-progress-h")).await.unwrap();
    assert!(heading.text().await.unwrap().starts_with("Progress: 0 of"));
    c.find(Locator::Css("a[aria-label='Edit A.5.1']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while active(&c).await["id"] != "st-A-5-1" {
        assert!(
            Instant::now() < deadline,
            "the editor did not take the focus"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The editor is accessible too.
    let found = problems(&c, 1280).await;
    assert!(found.is_empty(), "{found:?}");
    // A refused save (someone else saved first): the reason in the flash
    // area, the focus back on the editor's first field, the row kept.
    c.execute(
        "document.querySelector('#g-A-5-1 input[name=version]').value = '7';
         document.getElementById('nt-A-5-1').value = 'typed before the conflict';
         document.getElementById('ow-A-5-1').focus();",
        vec![],
    )
    .await
    .unwrap();
    press(&c, ENTER).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let flash = c
            .find(Locator::Id("flash"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if !flash.is_empty() {
            assert!(flash.contains("A.5.1"), "{flash}");
            break;
        }
        assert!(Instant::now() < deadline, "the refusal was not shown");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while active(&c).await["id"] != "st-A-5-1" {
        assert!(
            Instant::now() < deadline,
            "focus not back on the first field: {}",
            active(&c).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let notes = c
        .find(Locator::Id("nt-A-5-1"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(notes.as_deref(), Some("typed before the conflict"));
    c.execute(
        "document.querySelector('#g-A-5-1 input[name=version]').value = '1';",
        vec![],
    )
    .await
    .unwrap();
    c.execute(
        "document.getElementById('st-A-5-1').value = 'implemented';
         document.getElementById('nt-A-5-1').value = 'Policy approved by the board';",
        vec![],
    )
    .await
    .unwrap();
    c.find(Locator::Css("#g-A-5-1 button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Saved: focus on the row's Edit button, announced, charts reloaded.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let a = active(&c).await;
        if a["row"] == "g-A-5-1" && a["editRow"] == false {
            assert_eq!(a["hxGet"], "/gap/1/A.5.1/edit", "{a}");
            break;
        }
        assert!(Instant::now() < deadline, "focus lost after saving: {a}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        c.find(Locator::Id("flash"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "Saved A.5.1."
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = c
            .find(Locator::Id("gap-progress-h"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.starts_with("Progress: 1 of") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the charts did not follow: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let row = c
        .find(Locator::Id("g-A-5-1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        row.contains("Implemented") && row.contains("Policy approved by the board"),
        "{row}"
    );
    shot(&c, "gap-after-save").await;
}

/// The text of the page's main region.
async fn main_text(c: &Client) -> String {
    c.find(Locator::Id("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_audit_finding_is_corrected_verified_closed_and_reviewed_by_management() {
    if !enabled() {
        return;
    }
    let fx = fixture("audit_loop");
    let base = fx.server.base.clone();
    let (c, _driver): (Client, Driver) = browser(None).await;

    // The ISMS manager plans an audit of five Annex A controls.
    login(&c, &base, ADMIN).await;
    c.goto(&format!("{base}/audits")).await.unwrap();
    let audit = submit(
        &c,
        "form[action='/audits'][method=post]",
        &[
            ("title", "Access and operations audit"),
            ("scope", "5.15, 5.18, 8.2, 8.5, 8.15"),
            ("auditors", AUDITOR),
        ],
    )
    .await;
    let page = main_text(&c).await;
    assert!(
        page.contains("8.15") && page.contains("not yet audited"),
        "{page}"
    );
    logout(&c).await;

    // The auditor records a minor nonconformity.
    login(&c, &base, AUDITOR).await;
    c.goto(&format!("{base}{audit}")).await.unwrap();
    submit(
        &c,
        "form[action$='/findings']",
        &[
            ("requirement", "8.5"),
            ("result", "minor_nonconformity"),
            ("notes", "VPN accounts without a second factor"),
        ],
    )
    .await;
    let nc = c
        .find(Locator::Css("main a[href^='/nonconformities/']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    // The file seen goes with the finding, through the evidence store.
    let evidence = std::env::temp_dir().join(format!("vpn-users-{}.csv", std::process::id()));
    std::fs::write(&evidence, "user,second factor\nann,no\n").unwrap();
    c.find(Locator::Css("[id^='finding-'] details summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("input[type=file][id^='ev-file-']"))
        .await
        .unwrap()
        .send_keys(&evidence.display().to_string())
        .await
        .unwrap();
    c.find(Locator::Css("button[id^='add-evidence-']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let name = evidence.file_name().unwrap().to_string_lossy().into_owned();
    let mut source = String::new();
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        source = c.source().await.unwrap_or_default();
        if source.contains(&format!("{name}</a>")) {
            break;
        }
    }
    assert!(
        source.contains(&format!("{name}</a>")) && source.contains("sha256"),
        "{source}"
    );
    let _ = std::fs::remove_file(&evidence);
    shot(&c, "audit-finding").await;
    logout(&c).await;

    // The ISMS manager raises the corrective action, verifies it, closes.
    login(&c, &base, ADMIN).await;
    c.goto(&format!("{base}{nc}")).await.unwrap();
    submit(
        &c,
        "form[action$='/actions']",
        &[
            ("title", "Enforce a second factor on the VPN"),
            ("owner", ADMIN),
            ("due_date", "2099-12-31"),
        ],
    )
    .await;
    assert!(
        main_text(&c)
            .await
            .contains("Enforce a second factor on the VPN")
    );
    submit(
        &c,
        "form[action$='/verify']",
        &[
            ("effective", "yes"),
            ("notes", "Every VPN login now asks for it"),
        ],
    )
    .await;
    submit(&c, "form[action$='/close']", &[]).await;
    let status = c
        .find(Locator::Id("nc-status"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(status, "Closed");
    shot(&c, "nonconformity-closed").await;

    // The next management review sees it among its inputs.
    c.goto(&format!("{base}/management-reviews")).await.unwrap();
    submit(
        &c,
        "form[action='/management-reviews'][method=post]",
        &[("title", "Management review after the audit")],
    )
    .await;
    let key = nc.trim_start_matches("/nonconformities/");
    let link = c
        .find(Locator::Css(&format!("#main a[href='{nc}']")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        link.contains(&format!("NC-{key}")) && link.contains("closed"),
        "{link}"
    );
    shot(&c, "management-review-inputs").await;

    // Frozen, the inputs stay as the meeting saw them.
    c.find(Locator::Id("freeze-inputs"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let mut state = String::new();
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if let Ok(e) = c.find(Locator::Id("inputs-state")).await {
            state = e.text().await.unwrap_or_default();
            if state.starts_with("Frozen") {
                break;
            }
        }
    }
    assert!(state.starts_with("Frozen"), "{state}");
}
