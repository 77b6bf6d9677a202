//! A real headless Chromium walks the journey "set scope, mark five controls
//! not applicable with justification, approve the SoA, download its PDF".
//! Runs when `ISMS_BROWSER_TESTS=1`; skipped otherwise.

use std::time::{Duration, Instant};

use fantoccini::Locator;

use crate::browser::{browser, enabled, setup};
use crate::cli::start_server;

#[tokio::test(flavor = "multi_thread")]
async fn set_scope_exclude_five_controls_approve_and_download_the_pdf() {
    if !enabled() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("isms_browser_soa_{}", std::process::id()));
    let downloads = dir.join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let db = format!("sqlite://{}", dir.join("soa.db").display());
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
            "--name",
            "Mia Manager",
        ],
        "correct horse battery\n",
    );
    let server = tokio::task::block_in_place(|| start_server(&db, &dir));
    let (client, _driver) = browser(Some(&downloads)).await;
    let base = server.base.clone();

    client.goto(&format!("{base}/login")).await.unwrap();
    client
        .find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("mia@northwind.test")
        .await
        .unwrap();
    client
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys("correct horse battery")
        .await
        .unwrap();
    client
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("form[action='/logout']"))
        .await
        .unwrap();

    // Set the scope through the nav link and the form.
    client
        .find(Locator::Css("nav a[href='/context']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Id("statement"))
        .await
        .unwrap()
        .send_keys("The Northwind web shop, its development and its operation")
        .await
        .unwrap();
    client
        .find(Locator::Id("units"))
        .await
        .unwrap()
        .send_keys("Engineering and customer service")
        .await
        .unwrap();
    client
        .find(Locator::Id("locations"))
        .await
        .unwrap()
        .send_keys("Remote; cloud hosting in the EU")
        .await
        .unwrap();
    client
        .find(Locator::Id("processes"))
        .await
        .unwrap()
        .send_keys("Development, operations, support")
        .await
        .unwrap();
    client
        .find(Locator::Id("save-scope"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let notice = client
        .wait()
        .for_element(Locator::Css(".alert.ok"))
        .await
        .unwrap();
    assert!(notice.text().await.unwrap().contains("Saved the scope"));

    // Five controls not applicable, each with its justification.
    let excluded = ["7.1", "7.2", "7.3", "7.4", "7.6"];
    for id in excluded {
        client.goto(&format!("{base}/soa")).await.unwrap();
        client
            .wait()
            .for_element(Locator::Css(&format!("a[href='/soa/{id}']")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client
            .wait()
            .for_element(Locator::Css("#applicable option[value=no]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client
            .find(Locator::Id("justification"))
            .await
            .unwrap()
            .send_keys(&format!("{id}: no offices or server rooms of our own; the cloud provider's certified controls cover it"))
            .await
            .unwrap();
        client
            .find(Locator::Id("save-entry"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let saved = client
            .wait()
            .for_element(Locator::Css(".alert.ok"))
            .await
            .unwrap();
        assert!(saved.text().await.unwrap().contains(&format!("Saved {id}")));
    }

    // A save without justification is refused in the page, input kept.
    client.goto(&format!("{base}/soa/5.7")).await.unwrap();
    client
        .wait()
        .for_element(Locator::Id("notes"))
        .await
        .unwrap()
        .send_keys("keep these notes")
        .await
        .unwrap();
    client
        .execute(
            "document.getElementById('justification').removeAttribute('required')",
            vec![],
        )
        .await
        .unwrap();
    client
        .find(Locator::Id("save-entry"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let error = client
        .wait()
        .for_element(Locator::Id("soa-error"))
        .await
        .unwrap();
    assert!(
        error
            .text()
            .await
            .unwrap()
            .contains("justification: required")
    );
    let notes = client
        .find(Locator::Id("notes"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(notes.as_deref(), Some("keep these notes"));

    // Approve (the page asks for confirmation first).
    client
        .goto(&format!("{base}/soa?applicable=no"))
        .await
        .unwrap();
    let rows = client
        .wait()
        .for_element(Locator::Css("tbody"))
        .await
        .unwrap();
    let listed = client.find_all(Locator::Css("tr[id^='c-']")).await.unwrap();
    assert_eq!(listed.len(), 5, "{}", rows.text().await.unwrap());
    client
        .find(Locator::Id("approve-soa"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client.accept_alert().await.unwrap();
    let approved = client
        .wait()
        .for_element(Locator::Css(".alert.ok"))
        .await
        .unwrap();
    assert!(
        approved
            .text()
            .await
            .unwrap()
            .contains("Version 1 of the SoA is approved")
    );

    // Download its PDF.
    client
        .find(Locator::Css("a[href='/soa/export?format=pdf']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let file = downloads.join("soa-northwind-ltd-v1.pdf");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !file.exists() {
        assert!(
            Instant::now() < deadline,
            "the PDF was not downloaded to {}",
            downloads.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let text = crate::support::pdf_text(&bytes);
    assert!(text.contains("Northwind Ltd\n") && text.contains("Version 1\n"));
    for id in excluded {
        assert!(text.contains(&format!("\n{id}\n")));
    }
    // Inline edit in the list (htmx swaps the row in place).
    client
        .goto(&format!("{base}/soa?theme=Organizational"))
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("a[hx-get='/soa/5.2/row-edit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let area = client
        .wait()
        .for_element(Locator::Id("ij-5-2"))
        .await
        .unwrap();
    area.send_keys("Roles are assigned in the ISMS RACI")
        .await
        .unwrap();
    client
        .find(Locator::Css("tr#c-5\\.2 button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // The row may be swapped between finding it and reading it: try again.
        let row = match client.find(Locator::Css("tr#c-5\\.2")).await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if row.contains("Roles are assigned in the ISMS RACI") && !row.contains("Save") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the row was not swapped back: {row}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A gap assessment: a row saved in place, its badge updated.
    client.goto(&format!("{base}/gap")).await.unwrap();
    client
        .wait()
        .for_element(Locator::Id("gap-title"))
        .await
        .unwrap()
        .send_keys("Baseline")
        .await
        .unwrap();
    client
        .find(Locator::Css("form[action='/gap'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("svg title"))
        .await
        .unwrap();
    // One row at a time: Edit opens the row's form in place.
    client
        .find(Locator::Css("a[aria-label='Edit A.5.1']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("#st-A-5-1 option[value=implemented]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .find(Locator::Css("tr#g-A-5-1 button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let badge = match client.find(Locator::Css("tr#g-A-5-1 .badge")).await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if badge == "Implemented" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the gap row was not saved: {badge}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let gap_url = client.current_url().await.unwrap();

    if let Ok(shots) = std::env::var("ISMS_SCREENSHOT_DIR") {
        client.goto(gap_url.as_str()).await.unwrap();
        let png = client.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&shots).join("gap.png"), png).unwrap();
        for (page, name) in [
            ("/soa/7.4", "soa_edit"),
            ("/soa", "soa_list"),
            ("/readiness", "readiness"),
            ("/", "dashboard_readiness"),
        ] {
            client.goto(&format!("{base}{page}")).await.unwrap();
            let png = client.screenshot().await.unwrap();
            std::fs::write(
                std::path::Path::new(&shots).join(format!("{name}.png")),
                png,
            )
            .unwrap();
        }
    }
    client.close().await.unwrap();
}
