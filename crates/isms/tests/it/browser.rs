//! A real headless Chromium logs in through the login form and sees the
//! dashboard. Runs when `ISMS_BROWSER_TESTS=1` (CI sets it and installs
//! Debian's chromium and chromium-driver); skipped otherwise.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};

use crate::cli::{free_port, start_server};

pub(crate) fn enabled() -> bool {
    if std::env::var("ISMS_BROWSER_TESTS").as_deref() == Ok("1") {
        return true;
    }
    eprintln!("browser test skipped: set ISMS_BROWSER_TESTS=1 (needs chromium and chromedriver)");
    false
}

pub(crate) struct Driver(pub(crate) std::process::Child);
impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Headless Chromium through chromedriver; with `downloads`, files are
/// saved there without asking.
pub(crate) async fn browser(downloads: Option<&std::path::Path>) -> (fantoccini::Client, Driver) {
    let port = free_port();
    let driver = Driver(
        Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver (install Debian's chromium-driver)"),
    );
    let profile = std::env::temp_dir().join(format!("isms_chromium_{}_{port}", std::process::id()));
    let mut options = serde_json::json!({
        "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                 format!("--user-data-dir={}", profile.display())]
    });
    if let Some(dir) = downloads {
        options["prefs"] = serde_json::json!({
            "download.default_directory": dir.display().to_string(),
            "download.prompt_for_download": false,
            "download.directory_upgrade": true,
            "safebrowsing.enabled": false
        });
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    // Console messages, read by the accessibility test through `se/log`.
    caps.insert(
        "goog:loggingPrefs".into(),
        serde_json::json!({"browser": "ALL"}),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => return (c, driver),
            Err(e) => {
                assert!(Instant::now() < deadline, "cannot reach chromedriver: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// Runs `isms --database DB ARGS` with `stdin`, asserting success (test set-up).
pub(crate) fn setup(db: &str, args: &[&str], stdin: &str) {
    use std::io::Write;
    let mut c = Command::new(env!("CARGO_BIN_EXE_isms"))
        .args(["--database", db])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    assert!(c.wait().unwrap().success(), "{args:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_logs_in_and_sees_the_dashboard() {
    if !enabled() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("isms_browser_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("browser.db").display());
    let run = |args: &[&str], stdin: &str| setup(&db, args, stdin);
    run(&["org", "create", "Acme Ltd"], "");
    run(
        &[
            "user",
            "add",
            "ann@acme.test",
            "--org",
            "acme-ltd",
            "--role",
            "admin",
            "--password-stdin",
            "--name",
            "Ann Admin",
        ],
        "correct horse battery\n",
    );
    let server = tokio::task::block_in_place(|| start_server(&db, &dir));
    let (client, _driver) = browser(None).await;

    client.goto(&format!("{}/", server.base)).await.unwrap();
    // Sent to the login form, which has labelled fields.
    let url = client.current_url().await.unwrap();
    assert!(url.path() == "/login", "{url}");
    client.find(Locator::Css("label[for=email]")).await.unwrap();
    client
        .find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("ann@acme.test")
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

    // Wait for the logged-in page (the login page has a main h1 too).
    client
        .wait()
        .for_element(Locator::Css("form[action='/logout']"))
        .await
        .unwrap();
    let h1 = client.find(Locator::Css("main h1")).await.unwrap();
    assert_eq!(h1.text().await.unwrap(), "Acme Ltd");
    let body = client
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("active members"), "{body}");
    assert!(body.contains("Ann Admin"));
    // The readiness figure arrives through htmx after the page.
    let percent = client
        .wait()
        .for_element(Locator::Id("readiness-percent"))
        .await
        .unwrap();
    assert!(percent.text().await.unwrap().ends_with('%'));
    if let Ok(dir) = std::env::var("ISMS_SCREENSHOT_DIR") {
        let png = client.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join("dashboard.png"), png).unwrap();
    }

    // The user page works with htmx: change nothing, just see the table.
    client
        .goto(&format!("{}/admin/users", server.base))
        .await
        .unwrap();
    let row = client
        .wait()
        .for_element(Locator::Css("tbody tr"))
        .await
        .unwrap();
    assert!(row.text().await.unwrap().contains("ann@acme.test"));

    // Logging out through the header button ends the session.
    client
        .find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Id("email"))
        .await
        .unwrap();
    client.goto(&format!("{}/", server.base)).await.unwrap();
    assert_eq!(client.current_url().await.unwrap().path(), "/login");
    client.close().await.unwrap();
}
