//! Issue 16: every library of a CISO Assistant-style collection imports. Frameworks whose ref
//! ids repeat under different parents (identity by URN, labels with their parent path),
//! nameless nodes, risk matrices as methodology templates, threat catalogs, reference controls
//! into the catalog of reference measures and metric definitions into metric templates (applied
//! controls and metrics created from them keep the link), presets enabled in one step, versions (newer updates in place, older refused),
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
            out.contains(
                "d-controls.yaml\timported\t1 reference controls into the catalog of reference measures"
            ),
            "{out}"
        );
        assert!(
            out.contains("e-metrics.yaml\timported\t1 metric definitions as metric templates"),
            "{out}"
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
        assert!(out.contains("6 files: 6 imported"), "{out}");

        // A library of objects isms does not know is refused naming them, alone or in a folder.
        let (ok, _, err) = isms(
            &url,
            &[
                "framework",
                "import",
                &write(
                    &d,
                    "g-gizmos.yaml",
                    "urn: urn:test:risk:library:g\nobjects:\n  gizmos:\n  - urn: g1\n",
                ),
            ],
        );
        assert!(
            !ok && err.contains("isms does not know library objects of kind \"gizmos\""),
            "{err}"
        );

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
            r.body.contains("3 of 3 files imported; 0 refused"),
            "{}",
            r.body
        );
        assert!(r.body.contains("rep.yaml") && r.body.contains("framework rep: 5 requirements"));
        assert!(
            r.body
                .contains("1 reference controls into the catalog of reference measures"),
            "{}",
            r.body
        );
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

const MEASURES: &str = "urn: urn:test:risk:library:measures
name: Our measures
version: 3
provider: Test provider
objects:
  reference_controls:
  - urn: urn:test:risk:function:mfa
    ref_id: MFA
    name: Multi-factor authentication
    category: technical
    description: A second factor for every remote login.
  - urn: urn:test:risk:function:policy
    ref_id: POL
    category: policy
    description: Write the access policy. Review it yearly.
  metric_definitions:
  - urn: urn:test:risk:metric:patch-days
    ref_id: M1
    name: Days to patch critical flaws
    description: How long critical flaws stay open.
    unit: days
    higher_is_better: false
    target: 14
    frequency: monthly
  - urn: urn:test:risk:metric:trained
    name: Staff trained
    unit: '%'
";

