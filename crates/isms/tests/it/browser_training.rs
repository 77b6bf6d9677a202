//! A real headless Chromium walks the training journey: a manager adds a
//! course with a quiz and assigns it to the employees; an employee opens it
//! from the navigation, answers the quiz and is recorded as completed; the
//! manager sees 100%. Runs when `ISMS_BROWSER_TESTS=1`; skipped otherwise.

use fantoccini::{Client, Locator};

use crate::browser::{browser, enabled, setup};
use crate::cli::start_server;

async fn log_in(client: &Client, base: &str, email: &str) {
    client.goto(&format!("{base}/login")).await.unwrap();
    client
        .find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys(email)
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
}

async fn fill(client: &Client, id: &str, text: &str) {
    let e = client.find(Locator::Id(id)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_manager_assigns_a_course_and_an_employee_passes_its_quiz() {
    if !enabled() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("isms_browser_training_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("t.db").display());
    let run = |args: &[&str], stdin: &str| setup(&db, args, stdin);
    run(&["org", "create", "Northwind Ltd"], "");
    for (email, role) in [
        ("mia@northwind.test", "isms_manager"),
        ("eve@northwind.test", "employee"),
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
    let server = tokio::task::block_in_place(|| start_server(&db, &dir));
    let (client, _driver) = browser(None).await;
    let base = server.base.clone();

    log_in(&client, &base, "mia@northwind.test").await;
    client
        .find(Locator::Css("nav a[href='/training']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("details summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(&client, "c-title", "Phishing awareness").await;
    fill(
        &client,
        "c-content",
        "Report suspicious e-mail to the service desk.",
    )
    .await;
    fill(
        &client,
        "c-quiz",
        "? Where do you report phishing?\n* The service desk\n- Nowhere\n",
    )
    .await;
    fill(&client, "c-pass", "100").await;
    client
        .find(Locator::Id("add-course"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Id("a-to"))
        .await
        .unwrap();
    fill(&client, "a-to", "employees").await;
    let due = isms_store::time_from_now(time::Duration::days(14))[..10].to_owned();
    // Date inputs take the date through script: typing depends on the locale.
    client
        .execute(
            "document.getElementById('a-due').value = arguments[0];",
            vec![serde_json::json!(due)],
        )
        .await
        .unwrap();
    client
        .find(Locator::Id("assign-course"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css(".alert.ok"))
        .await
        .unwrap();
    let course_url = client.current_url().await.unwrap();
    client
        .find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    log_in(&client, &base, "eve@northwind.test").await;
    client
        .find(Locator::Css("nav a[href='/training']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::LinkText("Phishing awareness"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Id("q0-0"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .find(Locator::Id("complete-course"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let status = client
        .wait()
        .for_element(Locator::Css(".alert.ok"))
        .await
        .unwrap();
    assert!(status.text().await.unwrap().contains("Completed"));
    assert_eq!(
        client.current_url().await.unwrap().path(),
        course_url.path()
    );
    client
        .find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    log_in(&client, &base, "mia@northwind.test").await;
    client.goto(&format!("{base}/training")).await.unwrap();
    let body = client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("1 (100%)"), "{body}");
    client.close().await.unwrap();
}
