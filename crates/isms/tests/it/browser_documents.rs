//! A real headless Chromium walks the journey "the manager publishes a
//! policy employees must acknowledge; an employee logs in, reads it and
//! acknowledges; the manager sees 100%". Runs when `ISMS_BROWSER_TESTS=1`.

use fantoccini::{Client, Locator};
use isms_store::{Actor, Store, Via};

use crate::browser::{browser, enabled, setup};
use crate::cli::start_server;

const PASSWORD: &str = "correct horse battery";

async fn login(c: &Client, base: &str, email: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    c.wait()
        .for_element(Locator::Id("email"))
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
    c.find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("email")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_employee_reads_and_acknowledges_and_the_manager_sees_100_percent() {
    if !enabled() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("isms_browser_docs_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("docs.db").display());
    setup(&db, &["org", "create", "Northwind Ltd"], "");
    for (email, role) in [
        ("mia@northwind.test", "isms_manager"),
        ("ann@northwind.test", "admin"),
        ("eve@northwind.test", "employee"),
    ] {
        setup(
            &db,
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
            &format!("{PASSWORD}\n"),
        );
    }
    // Mia wrote the policy and Ann approved it (four-eyes) before the journey starts.
    let id = {
        let store = Store::open(&db).await.unwrap();
        let org = store.require_org("northwind-ltd").await.unwrap();
        let actor = |email: &str, id: i64| Actor {
            user_id: Some(id),
            label: email.to_owned(),
            via: Via::Web,
        };
        let mia = store
            .user_by_email("mia@northwind.test")
            .await
            .unwrap()
            .unwrap();
        let ann = store
            .user_by_email("ann@northwind.test")
            .await
            .unwrap()
            .unwrap();
        let mia = actor("mia@northwind.test", mia.id);
        let d = store
            .create_document(
                org.id,
                &isms_store::DocumentInput {
                    template: Some("acceptable-use".into()),
                    ..Default::default()
                },
                &mia,
            )
            .await
            .unwrap();
        store
            .submit_document(org.id, d.id, &[], &mia)
            .await
            .unwrap();
        store
            .approve_document(org.id, d.id, &actor("ann@northwind.test", ann.id))
            .await
            .unwrap();
        store.close().await;
        d.id
    };
    let server = tokio::task::block_in_place(|| start_server(&db, &dir));
    let (c, _driver) = browser(None).await;
    let base = server.base.clone();

    // The manager publishes it for employees from the document's page.
    login(&c, &base, "mia@northwind.test").await;
    c.find(Locator::Css("nav a[href='/documents']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css(&format!("a[href='/documents/{id}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("acknowledge-who"))
        .await
        .unwrap();
    c.find(Locator::Css("#acknowledge-who option[value='employees']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("publish"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let completion = c
        .wait()
        .for_element(Locator::Id("ack-completion"))
        .await
        .unwrap();
    assert!(
        completion.text().await.unwrap().contains("0 of 1"),
        "one employee asked"
    );
    logout(&c).await;

    // The employee finds it under "Documents to read", reads and acknowledges.
    login(&c, &base, "eve@northwind.test").await;
    c.find(Locator::Css("nav a[href='/me/documents']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css(&format!("td a[href='/documents/{id}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let text = c
        .wait()
        .for_element(Locator::Css("article.document"))
        .await
        .unwrap();
    assert!(text.text().await.unwrap().contains("Acceptable use policy"));
    c.find(Locator::Id("acknowledge"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let notice = c
        .wait()
        .for_element(Locator::Css(".alert.ok"))
        .await
        .unwrap();
    assert!(
        notice
            .text()
            .await
            .unwrap()
            .contains("acknowledged version 1.0")
    );
    c.goto(&format!("{base}/me/documents")).await.unwrap();
    c.wait()
        .for_element(Locator::Id("nothing-to-read"))
        .await
        .unwrap();
    logout(&c).await;

    // The manager sees 100%.
    login(&c, &base, "mia@northwind.test").await;
    c.goto(&format!("{base}/documents/{id}")).await.unwrap();
    let completion = c
        .wait()
        .for_element(Locator::Id("ack-completion"))
        .await
        .unwrap();
    let t = completion.text().await.unwrap();
    assert!(t.contains("100%") && t.contains("1 of 1"), "{t}");
    c.close().await.unwrap();
}
