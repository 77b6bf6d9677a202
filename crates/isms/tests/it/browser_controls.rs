//! A real headless Chromium walks the journey "create a control, link it to
//! 8.5 and a CSF 2.0 subcategory, upload evidence, see it on the SoA entry
//! of 8.5, record a measurement, see the trend chart". Runs when
//! `ISMS_BROWSER_TESTS=1`; skipped otherwise.

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::browser::{browser, enabled, setup};
use crate::cli::start_server;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

/// Fills the fields of the form `selector` by name and submits it; waits
/// for the next page.
async fn fill_and_submit(c: &Client, selector: &str, fields: &[(&str, &str)]) {
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
}

#[tokio::test(flavor = "multi_thread")]
async fn create_a_control_link_it_upload_evidence_and_follow_a_metric() {
    if !enabled() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("isms_browser_controls_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("controls.db").display());
    let run = |args: &[&str], stdin: &str| setup(&db, args, stdin);
    run(&["org", "create", "Northwind Ltd"], "");
    run(
        &[
            "user",
            "add",
            "mia@northwind.test",
            "--org",
            "northwind-ltd",
            "--role",
            "isms_manager",
            "--password-stdin",
        ],
        "correct horse battery\n",
    );
    run(
        &[
            "framework",
            "import",
            &format!("{DATA}/nist-csf-2.0/NIST_CSF_v2.0_catalog.json"),
        ],
        "",
    );
    let evidence = dir.join("mfa-report.txt");
    std::fs::write(&evidence, "MFA enforced for all 12 administrators\n").unwrap();
    let server = tokio::task::block_in_place(|| start_server(&db, &dir));
    let (c, _driver) = browser(None).await;
    let base = server.base.clone();

    c.goto(&format!("{base}/login")).await.unwrap();
    fill_and_submit(
        &c,
        "form[action='/login']",
        &[
            ("email", "mia@northwind.test"),
            ("password", "correct horse battery"),
        ],
    )
    .await;

    // Create the control through the nav link and the form.
    c.find(Locator::Css("nav a[href='/controls']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("add-control"))
        .await
        .unwrap();
    fill_and_submit(
        &c,
        "form[action='/controls'][method=post]",
        &[
            ("name", "MFA for administrators"),
            ("owner", "mia@northwind.test"),
            ("status", "implemented"),
            ("annex_a", "8.5"),
            ("requirements", "nist-csf-2.0 PR.AA-03"),
        ],
    )
    .await;
    let control_url = c.current_url().await.unwrap();
    assert!(
        control_url.path().starts_with("/controls/"),
        "{control_url}"
    );
    let page = c.source().await.unwrap();
    assert!(
        page.contains("PR.AA-03") && page.contains("A.8.5"),
        "{page}"
    );

    // Upload the evidence file.
    c.find(Locator::Css("#evidence ~ details summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("e-file"))
        .await
        .unwrap()
        .send_keys(&evidence.display().to_string())
        .await
        .unwrap();
    c.execute(
        "document.getElementById('e-expires').value = '2099-12-31';",
        vec![],
    )
    .await
    .unwrap();
    c.find(Locator::Id("add-evidence"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let mut source = String::new();
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        source = c.source().await.unwrap_or_default();
        if source.contains("/download\"") {
            break;
        }
    }
    assert!(source.contains("mfa-report.txt</a>"), "{source}");

    // The SoA entry of 8.5 shows it.
    c.goto(&format!("{base}/soa/8.5")).await.unwrap();
    let link = c
        .wait()
        .for_element(Locator::Css(&format!(
            "#applied-controls ~ ul a[href='{}']",
            control_url.path()
        )))
        .await
        .unwrap();
    assert_eq!(link.text().await.unwrap(), "MFA for administrators");

    // A metric, a measurement, its trend chart.
    c.goto(&format!("{base}/metrics")).await.unwrap();
    c.wait()
        .for_element(Locator::Id("add-metric"))
        .await
        .unwrap();
    fill_and_submit(
        &c,
        "form[action='/metrics'][method=post]",
        &[
            ("name", "Administrators with MFA"),
            ("unit", "%"),
            ("target", "100"),
        ],
    )
    .await;
    let metric_url = c.current_url().await.unwrap();
    assert!(metric_url.path().starts_with("/metrics/"), "{metric_url}");
    c.execute(
        "const f = document.querySelector(\"form[action$='/measurements']\");
         f.elements.value.value = '92'; f.elements.date.value = '2026-01-31'; f.requestSubmit();",
        vec![],
    )
    .await
    .unwrap();
    let mut source = String::new();
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        source = c.source().await.unwrap_or_default();
        if source.contains("<circle") {
            break;
        }
    }
    assert!(source.contains("2026-01-31: 92 %"), "{source}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