/// Reference controls land in the catalog of reference measures; an applied control created
/// from one through `POST /api/v1/controls` takes its name, description and category and keeps
/// the link; metric definitions likewise for `POST /api/v1/metrics`. Unknown and foreign
/// references are refused naming the field, and nothing is stored.
#[tokio::test]
async fn reference_controls_and_metric_definitions_create_linked_records() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "boss@acme.test", Role::Admin).await;
        let other = org_with(&store, "Other", "o@other.test", Role::Admin).await;
        let lib = isms_catalog::import_ciso_assistant("m.yaml", MEASURES.as_bytes()).unwrap();
        let report = store
            .import_library(&lib, "m.yaml", false, Tenant::Installation, &Actor::cli())
            .await
            .unwrap();
        assert_eq!(report.reference_controls, 2, "{engine}");
        assert_eq!(report.metric_definitions, 2);
        // Another organisation's own library stays its own.
        let private = MEASURES
            .replace("library:measures", "library:private")
            .replace("function:mfa", "function:secret")
            .replace("function:policy", "function:secret2")
            .replace("metric:patch-days", "metric:secret")
            .replace("metric:trained", "metric:secret2");
        let lib2 = isms_catalog::import_ciso_assistant("p.yaml", private.as_bytes()).unwrap();
        store
            .import_library(&lib2, "p.yaml", false, Tenant::Org(other.id), &Actor::cli())
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
            .api("GET", "/api/v1/reference-controls?q=factor", Some(&token))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{engine}: {}", r.body);
        let list: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{}", r.body);
        assert_eq!(list["items"][0]["urn"], "urn:test:risk:function:mfa");
        let r = app
            .api("GET", "/api/v1/reference-controls", Some(&token))
            .await;
        assert!(!r.body.contains("function:secret"), "{}", r.body);
        let policy_id = serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["ref_id"] == "POL")
            .unwrap()["id"]
            .as_i64()
            .unwrap();

        let post = |path: &str, body: serde_json::Value| {
            Request::post(path)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap()
        };
        let r = app
            .send(post(
                "/api/v1/controls",
                serde_json::json!({"reference_control": "urn:test:risk:function:mfa", "status": "in_progress"}),
            ))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{engine}: {}", r.body);
        let c: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(c["name"], "MFA Multi-factor authentication");
        assert_eq!(c["description"], "A second factor for every remote login.");
        assert_eq!(c["category"], "technical");
        assert_eq!(c["status"], "in_progress");
        assert_eq!(c["reference_control"], "urn:test:risk:function:mfa");
        // By id, with a name of one's own: the name given wins, the link is kept.
        let r = app
            .send(post(
                "/api/v1/controls",
                serde_json::json!({"reference_control": policy_id.to_string(), "name": "Access policy"}),
            ))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let c: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(c["name"], "Access policy");
        assert_eq!(c["category"], "policy");
        assert_eq!(c["reference_control"], "urn:test:risk:function:policy");

        // Bad input: unknown, and another organisation's, are refused alike; nothing stored.
        for bad in [
            "urn:test:risk:function:nowhere",
            "urn:test:risk:function:secret",
        ] {
            let r = app
                .send(post(
                    "/api/v1/controls",
                    serde_json::json!({"reference_control": bad}),
                ))
                .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
            assert!(
                r.body.contains("reference_control") && r.body.contains(bad),
                "{}",
                r.body
            );
        }
        assert_eq!(store.controls(org.id).await.unwrap().len(), 2);

        // Metric definitions.
        let r = app
            .api("GET", "/api/v1/metric-definitions", Some(&token))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            r.body.contains("Days to patch critical flaws") && !r.body.contains("metric:secret"),
            "{}",
            r.body
        );
        let r = app
            .send(post(
                "/api/v1/metrics",
                serde_json::json!({"metric_definition": "urn:test:risk:metric:patch-days"}),
            ))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let m: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(m["unit"], "days");
        assert_eq!(m["target"], 14.0);
        assert_eq!(m["direction"], "lower");
        assert_eq!(m["metric_definition"], "urn:test:risk:metric:patch-days");
        let r = app
            .send(post(
                "/api/v1/metrics",
                serde_json::json!({"metric_definition": "urn:test:risk:metric:trained"}),
            ))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "no target in the library nor the request: {}",
            r.body
        );
        assert!(r.body.contains("target"), "{}", r.body);
        let r = app
            .send(post(
                "/api/v1/metrics",
                serde_json::json!({"metric_definition": "urn:test:risk:metric:secret"}),
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("metric_definition"), "{}", r.body);
        assert_eq!(store.metrics(org.id).await.unwrap().len(), 1);

        // The page offers the catalog and creates from it.
        let (cookie, csrf) = app.login("boss@acme.test", PASSWORD).await;
        let page = app.get("/controls?ref_q=policy", Some(&cookie)).await;
        assert!(
            page.body.contains("Create from a reference measure")
                && page.body.contains("Write the access policy"),
            "{}",
            page.body
        );
        let r = app
            .post(
                "/controls",
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("reference_control", "urn:test:risk:function:mfa"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = app.get("/metrics", Some(&cookie)).await;
        assert!(page.body.contains("Create from a library"), "{}", page.body);

        let chains = store.verify_audit_log().await.unwrap();
        assert!(
            chains.iter().all(|c| c.problem.is_none()),
            "{engine}: {chains:?}"
        );
    }
}

/// A preset bundles libraries: imported together with `--enable-for`, what it bundles is
/// enabled for the organisation in one step, one report line per item; a bundled library not
/// installed is reported missing. The Frameworks page lists libraries with their version,
/// provider and last update, and enables a preset with a button.
#[tokio::test(flavor = "multi_thread")]
async fn a_preset_imports_and_enables_what_it_bundles() {
    for (engine, url) in crate::support::database_urls().await {
        let store = Store::open(&url).await.unwrap();
        org_with(&store, "Acme", "boss@acme.test", Role::Admin).await;
        let d = dir("preset");
        write(&d, "matrix.yaml", MATRIX);
        write(&d, "threats.yaml", THREATS);
        write(&d, "measures.yaml", MEASURES);
        write(&d, "rep.yaml", &repeated(2, ""));
        write(
            &d,
            "starter.yaml",
            "urn: urn:test:risk:library:starter
name: Starter kit
version: 1
dependencies:
- urn:test:risk:library:matrix-3
- urn:test:risk:library:threats
objects:
  preset:
    name: Starter kit
    description: What a small company starts with.
    libraries:
    - urn:test:risk:library:measures
    - urn:test:risk:library:rep
",
        );
        let (ok, out, err) = isms(
            &url,
            &[
                "framework",
                "import",
                d.to_str().unwrap(),
                "--enable-for",
                "acme",
            ],
        );
        assert!(ok, "{engine}: {out}{err}");
        assert!(
            out.contains("starter.yaml\timported\tpreset Starter kit bundling 4 libraries"),
            "{out}"
        );
        for line in [
            "library urn:test:risk:library:matrix-3\tinstalled",
            "framework rep\tavailable",
            "risk matrix Our 3x3\tenabled\tnow the organisation's risk methodology",
            "2 threats\tavailable",
            "2 reference controls\tavailable",
            "metric Days to patch critical flaws\tcreated",
            "metric Staff trained\tavailable",
            "preset urn:test:risk:library:starter enabled for acme",
        ] {
            assert!(out.contains(line), "{engine}: {line:?} in {out}");
        }
        let org = store.org_by_slug("acme").await.unwrap().unwrap();
        assert_eq!(
            store
                .risk_methodology(org.id)
                .await
                .unwrap()
                .likelihood
                .len(),
            3
        );
        assert_eq!(store.metrics(org.id).await.unwrap().len(), 1);

        // Enabling again: the methodology is kept, the metric is not made twice.
        let (_, out, _) = isms(
            &url,
            &[
                "framework",
                "enable-preset",
                "urn:test:risk:library:starter",
                "--org",
                "acme",
            ],
        );
        assert!(out.contains("risk matrix Our 3x3\tkept"), "{out}");
        assert!(
            out.contains("metric Days to patch critical flaws\tskipped"),
            "{out}"
        );

        // A preset naming a library that is not installed reports it missing (and fails).
        let (ok, out, _) = isms(
            &url,
            &[
                "framework",
                "import",
                &write(
                    &d,
                    "lonely.yaml",
                    "urn: urn:test:risk:library:lonely\nname: Lonely\nobjects:\n  preset:\n    libraries: [urn:test:risk:library:nowhere]\n",
                ),
                "--enable-for",
                "acme",
            ],
        );
        assert!(!ok, "{out}");
        assert!(
            out.contains("library urn:test:risk:library:nowhere\tmissing"),
            "{out}"
        );
        let (ok, out, err) = isms(&url, &["audit-log", "verify"]);
        assert!(ok, "{engine}: {out}{err}");

        // Versions on the Frameworks page and in the API; the Enable button.
        let app = App::new(store.clone());
        let (cookie, csrf) = app.login("boss@acme.test", PASSWORD).await;
        let page = app.get("/frameworks", Some(&cookie)).await;
        assert!(
            page.body.contains("library version 2") && page.body.contains("Test provider"),
            "{}",
            page.body
        );
        assert!(page.body.contains("Enable preset"), "{}", page.body);
        let r = app
            .post(
                "/frameworks/presets/enable",
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("urn", "urn:test:risk:library:starter"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            r.body.contains("Preset: what was enabled") && r.body.contains("kept"),
            "{}",
            r.body
        );
        let r = app
            .post(
                "/frameworks/presets/enable",
                Some(&cookie),
                &[("csrf_token", &csrf), ("urn", "urn:test:risk:library:rep")],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("is not a preset"), "{}", r.body);
        let page = app.get("/frameworks/rep", Some(&cookie)).await;
        assert!(page.body.contains("library version 2"), "{}", page.body);
    }
}
