//! Issue 16: every library of a CISO Assistant-style collection imports. Frameworks whose ref
//! ids repeat under different parents (identity by URN, labels with their parent path),
//! nameless nodes, risk matrices as methodology templates, threat catalogs, reference controls
//! and metrics refused naming the module, versions (newer updates in place, older refused),
//! translations, and several files or a folder at once. Fixtures are written here, in the
//! library layout; none is a copy of a published library.

use std::path::{Path, PathBuf};
use std::process::Command;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use isms_domain::Role;
use isms_store::{Actor, Store, Tenant};

use crate::support::{App, PASSWORD, org_with, stores};

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

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "isms-lib-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// A framework whose sub-items "1", "2", "3" repeat under several parents (the shape of
/// ENS RD 311/2022 or FINMA 2023/01), with a node that has only a description and one
/// that has neither name nor description.
fn repeated(version: u32, extra_nodes: &str) -> String {
    format!(
        "urn: urn:test:risk:library:rep
ref_id: rep
name: Repeated refs
version: {version}
provider: Test
translations:
  fr:
    name: Réfs répétées
objects:
  framework:
    urn: urn:test:risk:framework:rep
    ref_id: rep
    name: Repeated refs
    requirement_nodes:
    - urn: urn:test:risk:req_node:rep:3.3
      ref_id: '3.3'
      name: Logging
    - urn: urn:test:risk:req_node:rep:3.3:3
      parent_urn: urn:test:risk:req_node:rep:3.3
      ref_id: '3'
      assessable: true
      description: Logs are kept for a year. They are reviewed monthly.
      translations:
        fr:
          description: Les journaux sont gardés un an.
    - urn: urn:test:risk:req_node:rep:4.1
      ref_id: '4.1'
      name: Access
    - urn: urn:test:risk:req_node:rep:4.1:3
      parent_urn: urn:test:risk:req_node:rep:4.1
      ref_id: '3'
      assessable: true
      name: Accounts are reviewed
    - urn: urn:test:risk:req_node:rep:4.1:bare
      parent_urn: urn:test:risk:req_node:rep:4.1
      ref_id: '9'
      assessable: true
{extra_nodes}"
    )
}

const MATRIX: &str = "urn: urn:test:risk:library:matrix-3
name: Three by three
version: 1
objects:
  risk_matrix:
  - urn: urn:test:risk:matrix:m3
    ref_id: m3
    name: Our 3x3
    description: Three steps each way
    probability:
    - {abbreviation: L, name: Seldom, description: once in years}
    - {abbreviation: M, name: Sometimes}
    - {abbreviation: H, name: Often}
    impact:
    - {abbreviation: L, name: Small}
    - {abbreviation: M, name: Notable}
    - {abbreviation: H, name: Grave}
    risk:
    - {abbreviation: L, name: Fine, description: accept it, hexcolor: '#00FF00'}
    - {abbreviation: M, name: Watch, hexcolor: '#FFFF00'}
    - {abbreviation: H, name: Act, hexcolor: '#FF0000'}
    grid:
    - [0, 0, 1]
    - [0, 1, 2]
    - [1, 2, 2]
";

const THREATS: &str = "urn: urn:test:risk:library:threats
name: Our threats
version: 1
objects:
  threats:
  - urn: urn:test:risk:threat:flood
    ref_id: TH1
    name: River flood
    description: The river rises over the quay.
  - urn: urn:test:risk:threat:rats
    ref_id: TH2
    description: Rodents chew cables. Often at night.
";

const CONTROLS: &str = "urn: urn:test:risk:library:controls
name: Our measures
version: 1
objects:
  reference_controls:
  - urn: urn:test:risk:function:mfa
    ref_id: MFA
    name: Multi-factor authentication
";

const METRICS: &str = "urn: urn:test:risk:library:metrics
name: Our metrics
version: 1
objects:
  metric_definitions:
  - urn: urn:test:risk:metric:patch-time
    name: Patch time
";

