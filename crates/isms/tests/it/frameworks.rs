//! Frameworks and mappings: built-in ISO/IEC 27001:2022, imports through the
//! CLI, the upload form and the API, and bad files refused with nothing
//! stored, on every engine.

use std::process::Command;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use isms_domain::Role;
use isms_store::{Actor, Store, Tenant};

use crate::support::{App, PASSWORD, org_with, stores};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");
const BIN: &str = env!("CARGO_BIN_EXE_isms");

fn isms(db: &str, args: &[&str]) -> (bool, String, String) {
    let o = Command::new(BIN)
        .arg("--database")
        .arg(db)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[tokio::test]
async fn iso27001_2022_is_built_in_with_guidance() {
    for (engine, store) in stores().await {
        let fw = store
            .framework("iso27001-2022", Tenant::Installation)
            .await
            .unwrap()
            .expect("seeded");
        assert!(fw.builtin);
        let reqs = store.requirements(fw.id, None).await.unwrap();
        let controls: Vec<_> = reqs.iter().filter_map(|r| r.control_id.clone()).collect();
        assert_eq!(controls.len(), 93, "{engine}");
        assert_eq!(
            (controls[0].as_str(), controls[92].as_str()),
            ("5.1", "8.34")
        );
        assert!(reqs.iter().any(|r| r.ref_id == "4.1") && reqs.iter().any(|r| r.ref_id == "10.2"));
        let a815 = store
            .requirement_by_ref("iso27001-2022", "A.8.15", Tenant::Installation)
            .await
            .unwrap()
            .unwrap();
        let g = a815.guidance().expect("guidance");
        assert!(!g.purpose.is_empty() && g.implementation.len() >= 3 && g.evidence.len() >= 3);
        // Seeding again changes nothing.
        store.seed_builtin_frameworks().await.unwrap();
        assert_eq!(
            store.requirements(fw.id, None).await.unwrap().len(),
            reqs.len()
        );
        // Search by id and by words.
        let hits = store
            .requirements(fw.id, Some("authentication"))
            .await
            .unwrap();
        assert!(
            hits.iter().any(|r| r.control_id.as_deref() == Some("8.5")),
            "{engine}"
        );
        // Derived 800-53 -> 2022 mappings are marked as such.
        let links = store
            .mapped_requirements("iso27001-2022", "A.5.16", Tenant::Installation)
            .await
            .unwrap();
        let ac2 = links
            .iter()
            .find(|l| l.framework == "nist-800-53r5" && l.ref_id == "AC-2")
            .expect("AC-2 link");
        assert!(
            ac2.derived_path.is_some(),
            "{engine}: derived, never official"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn csf_and_its_iso_mapping_import_through_the_cli_and_show_in_the_api() {
    for (engine, url) in crate::support::database_urls().await {
        let (ok, out, err) = isms(
            &url,
            &[
                "framework",
                "import",
                &format!("{DATA}/nist-csf-2.0/NIST_CSF_v2.0_catalog.json"),
            ],
        );
        assert!(ok, "{engine}: {err}");
        assert!(out.contains("nist-csf-2.0: 225 requirements"), "{out}");
        let (ok, out, err) = isms(
            &url,
            &[
                "mapping",
                "import",
                &format!("{DATA}/mappings/nist-csf-2.0-to-iso27001-2022.csv"),
            ],
        );
        assert!(ok, "{err}");
        assert!(out.starts_with("imported "), "{out}");
        let (ok, out, _) = isms(&url, &["framework", "show", "iso27001-2022"]);
        assert!(ok);
        let annex: Vec<&str> = out.lines().filter(|l| l.contains("[A.")).collect();
        assert_eq!(annex.len(), 93, "{engine}");
        assert!(annex[0].starts_with("5.1\tPolicies for information security"));
        assert!(out.lines().any(|l| l.starts_with("4.1\t")));

        let store = Store::open(&url).await.unwrap();
        let org = org_with(&store, "Acme", "ann@x.test", Role::Employee).await;
        let ann = store.user_by_email("ann@x.test").await.unwrap().unwrap();
        let (_, token) = store
            .create_token(org.id, ann.id, "t", &Actor::cli())
            .await
            .unwrap();
        let app = App::new(store.clone());
        let fws: serde_json::Value = serde_json::from_str(
            &app.api("GET", "/api/v1/frameworks", Some(&token))
                .await
                .body,
        )
        .unwrap();
        assert!(
            fws.as_array()
                .unwrap()
                .iter()
                .any(|f| f["slug"] == "nist-csf-2.0")
        );
        let reqs = app
            .api(
                "GET",
                "/api/v1/frameworks/nist-csf-2.0/requirements?q=PR.AA-01",
                Some(&token),
            )
            .await;
        let reqs: serde_json::Value = serde_json::from_str(&reqs.body).unwrap();
        let id = reqs
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ref_id"] == "PR.AA-01")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        // Pages show a CSF subcategory's statement, not its id twice.
        let (cookie, _) = app.login("ann@x.test", crate::support::PASSWORD).await;
        let page = app
            .get("/frameworks/nist-csf-2.0?q=PR.AA-01", Some(&cookie))
            .await;
        assert!(
            page.body
                .contains("PR.AA-01</span> Identities and credentials for authorized users"),
            "{engine}: {}",
            page.body
        );
        let page = app.get(&format!("/requirements/{id}"), Some(&cookie)).await;
        assert!(
            page.body
                .contains("PR.AA-01</span> Identities and credentials"),
            "{engine}"
        );
        let r = app
            .api("GET", &format!("/api/v1/requirements/{id}"), Some(&token))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{engine}");
        let req: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let iso: Vec<&str> = req["mappings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["framework"] == "iso27001-2022")
            .map(|m| m["ref_id"].as_str().unwrap())
            .collect();
        assert!(
            iso.contains(&"A.5.15") && iso.contains(&"A.8.5"),
            "{engine}: {iso:?}"
        );
        let linked = req["mappings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["ref_id"] == "A.5.15")
            .unwrap();
        assert!(
            linked["requirement_id"].is_i64(),
            "linked to the stored ISO requirement"
        );
        // The other direction, by framework:ref.
        let back: serde_json::Value = serde_json::from_str(
            &app.api(
                "GET",
                "/api/v1/requirements/iso27001-2022:A.5.15",
                Some(&token),
            )
            .await
            .body,
        )
        .unwrap();
        assert!(
            back["mappings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["framework"] == "nist-csf-2.0" && m["ref_id"] == "PR.AA-01")
        );
        assert_eq!(
            app.api("GET", "/api/v1/requirements/999999", Some(&token))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.api("GET", "/api/v1/frameworks/nope", Some(&token))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.api("GET", "/api/v1/frameworks", None).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_framework_files_are_refused_with_nothing_stored() {
    let dir = std::env::temp_dir().join(format!("isms_badfw_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let cycle = write(
        "cycle.csv",
        "ref_id,parent_ref_id,title,description\nA,B,First,\nB,A,Second,\n",
    );
    let dup = write("dup.csv", "ref_id,parent_ref_id,title\nX,,One\nX,,Two\n");
    let yaml = write("broken.yaml", "urn: x\n  objects: [unclosed\n");
    let invalid = write(
        "invalid.json",
        r#"{"catalog": {"uuid": "not-a-uuid", "metadata": {"title": "T"}}}"#,
    );
    let malformed = write("malformed.json", "{\"catalog\": {");
    let profile = write(
        "profile.json",
        r#"{"profile": {"uuid": "6d0f8b2e-6c4b-4c64-9d5d-1b8f3a2a4f10", "metadata": {"title": "P", "last-modified": "2024-01-01T00:00:00Z", "version": "1", "oscal-version": "1.1.2"},
            "imports": [{"href": "missing-catalog.json", "include-all": {}}]}}"#,
    );
    let builtin = write("iso.csv", "ref_id,parent_ref_id,title\n1,,x\n");
    let huge = dir.join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(500 * 1000 * 1000)
        .unwrap();

    for (engine, url) in crate::support::database_urls().await {
        let before = Store::open(&url)
            .await
            .unwrap()
            .frameworks(Tenant::Installation)
            .await
            .unwrap()
            .len();
        let cases: Vec<(Vec<&str>, &str)> = vec![
            (vec![&cycle], "cycle"),
            (vec![&dup], "duplicate ref id"),
            (vec![&yaml], "broken.yaml"),
            (vec![&invalid], "/catalog"),
            (vec![&malformed], "line 1"),
            (vec![&profile], "missing-catalog.json"),
            (vec![&builtin, "--id", "iso27001-2022"], "built into isms"),
            (vec![huge.to_str().unwrap()], "huge.json is 500.0 MB"),
            (vec![&cycle, "--format", "pdf"], "unknown format 'pdf'"),
        ];
        for (args, expected) in cases {
            let mut all = vec!["framework", "import"];
            all.extend(args.iter().copied());
            let (ok, _, err) = isms(&url, &all);
            assert!(!ok, "{engine}: {args:?} was accepted");
            assert!(
                err.contains(expected),
                "{engine}: {args:?}: expected '{expected}' in: {err}"
            );
        }
        let (ok, _, err) = isms(
            &url,
            &[
                "mapping",
                "import",
                &write(
                    "bad-map.csv",
                    "source_framework,source_ref,target_framework,target_ref,relationship,note\nnist-csf-2.0,PR.AA-01,iso27001-2022,A.5.15,kinda,\n",
                ),
            ],
        );
        assert!(!ok && err.contains("kinda"), "{engine}: {err}");
        let store = Store::open(&url).await.unwrap();
        assert_eq!(
            store.frameworks(Tenant::Installation).await.unwrap().len(),
            before,
            "{engine}: nothing half-imported"
        );
        assert_eq!(
            store
                .count_imported_mappings(Tenant::Installation)
                .await
                .unwrap(),
            0
        );
    }
}

#[tokio::test]
async fn admins_import_through_the_upload_form_and_everyone_browses() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "admin@x.test", Role::Admin).await;
        crate::support::add(&store, &org, "emp@x.test", Role::Employee).await;
        let app = App::new(store.clone());
        let (admin, csrf) = app.login("admin@x.test", PASSWORD).await;
        let (emp, emp_csrf) = app.login("emp@x.test", PASSWORD).await;
        let csv = "ref_id,parent_ref_id,title,description\nSUP,,Supplier requirements,\nSUP-1,SUP,Encrypt data at rest,All customer data is encrypted.\nSUP-2,SUP,Annual penetration test,\n";
        let post = |cookie: String, csrf: Option<String>, name: &str, content: &str| {
            let (ct, body) =
                crate::support::multipart(csrf.as_deref(), &[("format", "auto")], name, content);
            Request::post("/frameworks/import")
                .header(header::CONTENT_TYPE, ct)
                .header(header::COOKIE, cookie)
                .body(Body::from(body))
                .unwrap()
        };
        // Without the CSRF token: refused.
        let r = app
            .send(post(admin.clone(), None, "acme-suppliers.csv", csv))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{engine}");
        // An employee: refused.
        let r = app
            .send(post(
                emp.clone(),
                Some(emp_csrf.clone()),
                "acme-suppliers.csv",
                csv,
            ))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // A broken file: a clear error, nothing stored.
        let r = app
            .send(post(
                admin.clone(),
                Some(csrf.clone()),
                "bad.csv",
                "ref_id,parent_ref_id,title\nA,,x\nA,,y\n",
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(
            r.body.contains("Nothing was imported") && r.body.contains("duplicate"),
            "{}",
            r.body
        );
        assert!(
            store
                .framework("bad", Tenant::Installation)
                .await
                .unwrap()
                .is_none()
        );
        // A good one.
        let r = app
            .send(post(
                admin.clone(),
                Some(csrf.clone()),
                "acme-suppliers.csv",
                csv,
            ))
            .await;
        // Post/redirect/get: the notice follows in a one-shot cookie.
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        assert_eq!(r.header("location").as_deref(), Some("/frameworks"));
        let notice = r.cookie("isms_notice").expect("a notice cookie");
        let list = app
            .get("/frameworks", Some(&format!("{admin}; {notice}")))
            .await;
        assert!(
            list.body
                .contains("Imported acme-suppliers from acme-suppliers.csv: 3 requirements"),
            "{}",
            list.body
        );
        assert_eq!(
            list.cookie("isms_notice").as_deref(),
            Some("isms_notice="),
            "shown once"
        );
        let fw = store
            .framework("acme-suppliers", Tenant::Installation)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(fw.requirement_count, 3);

        // Everyone can browse and search.
        let page = app.get("/frameworks/iso27001-2022", Some(&emp)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Policies for information security"));
        let hits = app
            .get(
                "/frameworks/iso27001-2022?q=secure%20authentication",
                Some(&emp),
            )
            .await;
        assert!(
            hits.body.contains("Secure authentication")
                && !hits.body.contains("Policies for information security"),
            "{engine}"
        );
        let a85 = store
            .requirement_by_ref("iso27001-2022", "A.8.5", Tenant::Installation)
            .await
            .unwrap()
            .unwrap();
        let page = app
            .get(&format!("/requirements/{}", a85.id), Some(&emp))
            .await;
        assert!(
            page.body.contains("Evidence an auditor typically asks for"),
            "{engine}"
        );
        assert!(
            page.body.contains("nist-800-53r5"),
            "{engine}: mappings shown"
        );
        let group = store
            .requirement_by_ref("iso27001-2022", "A.5", Tenant::Installation)
            .await
            .unwrap()
            .unwrap();
        let page = app
            .get(&format!("/requirements/{}", group.id), Some(&emp))
            .await;
        assert!(
            page.body.contains("Contains")
                && page.body.contains("Policies for information security"),
            "{engine}: children listed"
        );
        assert!(
            !page.body.contains("Secure authentication"),
            "{engine}: only its own children"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn another_file_never_silently_replaces_an_imported_framework() {
    for (engine, url) in crate::support::database_urls().await {
        let (ok, _, err) = isms(
            &url,
            &[
                "framework",
                "import",
                &format!("{DATA}/nist-csf-2.0/NIST_CSF_v2.0_catalog.xml"),
            ],
        );
        assert!(ok, "{engine}: OSCAL XML imports: {err}");
        let fixture = format!("{DATA}/ciso-assistant/nist-csf-2.0-fixture.yaml");
        let (ok, _, err) = isms(&url, &["framework", "import", &fixture]);
        assert!(!ok, "{engine}");
        assert!(
            err.contains("was imported from NIST_CSF_v2.0_catalog.xml"),
            "{err}"
        );
        let store = Store::open(&url).await.unwrap();
        assert_eq!(
            store
                .framework("nist-csf-2.0", Tenant::Installation)
                .await
                .unwrap()
                .unwrap()
                .requirement_count,
            225
        );
        let (ok, _, err) = isms(&url, &["framework", "import", &fixture, "--id", "csf-ciso"]);
        assert!(ok, "{err}");
        let (ok, out, err) = isms(&url, &["framework", "import", &fixture, "--replace"]);
        assert!(ok, "{err}");
        assert!(out.contains("removed"), "{out}");
    }
}

/// Issue 9, defect 4: what an organisation imports on the web belongs to it.
/// Another organisation cannot see it, replace it by uploading a file with its
/// id, or delete its mappings by uploading a mapping file of the same name;
/// each import is in the importing organisation's audit log.
#[tokio::test]
async fn an_organisations_imports_are_its_own() {
    for (engine, store) in stores().await {
        let a = org_with(&store, "Acme", "a@acme.test", Role::IsmsManager).await;
        let b = org_with(&store, "Bolt", "b@bolt.test", Role::IsmsManager).await;
        let app = App::new(store.clone());
        let (ca, ta) = app.login("a@acme.test", PASSWORD).await;
        let (cb, tb) = app.login("b@bolt.test", PASSWORD).await;
        let upload = |path: &str, cookie: &str, csrf: &str, name: &str, content: &str| {
            let (ct, body) =
                crate::support::multipart(Some(csrf), &[("format", "auto")], name, content);
            Request::post(path)
                .header(header::CONTENT_TYPE, ct)
                .header(header::COOKIE, cookie)
                .body(Body::from(body))
                .unwrap()
        };
        let ours = "ref_id,parent_ref_id,title,description\nSUP,,Supplier requirements,\nSUP-1,SUP,Encrypt data at rest,\n";
        let r = app
            .send(upload("/frameworks/import", &ca, &ta, "sup.csv", ours))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let fw = store
            .framework("sup", Tenant::Org(a.id))
            .await
            .unwrap()
            .expect("A sees its import");
        assert_eq!(fw.org_id, Some(a.id));

        // B does not see it, on the pages or the API.
        assert!(
            store
                .framework("sup", Tenant::Org(b.id))
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            app.get("/frameworks/sup", Some(&cb)).await.status,
            StatusCode::NOT_FOUND
        );
        let list = app.get("/frameworks", Some(&cb)).await;
        assert!(!list.body.contains("Supplier requirements"), "{engine}");
        let req = store
            .requirement_by_ref("sup", "SUP-1", Tenant::Org(a.id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            app.get(&format!("/requirements/{}", req.id), Some(&cb))
                .await
                .status,
            StatusCode::NOT_FOUND,
            "{engine}"
        );
        let tok = crate::soa::token(&store, &b, "api@bolt.test", Role::Auditor).await;
        let (s, v) = crate::soa::call(&app, "GET", "/api/v1/frameworks", &tok, None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            !v.to_string().contains("\"sup\""),
            "{engine}: B's API lists A's framework: {v}"
        );
        for path in [
            "/api/v1/frameworks/sup".to_owned(),
            "/api/v1/frameworks/sup/requirements".to_owned(),
            format!("/api/v1/requirements/{}", req.id),
            "/api/v1/requirements/sup:SUP-1".to_owned(),
        ] {
            let (s, _) = crate::soa::call(&app, "GET", &path, &tok, None).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{engine}: {path}");
        }

        // B uploads a file with the same id: refused, A's framework unchanged.
        let theirs = "ref_id,parent_ref_id,title,description\nX,,Replaced,\n";
        let r = app
            .send(upload("/frameworks/import", &cb, &tb, "sup.csv", theirs))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(r.body.contains("already in use"), "{engine}: {}", r.body);
        assert!(
            !r.body.contains("Acme"),
            "the refusal names no other tenant"
        );
        let after = store
            .framework("sup", Tenant::Org(a.id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(after.requirement_count, 2, "{engine}");
        assert_eq!(after.imported_at, fw.imported_at, "{engine}");

        // Mapping files of the same name: each organisation keeps its own.
        let a_map = "source_framework,source_ref,target_framework,target_ref,relationship,note\nsup,SUP-1,iso27001-2022,A.8.24,related,\n";
        let b_map = "source_framework,source_ref,target_framework,target_ref,relationship,note\niso27001-2022,A.5.1,iso27001-2022,A.5.2,related,\n";
        let r = app
            .send(upload("/mappings/import", &ca, &ta, "links.csv", a_map))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let r = app
            .send(upload("/mappings/import", &cb, &tb, "links.csv", b_map))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let a_links = store
            .mapped_requirements("sup", "SUP-1", Tenant::Org(a.id))
            .await
            .unwrap();
        assert!(
            a_links.iter().any(|l| l.ref_id == "A.8.24"),
            "{engine}: A's mapping was deleted by B's import: {a_links:?}"
        );
        let b_view = store
            .mapped_requirements("iso27001-2022", "A.5.1", Tenant::Org(a.id))
            .await
            .unwrap();
        assert!(
            !b_view.iter().any(|l| l.origin == "links.csv"),
            "{engine}: A sees B's mapping"
        );

        // The operator at the CLI cannot take over the id either.
        let tree = isms_catalog::import_catalog_csv(
            "sup.csv",
            theirs.as_bytes(),
            isms_catalog::framework_from_file_name("sup.csv"),
        )
        .expect("csv");
        let e = store
            .import_framework(
                &tree,
                "sup.csv",
                "csv",
                true,
                Tenant::Installation,
                &Actor::cli(),
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains("belongs to organisation"), "{e}");

        // Each import is in the importing organisation's log, not the other's.
        let logged = |org: i64, kind: &'static str| {
            let store = store.clone();
            async move {
                store
                    .audit_entries(
                        org,
                        &isms_store::AuditFilter {
                            entity_type: Some(kind.into()),
                            limit: 100,
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap()
                    .len()
            }
        };
        assert_eq!(logged(a.id, "framework").await, 1, "{engine}");
        assert_eq!(logged(b.id, "framework").await, 0, "{engine}");
        assert_eq!(logged(a.id, "mapping_set").await, 1, "{engine}");
        assert_eq!(logged(b.id, "mapping_set").await, 1, "{engine}");
        let reports = store.verify_audit_log().await.unwrap();
        assert!(reports.iter().all(|r| r.problem.is_none()), "{engine}");
    }
}
