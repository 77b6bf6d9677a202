//! A real headless Chromium walks the loop of clauses 9.2, 10.2 and 9.3:
//! plan an audit of five Annex A controls, record a minor nonconformity and
//! attach a file to the finding, plan its corrective action, verify it
//! effective, close it, and find it among the inputs of the next management
//! review, then freeze those inputs. Runs when `ISMS_BROWSER_TESTS=1`.

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::browser::{browser, enabled, setup};
use crate::cli::start_server;

/// Sets the fields of the form `selector` by name and submits it; waits for
/// the next page.
async fn submit(c: &Client, selector: &str, fields: &[(&str, &str)]) -> String {
    let before = c.current_url().await.unwrap();
    let fields: Vec<serde_json::Value> = fields.iter().map(|(k, v)| json!([k, v])).collect();
    c.execute(
        "const f = document.querySelector(arguments[0]);
         for (const [k, v] of arguments[1]) { f.elements[k].value = v; }
         f.requestSubmit();",
        vec![json!(selector), json!(fields)],
    )
    .await
    .unwrap();
    for _ in 0..200 {
        if c.current_url().await.unwrap() != before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    c.wait().for_element(Locator::Css("h1")).await.unwrap();
    c.source().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_five_controls_close_the_nonconformity_and_review_it() {
    if !enabled() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("isms_browser_audit_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("audit.db").display());
    let run = |args: &[&str], stdin: &str| setup(&db, args, stdin);
    run(&["org", "create", "Northwind Ltd"], "");
    for (email, role) in [
        ("mia@northwind.test", "isms_manager"),
        ("aud@northwind.test", "auditor"),
    ] {
        run(
            &[
                "user",
                "add",
                email,
                "--org",
                "northwind-ltd",
                "--role",
                role,
                "--password-stdin",
            ],
            "correct horse battery\n",
        );
    }
    let evidence = dir.join("vpn-users.csv");
    std::fs::write(&evidence, "user,mfa\nann,no\n").unwrap();
    let server = tokio::task::block_in_place(|| start_server(&db, &dir));
    let (c, _driver) = browser(None).await;
    let base = server.base.clone();

    c.goto(&format!("{base}/login")).await.unwrap();
    submit(
        &c,
        "form[action='/login']",
        &[
            ("email", "mia@northwind.test"),
            ("password", "correct horse battery"),
        ],
    )
    .await;

    // Plan the audit of five Annex A controls.
    c.goto(&format!("{base}/audits")).await.unwrap();
    let page = submit(
        &c,
        "form[action='/audits']",
        &[
            ("title", "Access control audit"),
            ("scope", "5.15, 5.17, 5.18, 8.2, 8.5"),
            ("auditors", "aud@northwind.test"),
        ],
    )
    .await;
    let audit_url = c.current_url().await.unwrap();
    assert!(audit_url.path().starts_with("/audits/"), "{audit_url}: {page}");
    for control in ["5.15", "5.17", "5.18", "8.2", "8.5"] {
        assert!(page.contains(control), "{control} not in the checklist");
    }

    // A minor nonconformity on 8.5 raises NC-n.
    let page = submit(
        &c,
        "form[action$='/findings']",
        &[
            ("requirement", "8.5"),
            ("result", "minor_nonconformity"),
            ("notes", "MFA missing on the VPN"),
        ],
    )
    .await;
    assert!(page.contains("MFA missing on the VPN"), "{page}");
    let nc_link = c
        .find(Locator::Css("a[href^='/nonconformities/']"))
        .await
        .unwrap();
    let nc_href = nc_link.attr("href").await.unwrap().unwrap();
    let nc_key = nc_link.text().await.unwrap();

    // The file seen goes with the finding.
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
    let mut source = String::new();
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        source = c.source().await.unwrap_or_default();
        if source.contains("vpn-users.csv</a>") {
            break;
        }
    }
    assert!(source.contains("vpn-users.csv</a>") && source.contains("sha256"), "{source}");

    // Corrective action, verification, closing.
    c.goto(&format!("{base}{nc_href}")).await.unwrap();
    submit(
        &c,
        &format!("form[action='{nc_href}/actions']"),
        &[
            ("title", "Enforce MFA on the VPN gateway"),
            ("owner", "mia@northwind.test"),
            ("due_date", "2099-12-31"),
        ],
    )
    .await;
    submit(
        &c,
        &format!("form[action='{nc_href}/verify']"),
        &[("effective", "yes"), ("notes", "Login without MFA refused")],
    )
    .await;
    let page = submit(&c, &format!("form[action='{nc_href}/close']"), &[]).await;
    let status = c.find(Locator::Id("nc-status")).await.unwrap();
    assert_eq!(status.text().await.unwrap(), "Closed", "{page}");

    // The next management review sees it among its inputs; freeze them.
    c.goto(&format!("{base}/management-reviews")).await.unwrap();
    let page = submit(
        &c,
        "form[action='/management-reviews']",
        &[("title", "Annual management review")],
    )
    .await;
    assert!(
        page.contains(&format!("href=\"{nc_href}\"")) && page.contains(&nc_key),
        "{nc_key} not among the inputs: {page}"
    );
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
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
