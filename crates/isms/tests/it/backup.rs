//! `isms backup` and `isms restore` through the real binary, every engine to
//! every engine: the restored database passes `audit-log verify`, holds what
//! was written, accepts the old password and new writes; bad input is refused
//! with a clear line and changes nothing.

use isms_domain::Role;
use isms_store::{Actor, ContextInput, GapPatch, ScopeInput, SoaPatch, SoaUpdate, Store};

use crate::cli::{isms, stderr, stdout};
use crate::support::{App, PASSWORD, add, database_urls, org_with};

/// Fills a store with a little of everything; returns the organisation id.
async fn populate(store: &Store) -> i64 {
    let org = org_with(store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
    add(store, &org, "eve@acme.test", Role::Employee).await;
    let actor = Actor::cli();
    store
        .save_scope(
            org.id,
            &ScopeInput {
                statement: "All of Acme's SaaS platform".into(),
                version: Some(0),
                ..ScopeInput::default()
            },
            &actor,
        )
        .await
        .unwrap();
    store
        .create_context_item(
            org.id,
            "issue",
            &ContextInput {
                title: Some("Ransomware in the sector".into()),
                category: Some("external".into()),
                ..ContextInput::default()
            },
            &actor,
        )
        .await
        .unwrap();
    let gap = store
        .create_gap_assessment(org.id, "Baseline", None, &actor)
        .await
        .unwrap();
    store
        .update_gap_entry(
            org.id,
            gap.id,
            "A.8.8",
            &GapPatch {
                status: Some("partial".into()),
                notes: Some("Scanner bought — «Ünïcode» kept".into()),
                version: Some(1),
                ..GapPatch::default()
            },
            &actor,
        )
        .await
        .unwrap();
    let saved = store
        .update_soa_entry(
            org.id,
            "5.1",
            &SoaPatch {
                justification: Some("Policies are the base".into()),
                status: Some("implemented".into()),
                owner: Some("ann@acme.test".into()),
                version: Some(1),
                ..SoaPatch::default()
            },
            &actor,
        )
        .await
        .unwrap();
    assert!(matches!(saved, SoaUpdate::Saved(_)));
    store.approve_soa(org.id, "first", &actor).await.unwrap();
    store
        .save_fair_scenario(org.id, None, None, "Ransomware", "iterations: 10", &actor)
        .await
        .unwrap();
    store
        .create_risk(
            org.id,
            &isms_store::RiskInput {
                title: Some("Ransomware on the file server".into()),
                likelihood: Some(4),
                impact: Some(5),
                treatment: Some("modify".into()),
                residual_likelihood: Some(2),
                residual_impact: Some(3),
                ..isms_store::RiskInput::default()
            },
            &actor,
        )
        .await
        .unwrap();
    org.id
}

fn chains(reports: &[isms_store::ChainReport]) -> Vec<(String, usize)> {
    for r in reports {
        assert!(r.problem.is_none(), "{}: {:?}", r.org_slug, r.problem);
    }
    reports
        .iter()
        .map(|r| (r.org_slug.clone(), r.entries))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_restores_on_every_engine_and_passes_verify() {
    for (engine, url) in database_urls().await {
        let store = Store::open(&url).await.unwrap();
        let org_id = populate(&store).await;
        let before = chains(&store.verify_audit_log().await.unwrap());
        let scope = store.scope(org_id).await.unwrap();
        let soa = store.soa_entry(org_id, "5.1", &Actor::cli()).await.unwrap();

        let dir = std::env::temp_dir().join(format!(
            "isms_backup_{engine}_{}_{org_id}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("acme.isms-backup");
        let _ = std::fs::remove_file(&file);
        let file = file.display().to_string();
        let out = isms(&url, &["backup", &file], None);
        assert!(out.status.success(), "{engine}: {}", stderr(&out));
        // A backup never overwrites.
        let again = isms(&url, &["backup", &file], None);
        assert!(!again.status.success(), "{engine}");
        assert!(stderr(&again).contains("exists"), "{}", stderr(&again));

        for (target_engine, target) in database_urls().await {
            let what = format!("{engine} -> {target_engine}");
            let out = isms(&target, &["restore", &file], None);
            assert!(out.status.success(), "{what}: {}", stderr(&out));
            assert!(stdout(&out).contains("restored"), "{}", stdout(&out));
            let verify = isms(&target, &["audit-log", "verify"], None);
            assert!(verify.status.success(), "{what}: {}", stderr(&verify));

            let restored = Store::open(&target).await.unwrap();
            assert_eq!(
                chains(&restored.verify_audit_log().await.unwrap()),
                before,
                "{what}"
            );
            assert_eq!(restored.scope(org_id).await.unwrap(), scope, "{what}");
            let e = restored
                .soa_entry(org_id, "5.1", &Actor::cli())
                .await
                .unwrap();
            assert_eq!(
                (e.status, e.owner, e.version, e.justification),
                (
                    soa.status.clone(),
                    soa.owner.clone(),
                    soa.version,
                    soa.justification.clone()
                ),
                "{what}"
            );
            let gap = restored.gap_assessments(org_id).await.unwrap();
            let entries = restored.gap_entries(org_id, gap[0].id).await.unwrap();
            let a88 = entries.iter().find(|e| e.ref_id == "A.8.8").unwrap();
            assert_eq!(a88.notes, "Scanner bought — «Ünïcode» kept", "{what}");
            // New rows get new ids (identity counters moved on), and the old
            // password still logs in.
            let item = restored
                .create_context_item(
                    org_id,
                    "party",
                    &ContextInput {
                        title: Some("Customers".into()),
                        ..ContextInput::default()
                    },
                    &Actor::cli(),
                )
                .await
                .unwrap();
            assert!(item.id > 1, "{what}: {}", item.id);
            // The heat map's kept counts are not copied but recounted.
            let heat = restored.risk_heat(org_id).await.unwrap();
            assert_eq!(heat, (vec![(4, 5, 1)], vec![(2, 3, 1)]), "{what}");
            assert_eq!(
                heat,
                restored.risk_heat_recounted(org_id).await.unwrap(),
                "{what}"
            );
            let app = App::new(restored.clone());
            app.login("ann@acme.test", PASSWORD).await;

            // The target now holds data: a second restore is refused and
            // changes nothing, unless forced.
            let out = isms(&target, &["restore", &file], None);
            assert!(!out.status.success(), "{what}");
            assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
            assert_eq!(
                restored.context_items(org_id, None).await.unwrap().len(),
                2,
                "{what}"
            );
            let out = isms(&target, &["restore", &file, "--force"], None);
            assert!(out.status.success(), "{what}: {}", stderr(&out));
            assert_eq!(
                restored.context_items(org_id, None).await.unwrap().len(),
                1,
                "{what}: the forced restore brings back the backup's state"
            );
            restored.close().await;
        }
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test]
async fn bad_backup_files_are_refused_with_a_clear_line() {
    for (engine, url) in database_urls().await {
        let store = Store::open(&url).await.unwrap();
        let dir =
            std::env::temp_dir().join(format!("isms_badbackup_{engine}_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = dir.join("notes.txt");
        std::fs::write(&text, "this is not a database, but long enough").unwrap();
        let missing = dir.join("missing.db");
        for (file, says) in [
            (text.display().to_string(), "not an isms backup"),
            (missing.display().to_string(), "cannot read the backup"),
        ] {
            let out = isms(&url, &["restore", &file], None);
            assert!(!out.status.success(), "{engine} {file}");
            assert!(stderr(&out).contains(says), "{engine}: {}", stderr(&out));
        }
        assert!(
            !missing.exists(),
            "restore must not create the file it reads"
        );
        // A SQLite database that is not isms (no schema ledger).
        let foreign = dir.join("foreign.db");
        let other = Store::connect(&format!("sqlite://{}", foreign.display()))
            .await
            .unwrap();
        other
            .execute_raw("CREATE TABLE t (x INTEGER)")
            .await
            .unwrap();
        other.close().await;
        let out = isms(&url, &["restore", &foreign.display().to_string()], None);
        assert!(!out.status.success(), "{engine}");
        assert!(
            stderr(&out).contains("not an isms backup"),
            "{engine}: {}",
            stderr(&out)
        );
        // Nothing was written to the target.
        assert_eq!(store.count_orgs().await.unwrap(), 0, "{engine}");
        let frameworks = store
            .frameworks(isms_store::Tenant::Installation)
            .await
            .unwrap();
        assert!(
            frameworks.iter().any(|f| f.slug == "iso27001-2022"),
            "{engine}: a refused restore must leave the target as it was"
        );
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
