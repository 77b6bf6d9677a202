//! Applied controls, evidence, control reviews and metrics: the acceptance
//! lines of the issue through the exact routes, bad input refused with
//! nothing stored, on every engine.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use isms_domain::Role;
use isms_store::{Actor, Store};
use serde_json::{Value, json};

use crate::support::{App, Resp, add, org_with, stores};

/// An organisation with an ISMS manager holding an API token.
async fn setup(store: &Store) -> (App, String, i64) {
    let org = org_with(store, "Acme", "mia@acme.test", Role::IsmsManager).await;
    let user = store.user_by_email("mia@acme.test").await.unwrap().unwrap();
    let (_, token) = store
        .create_token(org.id, user.id, "t", &Actor::cli())
        .await
        .unwrap();
    (App::new(store.clone()), token, org.id)
}

async fn json_req(app: &App, method: &str, path: &str, token: &str, body: &Value) -> Resp {
    app.send(
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

/// A multipart body with `fields` and one file field named `file`.
pub fn multipart_bytes(
    fields: &[(&str, &str)],
    file_name: &str,
    content: &[u8],
) -> (String, Vec<u8>) {
    let boundary = "----isms-evidence-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(
    app: &App,
    token: &str,
    path: &str,
    fields: &[(&str, &str)],
    name: &str,
    bytes: &[u8],
) -> Resp {
    let (ct, body) = multipart_bytes(fields, name, bytes);
    app.send(
        Request::post(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

fn v(r: &Resp) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("not JSON: {}", r.body))
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test]
async fn a_control_linked_to_8_5_shows_on_its_soa_entry() {
    for (engine, store) in stores().await {
        let (app, token, _) = setup(&store).await;
        let r = json_req(
            &app,
            "POST",
            "/api/v1/controls",
            &token,
            &json!({"name": "MFA for every administrator", "owner": "mia@acme.test", "annex_a": ["8.5"]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{engine}: {}", r.body);
        let id = v(&r)["id"].as_i64().expect("id");
        let soa = app.api("GET", "/api/v1/soa/8.5", Some(&token)).await;
        assert_eq!(soa.status, StatusCode::OK, "{}", soa.body);
        let soa = v(&soa);
        let controls = soa["controls"].as_array().expect("controls");
        assert_eq!(controls.len(), 1, "{engine}: {soa}");
        assert_eq!(controls[0]["id"], id);
        assert_eq!(controls[0]["name"], "MFA for every administrator");
        assert_eq!(soa["suggested_status"], "planned");
        // Another entry does not show it.
        let other = v(&app.api("GET", "/api/v1/soa/8.6", Some(&token)).await);
        assert_eq!(other["controls"].as_array().map(Vec::len), Some(0));

        // Implemented: the suggestion follows.
        let r = json_req(
            &app,
            "PATCH",
            &format!("/api/v1/controls/{id}"),
            &token,
            &json!({"status": "implemented", "version": 1}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let soa = v(&app.api("GET", "/api/v1/soa/8.5", Some(&token)).await);
        assert_eq!(soa["suggested_status"], "implemented");
        // A stale version is refused.
        let r = json_req(
            &app,
            "PATCH",
            &format!("/api/v1/controls/{id}"),
            &token,
            &json!({"status": "planned", "version": 1}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{engine}: {}", r.body);
    }
}

#[tokio::test]
async fn bad_controls_are_refused_naming_the_problem_and_nothing_is_stored() {
    for (engine, store) in stores().await {
        let (app, token, org) = setup(&store).await;
        let other = org_with(&store, "Bolt", "bo@bolt.test", Role::Admin).await;
        let _ = other;
        for (body, needle) in [
            (json!({"owner": "mia@acme.test"}), "name"),
            (json!({"name": "x", "annex_a": ["9.9"]}), "9.9"),
            (
                json!({"name": "x", "requirements": [{"framework": "nist-csf-2.0", "ref_id": "PR.AA-05"}]}),
                "nist-csf-2.0",
            ),
            (
                json!({"name": "x", "requirements": [{"framework": "iso27001-2022", "ref_id": "Z.1"}]}),
                "Z.1",
            ),
            (
                json!({"name": "x", "owner": "bo@bolt.test"}),
                "bo@bolt.test",
            ),
            (json!({"name": "x", "status": "done"}), "status"),
            (
                json!({"name": "x", "start_date": "2026-05-01", "due_date": "2026-04-01"}),
                "due_date",
            ),
        ] {
            let r = json_req(&app, "POST", "/api/v1/controls", &token, &body).await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{engine}: {body}: {}",
                r.body
            );
            assert!(
                r.body.contains(needle),
                "{engine}: {needle} not in {}",
                r.body
            );
        }
        assert!(store.controls(org).await.unwrap().is_empty(), "{engine}");
    }
}

#[tokio::test]
async fn evidence_uploads_and_downloads_the_same_bytes_as_an_attachment() {
    for (engine, store) in stores().await {
        let (app, token, org) = setup(&store).await;
        let r = json_req(
            &app,
            "POST",
            "/api/v1/controls",
            &token,
            &json!({"name": "Quarterly access review", "owner": "mia@acme.test", "annex_a": ["5.18"]}),
        )
        .await;
        let id = v(&r)["id"].as_i64().unwrap();
        let bytes = b"%PDF-1.4\n% access review minutes\n1 0 obj <<>> endobj\n%%EOF\n".to_vec();
        let r = upload(
            &app,
            &token,
            &format!("/api/v1/controls/{id}/evidence"),
            &[("collected_on", "2026-01-10"), ("expires_on", "2027-01-10")],
            "review minutes.pdf",
            &bytes,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{engine}: {}", r.body);
        let e = v(&r);
        let eid = e["id"].as_i64().expect("evidence id");
        assert_eq!(e["sha256"], sha256_hex(&bytes));
        assert_eq!(e["content_type"], "application/pdf");
        let d = app
            .api(
                "GET",
                &format!("/api/v1/evidence/{eid}/download"),
                Some(&token),
            )
            .await;
        assert_eq!(d.status, StatusCode::OK);
        assert_eq!(d.body.as_bytes(), bytes.as_slice());
        let cd = d.header("content-disposition").unwrap();
        assert!(cd.starts_with("attachment"), "{cd}");
        assert_eq!(
            d.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );

        // A new revision; the old one stays downloadable.
        let second = b"%PDF-1.4\n% corrected minutes\n%%EOF\n".to_vec();
        let r = upload(
            &app,
            &token,
            &format!("/api/v1/evidence/{eid}/revisions"),
            &[],
            "review minutes v2.pdf",
            &second,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{engine}: {}", r.body);
        let e = v(&r);
        assert_eq!(e["sha256"], sha256_hex(&second));
        assert_eq!(e["revisions"].as_array().unwrap().len(), 2);
        let old = app
            .api(
                "GET",
                &format!("/api/v1/evidence/{eid}/download?revision=1"),
                Some(&token),
            )
            .await;
        assert_eq!(old.body.as_bytes(), bytes.as_slice());

        // Links are evidence too.
        let r = json_req(
            &app,
            "POST",
            "/api/v1/evidence",
            &token,
            &json!({"title": "IdP review report", "url": "https://idp.example/reviews/42", "controls": [id], "collected_on": "2025-01-01", "expires_on": "2025-06-30"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{engine}: {}", r.body);
        assert_eq!(v(&r)["expired"], true);
        // Expired evidence flags its control on the SoA entry, and is listed.
        let soa = v(&app.api("GET", "/api/v1/soa/5.18", Some(&token)).await);
        assert_eq!(soa["evidence_expired"], true, "{engine}: {soa}");
        assert_eq!(soa["controls"][0]["evidence_expired"], true);
        let expiring = v(&app
            .api(
                "GET",
                "/api/v1/evidence?expiring_by=2026-01-01",
                Some(&token),
            )
            .await);
        assert_eq!(expiring["items"].as_array().unwrap().len(), 1, "{expiring}");
        let due = store.due_items(org, "2027-12-31").await.unwrap();
        assert!(due.iter().any(|d| d.kind == "evidence_expiry"), "{due:?}");
    }
}

#[tokio::test]
async fn bad_evidence_is_refused_and_leaves_nothing_behind() {
    for (engine, store) in stores().await {
        let (app, token, org) = setup(&store).await;
        let r = json_req(
            &app,
            "POST",
            "/api/v1/controls",
            &token,
            &json!({"name": "Backups"}),
        )
        .await;
        let id = v(&r)["id"].as_i64().unwrap();
        let path = format!("/api/v1/controls/{id}/evidence");
        for (fields, name, bytes, status, needle) in [
            (
                vec![],
                "empty.pdf",
                b"".to_vec(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "empty",
            ),
            (
                vec![],
                "fake.pdf",
                b"just some text\n".to_vec(),
                StatusCode::UNPROCESSABLE_ENTITY,
                ".pdf",
            ),
            (
                vec![],
                "photo.txt",
                b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "png",
            ),
            (
                vec![("collected_on", "2026-03-01"), ("expires_on", "2026-02-01")],
                "log.txt",
                b"backup ok\n".to_vec(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "expires_on",
            ),
        ] {
            let r = upload(&app, &token, &path, &fields, name, &bytes).await;
            assert_eq!(r.status, status, "{engine}: {name}: {}", r.body);
            assert!(
                r.body.contains(needle),
                "{engine}: {needle} not in {}",
                r.body
            );
        }
        // A file for a control of nobody is refused before it is stored.
        let r = upload(
            &app,
            &token,
            "/api/v1/controls/999999/evidence",
            &[],
            "a.txt",
            b"x\n",
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(
            store.evidence_list(org, None).await.unwrap().is_empty(),
            "{engine}"
        );
        // A link must be http(s).
        let r = json_req(
            &app,
            "POST",
            "/api/v1/evidence",
            &token,
            &json!({"url": "javascript:alert(1)"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    }
}

#[tokio::test]
async fn metrics_record_measurements_and_list_them() {
    for (engine, store) in stores().await {
        let (app, token, _) = setup(&store).await;
        let r = json_req(
            &app,
            "POST",
            "/api/v1/metrics",
            &token,
            &json!({"name": "Staff trained", "unit": "%", "target": 95}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{engine}: {}", r.body);
        let id = v(&r)["id"].as_i64().expect("id");
        for (value, date) in [(80.0, "2026-01-31"), (97.5, "2026-02-28")] {
            let r = json_req(
                &app,
                "POST",
                &format!("/api/v1/metrics/{id}/measurements"),
                &token,
                &json!({"value": value, "date": date}),
            )
            .await;
            assert_eq!(r.status, StatusCode::CREATED, "{engine}: {}", r.body);
        }
        let m = v(&app
            .api("GET", &format!("/api/v1/metrics/{id}"), Some(&token))
            .await);
        let list = m["measurements"].as_array().expect("measurements");
        assert_eq!(list.len(), 2, "{m}");
        assert_eq!(list[0]["date"], "2026-01-31");
        assert_eq!(list[1]["value"], 97.5);
        assert_eq!(m["status"], "green");

        // Bad measurements.
        for (body, status, needle) in [
            (
                json!({"value": 5, "date": "2026-03-01", "unit": "days"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unit",
            ),
            (
                json!({"value": 5, "date": "2026-13-01"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "date",
            ),
            (
                json!({"date": "2026-03-01"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "value",
            ),
        ] {
            let r = json_req(
                &app,
                "POST",
                &format!("/api/v1/metrics/{id}/measurements"),
                &token,
                &body,
            )
            .await;
            assert_eq!(r.status, status, "{engine}: {body}: {}", r.body);
            assert!(r.body.contains(needle), "{}", r.body);
        }
        let r = json_req(
            &app,
            "POST",
            "/api/v1/metrics/999999/measurements",
            &token,
            &json!({"value": 1, "date": "2026-03-01"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        let m = v(&app
            .api("GET", &format!("/api/v1/metrics/{id}"), Some(&token))
            .await);
        assert_eq!(m["measurements"].as_array().unwrap().len(), 2);
        // A metric without a unit or target is refused.
        let r = json_req(
            &app,
            "POST",
            "/api/v1/metrics",
            &token,
            &json!({"name": "x", "target": 1}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("unit"));
    }
}

#[tokio::test]
async fn reviews_move_the_schedule_and_refuse_outsiders() {
    for (engine, store) in stores().await {
        let (app, token, org) = setup(&store).await;
        let outsider = org_with(&store, "Bolt", "bo@bolt.test", Role::Admin).await;
        let _ = outsider;
        let r = json_req(
            &app,
            "POST",
            "/api/v1/controls",
            &token,
            &json!({"name": "Firewall rule review", "review_schedule": "quarterly", "next_review": "2020-01-01"}),
        )
        .await;
        let id = v(&r)["id"].as_i64().unwrap();
        let overdue = v(&app
            .api("GET", "/api/v1/control-reviews/overdue", Some(&token))
            .await);
        assert_eq!(overdue.as_array().unwrap().len(), 1, "{engine}: {overdue}");
        let r = json_req(
            &app,
            "POST",
            &format!("/api/v1/controls/{id}/reviews"),
            &token,
            &json!({"result": "effective", "reviewer": "bo@bolt.test"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("bo@bolt.test"));
        let r = json_req(
            &app,
            "POST",
            &format!("/api/v1/controls/{id}/reviews"),
            &token,
            &json!({"result": "not_effective", "reviewed_on": "2026-01-15", "notes": "two stale rules"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(v(&r)["raise_nonconformity"], true);
        let c = store.control(org, id).await.unwrap();
        assert_eq!(c.next_review, "2026-04-15");
        let _ = add;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_keeps_uploads_under_the_blob_store_named_by_their_sha256() {
    let dir = std::env::temp_dir().join(format!("isms_blobs_{}", std::process::id()));
    let blobs = dir.join("evidence-files");
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("serve.db").display());
    let token = {
        let store = Store::open(&url).await.unwrap();
        let (_, token, _) = setup(&store).await;
        store.close().await;
        token
    };
    let server = crate::cli::start_server_with(
        &url,
        &dir,
        &["--blob-store", &format!("file://{}", blobs.display())],
    );
    let base = server.base.clone();
    let bytes = b"id,name\n1,admin review done\n".to_vec();
    let (ct, body) = multipart_bytes(&[], "review.csv", &bytes);
    let created = tokio::task::spawn_blocking(move || {
        let auth = format!("Bearer {token}");
        let c = ureq::post(&format!("{base}/api/v1/controls"))
            .set("Authorization", &auth)
            .set("Content-Type", "application/json")
            .send_string(r#"{"name": "Admin review", "annex_a": ["8.2"]}"#);
        let c: Value = serde_json::from_str(&c.unwrap().into_string().unwrap()).unwrap();
        let id = c["id"].as_i64().unwrap();
        let r = ureq::post(&format!("{base}/api/v1/controls/{id}/evidence"))
            .set("Authorization", &auth)
            .set("Content-Type", &ct)
            .send_bytes(&body)
            .unwrap();
        assert_eq!(r.status(), 201);
        serde_json::from_str::<Value>(&r.into_string().unwrap()).unwrap()
    })
    .await
    .unwrap();
    drop(server);
    let sha = sha256_hex(&bytes);
    assert_eq!(created["sha256"], sha.as_str());
    let stored = std::fs::read(blobs.join(&sha)).expect("the blob is named by its SHA-256");
    assert_eq!(stored, bytes);
    assert!(
        !dir.join("serve-blobs").exists(),
        "with --blob-store nothing goes to the default folder"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_lists_controls_and_records_metrics() {
    use crate::cli::{isms, stdout};
    for (engine, url) in crate::support::database_urls().await {
        let store = Store::open(&url).await.unwrap();
        let (app, token, _) = setup(&store).await;
        let r = json_req(
            &app,
            "POST",
            "/api/v1/controls",
            &token,
            &json!({"name": "Quarterly access review", "annex_a": ["5.18"]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED);
        let out =
            tokio::task::block_in_place(|| isms(&url, &["control", "list", "--org", "acme"], None));
        assert!(out.status.success(), "{engine}: {out:?}");
        assert!(
            stdout(&out).contains("planned\tQuarterly access review\tA.5.18"),
            "{}",
            stdout(&out)
        );
        let out = tokio::task::block_in_place(|| {
            isms(&url, &["metric", "starter", "--org", "acme"], None)
        });
        assert_eq!(stdout(&out), "added 10 starter metric(s)", "{engine}");
        let out = tokio::task::block_in_place(|| {
            isms(
                &url,
                &[
                    "metric",
                    "record",
                    "--org",
                    "acme",
                    "Phishing simulation click rate",
                    "4.5",
                    "--date",
                    "2026-01-31",
                ],
                None,
            )
        });
        assert!(out.status.success(), "{out:?}");
        let out = tokio::task::block_in_place(|| {
            isms(
                &url,
                &[
                    "metric",
                    "record",
                    "--org",
                    "acme",
                    "No such metric",
                    "1",
                    "--date",
                    "2026-01-31",
                ],
                None,
            )
        });
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("No such metric"),
            "{out:?}"
        );
        let out =
            tokio::task::block_in_place(|| isms(&url, &["metric", "list", "--org", "acme"], None));
        assert!(
            stdout(&out).contains("4.5 on 2026-01-31\tgreen"),
            "{}",
            stdout(&out)
        );
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_saves_of_the_same_version_one_wins() {
    for (engine, store) in stores().await {
        let (app, token, _) = setup(&store).await;
        let r = json_req(
            &app,
            "POST",
            "/api/v1/controls",
            &token,
            &json!({"name": "Patch servers"}),
        )
        .await;
        let id = v(&r)["id"].as_i64().unwrap();
        let path = format!("/api/v1/controls/{id}");
        let a = json!({"status": "in_progress", "version": 1});
        let b = json!({"status": "implemented", "version": 1});
        let (ra, rb) = tokio::join!(
            json_req(&app, "PATCH", &path, &token, &a),
            json_req(&app, "PATCH", &path, &token, &b)
        );
        let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "{engine}: {} / {}", ra.body, rb.body);
        let c = v(&app.api("GET", &path, Some(&token)).await);
        assert_eq!(c["version"], 2);
    }
}

#[tokio::test]
async fn measurements_import_from_csv_all_or_nothing() {
    for (engine, store) in stores().await {
        let (app, token, org) = setup(&store).await;
        store.add_starter_metrics(org, &Actor::cli()).await.unwrap();
        let send = |csv: &'static str| {
            app.send(
                Request::post("/api/v1/measurements/import")
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(header::CONTENT_TYPE, "text/csv")
                    .body(Body::from(csv))
                    .unwrap(),
            )
        };
        let r = send("metric,date,value\nPhishing simulation click rate,2026-01-31,4\nNo such metric,2026-01-31,1\n").await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{engine}: {}",
            r.body
        );
        assert!(
            r.body.contains("row 3") && r.body.contains("No such metric"),
            "{}",
            r.body
        );
        let metrics = store.metrics(org).await.unwrap();
        assert!(
            metrics.iter().all(|m| m.latest.is_none()),
            "{engine}: nothing stored"
        );
        let r = send("metric,date,value\nPhishing simulation click rate,2026-01-31,4\nPhishing simulation click rate,2026-02-28,3.5\n").await;
        assert_eq!(r.status, StatusCode::CREATED, "{engine}: {}", r.body);
        assert_eq!(v(&r)["recorded"], 2);
    }
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_and_no_blob_is_kept() {
    for (engine, store) in stores().await {
        let (_, token, org) = setup(&store).await;
        let blobs =
            std::env::temp_dir().join(format!("isms_limit_{engine}_{}", std::process::id()));
        let config = isms_web::Config {
            max_upload_bytes: 16,
            blob_store: Some(isms_web::controls::blobs::BlobStore::new(&blobs)),
            ..isms_web::Config::default()
        };
        let app = App {
            router: isms_web::app(store.clone(), config).layer(
                axum::extract::connect_info::MockConnectInfo(std::net::SocketAddr::from((
                    [127, 0, 0, 1],
                    40000,
                ))),
            ),
        };
        let r = json_req(
            &app,
            "POST",
            "/api/v1/controls",
            &token,
            &json!({"name": "Logging"}),
        )
        .await;
        let id = v(&r)["id"].as_i64().unwrap();
        let r = upload(
            &app,
            &token,
            &format!("/api/v1/controls/{id}/evidence"),
            &[],
            "big.txt",
            b"seventeen bytes!!",
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{engine}: {}",
            r.body
        );
        assert!(r.body.contains("big.txt"), "{}", r.body);
        assert!(store.evidence_list(org, None).await.unwrap().is_empty());
        let kept: Vec<_> = std::fs::read_dir(&blobs)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.file_name() != ".tmp")
                    .collect()
            })
            .unwrap_or_default();
        assert!(kept.is_empty(), "{engine}: {kept:?}");
        let tmp_left = std::fs::read_dir(blobs.join(".tmp")).map_or(0, Iterator::count);
        assert_eq!(tmp_left, 0, "{engine}: the temporary file is removed");
        let _ = std::fs::remove_dir_all(&blobs);
    }
}
