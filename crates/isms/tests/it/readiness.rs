//! The real binary on every engine: `isms report soa` (PDF, XLSX, CSV;
//! deterministic; the approved version by default) and `isms readiness`.

use std::process::{Command, Output, Stdio};

use isms_store::{Actor, SoaPatch, SoaUpdate, Store};

const BIN: &str = env!("CARGO_BIN_EXE_isms");

fn isms(db: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--database")
        .arg(db)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run isms")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The text of a PDF file, as a reader extracts it.
fn pdf_text(path: &std::path::Path) -> String {
    crate::support::pdf_text(&std::fs::read(path).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_and_readiness_from_the_command_line() {
    for (engine, db) in crate::support::database_urls().await {
        let dir = std::env::temp_dir().join(format!("isms_report_{}_{engine}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let o = isms(&db, &["org", "create", "Acme Trading Ltd"]);
        assert!(o.status.success(), "{engine}: {}", err(&o));

        // A new organisation is not ready, and the checklist says what is missing.
        let o = isms(&db, &["readiness", "--org", "acme-trading-ltd"]);
        assert!(
            !o.status.success(),
            "{engine}: readiness must fail for a new organisation"
        );
        let text = out(&o);
        for item in [
            "Scope of the ISMS",
            "Statement of Applicability",
            "Information security objectives",
            "Management review results",
            "Nonconformities and corrective actions",
        ] {
            assert!(text.contains(item), "{item} in {text}");
        }
        assert!(text.contains("0 of 15 ready"), "{text}");
        assert!(err(&o).contains("not ready"));
        let o = isms(&db, &["readiness", "--org", "nope"]);
        assert!(!o.status.success() && err(&o).contains("no organisation with the slug 'nope'"));

        // Without an approved version the draft is exported, marked DRAFT.
        let draft = dir.join("draft.pdf");
        let o = isms(
            &db,
            &[
                "report",
                "soa",
                "--org",
                "acme-trading-ltd",
                "--format",
                "pdf",
                "-o",
                draft.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{engine}: {}", err(&o));
        assert!(pdf_text(&draft).contains("DRAFT"));

        // Five controls excluded, one version approved.
        let store = Store::connect(&db).await.unwrap();
        let org = store.require_org("acme-trading-ltd").await.unwrap();
        for id in ["7.4", "7.5", "7.6", "7.8", "8.30"] {
            let patch = SoaPatch {
                applicable: Some(false),
                justification: Some(format!(
                    "{id} does not apply: we own no premises and develop nothing outside"
                )),
                version: Some(1),
                ..SoaPatch::default()
            };
            let r = store
                .update_soa_entry(org.id, id, &patch, &Actor::cli())
                .await
                .unwrap();
            assert!(matches!(r, SoaUpdate::Saved(_)));
        }
        store.approve_soa(org.id, "", &Actor::cli()).await.unwrap();
        store.close().await;

        let pdf = dir.join("soa.pdf");
        let o = isms(
            &db,
            &[
                "report",
                "soa",
                "--org",
                "acme-trading-ltd",
                "--format",
                "pdf",
                "-o",
                pdf.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{engine}: {}", err(&o));
        assert!(out(&o).contains("Version 1"), "{}", out(&o));
        let text = pdf_text(&pdf);
        assert!(text.contains("Acme Trading Ltd"), "{engine}");
        assert!(text.contains("Version 1"));
        assert!(!text.contains("DRAFT"));
        for c in isms_catalog::annex_a_controls() {
            assert!(
                text.split_whitespace().any(|w| w == c.control_id),
                "{engine}: {} missing from the PDF",
                c.control_id
            );
        }
        let again = dir.join("soa2.pdf");
        isms(
            &db,
            &[
                "report",
                "soa",
                "--org",
                "acme-trading-ltd",
                "--format",
                "pdf",
                "--version",
                "1",
                "-o",
                again.to_str().unwrap(),
            ],
        );
        assert_eq!(
            std::fs::read(&pdf).unwrap(),
            std::fs::read(&again).unwrap(),
            "byte-identical"
        );

        let (x1, x2) = (dir.join("a.xlsx"), dir.join("b.xlsx"));
        for x in [&x1, &x2] {
            let o = isms(
                &db,
                &[
                    "report",
                    "soa",
                    "--org",
                    "acme-trading-ltd",
                    "--format",
                    "xlsx",
                    "-o",
                    x.to_str().unwrap(),
                ],
            );
            assert!(o.status.success(), "{}", err(&o));
        }
        assert_eq!(
            std::fs::read(&x1).unwrap(),
            std::fs::read(&x2).unwrap(),
            "{engine}: byte-identical XLSX"
        );
        let check = "import openpyxl,sys\nws=openpyxl.load_workbook(sys.argv[1]).active\nrows=list(ws.iter_rows(values_only=True))\nprint(len(rows)-1, rows[1][0], rows[-1][0], sum(1 for r in rows[1:] if r[3]=='No'))";
        let py = Command::new("python3")
            .args(["-c", check, x1.to_str().unwrap()])
            .output();
        match py {
            Ok(o) if o.status.success() => assert_eq!(out(&o).trim(), "93 5.1 8.34 5", "{engine}"),
            _ => eprintln!("python3 with openpyxl not available: XLSX not opened"),
        }

        let (c1, c2) = (dir.join("a.csv"), dir.join("b.csv"));
        for c in [&c1, &c2] {
            assert!(
                isms(
                    &db,
                    &[
                        "report",
                        "soa",
                        "--org",
                        "acme-trading-ltd",
                        "--format",
                        "csv",
                        "-o",
                        c.to_str().unwrap()
                    ]
                )
                .status
                .success()
            );
        }
        let csv = std::fs::read_to_string(&c1).unwrap();
        assert_eq!(csv.lines().count(), 94, "a header and 93 rows");
        assert_eq!(csv.matches(",No,").count(), 5);
        assert_eq!(csv, std::fs::read_to_string(&c2).unwrap());

        let o = isms(
            &db,
            &[
                "report",
                "soa",
                "--org",
                "acme-trading-ltd",
                "--format",
                "docx",
                "-o",
                "x",
            ],
        );
        assert!(
            !o.status.success() && err(&o).contains("unknown format 'docx'"),
            "{}",
            err(&o)
        );
        let o = isms(
            &db,
            &[
                "report",
                "soa",
                "--org",
                "acme-trading-ltd",
                "--format",
                "pdf",
                "--version",
                "7",
                "-o",
                "x",
            ],
        );
        assert!(
            !o.status.success() && err(&o).contains("no approved version 7"),
            "{}",
            err(&o)
        );

        // The SoA item now reports the missing justifications.
        let o = isms(&db, &["readiness", "--org", "acme-trading-ltd"]);
        assert!(!o.status.success());
        assert!(
            out(&o).contains("version 1 approved, but 88 control(s) lack a justification"),
            "{}",
            out(&o)
        );
    }
}