const MAPPING: &str = "urn: urn:test:risk:library:rep-to-iso
name: rep to ISO
version: 1
objects:
  requirement_mapping_sets:
  - urn: urn:test:risk:req_mapping_set:rep-iso
    source_framework_urn: urn:test:risk:framework:rep
    target_framework_urn: urn:intuitem:risk:framework:iso27001-2022
    requirement_mappings:
    - source_requirement_urn: urn:test:risk:req_node:rep:4.1:3
      target_requirement_urn: urn:intuitem:risk:req_node:iso27001-2022:a.5.18
      relationship: intersect
    - source_requirement_urn: urn:test:risk:req_node:rep:nowhere
      target_requirement_urn: urn:intuitem:risk:req_node:iso27001-2022:a.5.15
      relationship: equal
";

#[tokio::test(flavor = "multi_thread")]
async fn repeated_ref_ids_import_and_show_with_their_parent_path() {
    for (engine, url) in crate::support::database_urls().await {
        let d = dir("rep");
        let file = write(&d, "rep.yaml", &repeated(1, ""));
        let (ok, out, err) = isms(&url, &["framework", "import", &file]);
        assert!(ok, "{engine}: {out}{err}");
        assert!(
            out.contains("rep.yaml\timported\tframework rep: 5 requirements"),
            "{out}"
        );

        let (ok, out, err) = isms(&url, &["framework", "show", "rep"]);
        assert!(ok, "{err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 5, "{engine}: every node is listed: {out}");
        assert!(
            lines.contains(&"3.3 › 3\tLogs are kept for a year"),
            "{out}"
        );
        assert!(lines.contains(&"4.1 › 3\tAccounts are reviewed"), "{out}");
        assert!(
            lines.contains(&"9\t9"),
            "no name, no description: titled by its ref id: {out}"
        );

        // A repeated ref alone answers with its candidates; the path or URN finds one.
        let (ok, _, err) = isms(&url, &["framework", "show", "rep", "3"]);
        assert!(!ok, "{engine}");
        assert!(
            err.contains("'3' names 2 requirements of rep")
                && err.contains("3.3 › 3")
                && err.contains("4.1 › 3"),
            "{err}"
        );
        let (ok, out, err) = isms(&url, &["framework", "show", "rep", "4.1 › 3"]);
        assert!(ok, "{err}");
        assert!(out.starts_with("4.1 › 3  Accounts are reviewed"), "{out}");
        let (ok, out, _) = isms(&url, &["framework", "show", "rep", "3.3"]);
        assert!(
            ok && out.starts_with("3.3  Logging"),
            "a unique ref still works: {out}"
        );
        let (ok, out, _) = isms(
            &url,
            &[
                "framework",
                "show",
                "rep",
                "urn:test:risk:req_node:rep:3.3:3",
            ],
        );
        assert!(ok && out.contains("translations: {\"fr\""), "{out}");

        // The API: a unique ref, an ambiguous one (409 naming the candidates).
        let store = Store::open(&url).await.unwrap();
        let org = org_with(&store, "Acme", "ann@x.test", Role::Employee).await;
        let ann = store.user_by_email("ann@x.test").await.unwrap().unwrap();
        let (_, token) = store
            .create_token(org.id, ann.id, "t", &Actor::cli())
            .await
            .unwrap();
        let app = App::new(store.clone());
        let r = app
            .api("GET", "/api/v1/requirements/rep:3", Some(&token))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{engine}: {}", r.body);
        assert!(
            r.body.contains("rep:3.3 › 3") && r.body.contains("rep:4.1 › 3"),
            "{}",
            r.body
        );
        let r = app
            .api("GET", "/api/v1/requirements/rep:4.1", Some(&token))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = app
            .api("GET", "/api/v1/frameworks/rep/requirements", Some(&token))
            .await;
        let reqs: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let labels: Vec<&str> = reqs
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["display_ref"].as_str().unwrap())
            .collect();
        assert_eq!(labels, ["3.3", "3.3 › 3", "4.1", "4.1 › 3", "9"]);
        assert_eq!(reqs[1]["key"], "urn:test:risk:req_node:rep:3.3:3");
        assert_eq!(
            reqs[1]["translations"]["fr"]["description"],
            "Les journaux sont gardés un an."
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_of_libraries_imports_each_file_on_its_own() {
    for (engine, url) in crate::support::database_urls().await {
        let d = dir("folder");
        write(&d, "a-rep.yaml", &repeated(1, ""));
        write(&d, "b-matrix.yaml", MATRIX);
        write(&d, "c-threats.yaml", THREATS);
        write(&d, "d-controls.yaml", CONTROLS);
        write(&d, "e-metrics.yaml", METRICS);
        // Mappings before their framework would be in another order; here after it.
        write(&d, "f-mapping.yaml", MAPPING);
        let (ok, out, err) = isms(&url, &["framework", "import", d.to_str().unwrap()]);
        assert!(
            ok,
            "{engine}: a folder with unsupported kinds still succeeds: {out}{err}"
        );
        assert!(out.contains("a-rep.yaml\timported"), "{out}");
        assert!(
            out.contains("b-matrix.yaml\timported\t1 risk matrices as methodology templates"),
            "{out}"
        );
        assert!(
            out.contains("c-threats.yaml\timported\t2 threats into the threat library"),
            "{out}"
        );
        assert!(
            err.contains("d-controls.yaml\trefused")
                && err.contains("reference controls go into the applied-controls catalog, which this version does not have yet"),
            "{err}"
        );
        assert!(
            err.contains("e-metrics.yaml\trefused") && err.contains("metrics module"),
            "{err}"
        );
        assert!(!err.contains("neither a framework nor"), "{err}");
        assert!(
            out.contains("f-mapping.yaml\timported\t1 mappings"),
            "{out}"
        );
        assert!(
            out.contains("f-mapping.yaml\twarning") && out.contains("rep:nowhere"),
            "a mapping to an unknown node is reported, the rest imported: {out}"
        );
        assert!(out.contains("6 files: 4 imported, 2 refused"), "{out}");

        // A single reference-control library is refused (exit status), naming the module.
        let (ok, _, err) = isms(
            &url,
            &[
                "framework",
                "import",
                &d.join("d-controls.yaml").display().to_string(),
            ],
        );
        assert!(!ok && err.contains("applied-controls catalog"), "{err}");

        let (ok, out, err) = isms(&url, &["audit-log", "verify"]);
        assert!(ok, "{engine}: {out}{err}");

        let store = Store::open(&url).await.unwrap();
        let templates = store
            .methodology_templates(Tenant::Installation)
            .await
            .unwrap();
        assert_eq!(templates.len(), 1);
        assert_eq!(templates[0].matrix.risk[0].description, "accept it");
        let threats = store.library_threats(Tenant::Installation).await.unwrap();
        assert_eq!(threats.len(), 2);
        assert_eq!(
            threats[1].name, "Rodents chew cables",
            "titled from its description"
        );

        // The mapping resolves by URN to the node whose ref id repeats.
        let links = store
            .mapped_requirements(
                "rep",
                "urn:test:risk:req_node:rep:4.1:3",
                Tenant::Installation,
            )
            .await
            .unwrap();
        assert_eq!(links.len(), 1, "{links:?}");
        assert_eq!(links[0].ref_id, "A.5.18");
        assert!(links[0].requirement_id.is_some());
        let none = store
            .mapped_requirements(
                "rep",
                "urn:test:risk:req_node:rep:3.3:3",
                Tenant::Installation,
            )
            .await
            .unwrap();
        assert!(none.is_empty(), "the other '3' has no mapping: {none:?}");
        let back = store
            .mapped_requirements("iso27001-2022", "A.5.18", Tenant::Installation)
            .await
            .unwrap();
        let to_rep: Vec<_> = back.iter().filter(|l| l.framework == "rep").collect();
        assert_eq!(to_rep.len(), 1, "{back:?}");
        assert_eq!(to_rep[0].ref_id, "4.1 › 3", "shown with its parent path");
    }
}

#[tokio::test]
async fn a_newer_version_updates_in_place_and_an_older_one_is_refused() {
    for (engine, store) in stores().await {
        let actor = Actor::cli();
        let v1 =
            isms_catalog::import_ciso_assistant("rep.yaml", repeated(1, "").as_bytes()).unwrap();
        let r = store
            .import_library(&v1, "rep.yaml", false, Tenant::Installation, &actor)
            .await
            .unwrap();
        assert_eq!(r.outcome, "imported");
        let before = store
            .requirement_by_ref(
                "rep",
                "urn:test:risk:req_node:rep:4.1:3",
                Tenant::Installation,
            )
            .await
            .unwrap()
            .unwrap();
        // Version 2 drops node "9", adds "3.3 › 4" and renames one.
        let v2_text = repeated(
            2,
            "    - urn: urn:test:risk:req_node:rep:3.3:4
      parent_urn: urn:test:risk:req_node:rep:3.3
      ref_id: '4'
      name: Clocks are synchronised
",
        )
        .replace(
            "    - urn: urn:test:risk:req_node:rep:4.1:bare
      parent_urn: urn:test:risk:req_node:rep:4.1
      ref_id: '9'
      assessable: true
",
            "",
        )
        .replace(
            "Accounts are reviewed",
            "Accounts are reviewed twice a year",
        );
        let v2 = isms_catalog::import_ciso_assistant("rep-v2.yaml", v2_text.as_bytes()).unwrap();
        let r = store
            .import_library(&v2, "rep-v2.yaml", false, Tenant::Installation, &actor)
            .await
            .unwrap();
        assert_eq!(r.outcome, "updated", "{engine}: {r:?}");
        let f = r.framework.unwrap();
        assert_eq!((f.inserted, f.updated, f.removed), (1, 4, 1), "{engine}");
        let after = store
            .requirement_by_ref(
                "rep",
                "urn:test:risk:req_node:rep:4.1:3",
                Tenant::Installation,
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            after.id, before.id,
            "{engine}: matched by URN, the id (and links) kept"
        );
        assert_eq!(after.title, "Accounts are reviewed twice a year");
        let retired = store
            .requirement_by_ref(
                "rep",
                "urn:test:risk:req_node:rep:4.1:bare",
                Tenant::Installation,
            )
            .await
            .unwrap()
            .unwrap();
        assert!(
            retired.retired,
            "{engine}: removed nodes are retired, not deleted"
        );
        let fw = store
            .framework("rep", Tenant::Installation)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(fw.requirement_count, 5, "retired nodes are not counted");
        assert_eq!(fw.library_version, Some(2));
        assert_eq!(
            store
                .library_version("urn:test:risk:library:rep", Tenant::Installation)
                .await
                .unwrap(),
            Some(2)
        );

        // The change is in the installation's audit log, with both versions.
        let log = store.system_audit_entries(100).await.unwrap();
        let lib = log
            .iter()
            .find(|e| e.entity_type == "library" && e.action == "update")
            .expect("library update audited");
        assert!(
            lib.before_json
                .as_deref()
                .unwrap_or("")
                .contains("\"version\":1")
        );
        assert!(
            lib.after_json
                .as_deref()
                .unwrap_or("")
                .contains("\"version\":2")
        );
        let fw_entry = log
            .iter()
            .find(|e| e.entity_type == "framework" && e.action == "reimport")
            .expect("framework update audited");
        assert!(
            fw_entry
                .after_json
                .as_deref()
                .unwrap_or("")
                .contains("urn:test:risk:req_node:rep:4.1:bare"),
            "the retired node is named"
        );

        // Version 1 again: refused, naming both versions; nothing changes.
        let err = store
            .import_library(&v1, "rep.yaml", false, Tenant::Installation, &actor)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("version 1 is older than the installed version 2"),
            "{engine}: {err}"
        );
        let still = store
            .requirement_by_ref(
                "rep",
                "urn:test:risk:req_node:rep:4.1:3",
                Tenant::Installation,
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(still.title, "Accounts are reviewed twice a year");
    }
}

#[tokio::test]
async fn bad_libraries_are_refused_naming_the_problem_and_store_nothing() {
    let d = dir("bad");
    let dup_urn = repeated(1, "").replace(
        "urn: urn:test:risk:req_node:rep:4.1:3\n",
        "urn: urn:test:risk:req_node:rep:3.3:3\n",
    );
    let cycle = repeated(1, "").replace(
        "    - urn: urn:test:risk:req_node:rep:3.3\n      ref_id: '3.3'\n",
        "    - urn: urn:test:risk:req_node:rep:3.3\n      parent_urn: urn:test:risk:req_node:rep:3.3:3\n      ref_id: '3.3'\n",
    );
    let cases = [
        (
            &dup_urn,
            "duplicate urn \"urn:test:risk:req_node:rep:3.3:3\": requirement_nodes[1] and requirement_nodes[3] both carry it",
        ),
        (&cycle, "parent cycle 3.3 -> 3 -> 3.3"),
    ];
    for (engine, store) in stores().await {
        for (text, expected) in &cases {
            let file = write(&d, "bad.yaml", text);
            let bytes = std::fs::read(&file).unwrap();
            let err = isms_catalog::import_ciso_assistant("bad.yaml", &bytes)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(expected),
                "{engine}: expected {expected:?} in {err}"
            );
        }
        assert!(
            store
                .framework("rep", Tenant::Installation)
                .await
                .unwrap()
                .is_none()
        );
    }
}

/// The Frameworks page takes several files at once and reports on each.
#[tokio::test]
async fn the_frameworks_page_takes_several_files_and_reports_each() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "m@acme.test", Role::IsmsManager).await;
        let app = App::new(store.clone());
        let (cookie, csrf) = app.login("m@acme.test", PASSWORD).await;
        let boundary = "----isms-lib-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\nauto\r\n"
        );
        for (name, content) in [
            ("rep.yaml", repeated(1, "")),
            ("matrix.yaml", MATRIX.to_owned()),
            ("controls.yaml", CONTROLS.to_owned()),
        ] {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n{content}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let r = app
            .send(
                Request::post("/frameworks/import")
                    .header(
                        header::CONTENT_TYPE,
                        format!("multipart/form-data; boundary={boundary}"),
                    )
                    .header(header::COOKIE, &cookie)
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{engine}: {}", r.body);
        assert!(
            r.body.contains("2 of 3 files imported; 1 refused"),
            "{}",
            r.body
        );
        assert!(r.body.contains("rep.yaml") && r.body.contains("framework rep: 5 requirements"));
        assert!(r.body.contains("applied-controls catalog"), "{}", r.body);
        let fw = store
            .framework("rep", Tenant::Org(org.id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            fw.org_id,
            Some(org.id),
            "an upload belongs to the organisation"
        );

        // The matrix is now a template the organisation can preview and apply.
        let admin = store.user_by_email("m@acme.test").await.unwrap().unwrap();
        let _ = admin;
        let templates = store
            .methodology_templates(Tenant::Org(org.id))
            .await
            .unwrap();
        assert_eq!(templates.len(), 1, "{engine}");
    }
}

/// A risk matrix library becomes a methodology template: listed, previewed, applied through
/// the explicit re-score step of the methodology API.
#[tokio::test]
async fn a_risk_matrix_template_is_chosen_through_the_methodology_api() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "boss@acme.test", Role::Admin).await;
        let lib = isms_catalog::import_ciso_assistant("m.yaml", MATRIX.as_bytes()).unwrap();
        store
            .import_library(&lib, "m.yaml", false, Tenant::Org(org.id), &Actor::cli())
            .await
            .unwrap();
        let boss = store
            .user_by_email("boss@acme.test")
            .await
            .unwrap()
            .unwrap();
        let (_, token) = store
            .create_token(org.id, boss.id, "t", &Actor::cli())
            .await
            .unwrap();
        let app = App::new(store.clone());
        let r = app
            .api("GET", "/api/v1/risk-methodology/templates", Some(&token))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{engine}: {}", r.body);
        let list: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let id = list[0]["id"].as_i64().unwrap();
        assert_eq!(list[0]["methodology"]["levels"][2]["colour"], "#ff0000");
        let choose = |apply: bool, version: i64| {
            Request::post(format!("/api/v1/risk-methodology/templates/{id}"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    serde_json::json!({"version": version, "apply": apply}).to_string(),
                ))
                .unwrap()
        };
        let r = app.send(choose(false, 0)).await;
        assert_eq!(r.status, StatusCode::OK, "{engine}: {}", r.body);
        assert!(r.body.contains("\"applied\":false"), "{}", r.body);
        let r = app.send(choose(true, 0)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let m = store.risk_methodology(org.id).await.unwrap();
        assert_eq!(m.likelihood.len(), 3);
        assert_eq!(m.level_name(m.level_of(3, 3)), "Act");
        let r = app.send(choose(true, 0)).await;
        assert_eq!(
            r.status,
            StatusCode::CONFLICT,
            "a stale version: {}",
            r.body
        );
        let r = app.api("GET", "/api/v1/risk-library", Some(&token)).await;
        assert!(r.body.contains("imported_threats"), "{}", r.body);
    }
}
