use super::*;

fn doc(version: Option<i64>) -> SoaDocument {
    let rows = (1..=37)
        .map(|n| ("5", n, "Organizational"))
        .chain((1..=8).map(|n| ("6", n, "People")))
        .chain((1..=14).map(|n| ("7", n, "Physical")))
        .chain((1..=34).map(|n| ("8", n, "Technological")))
        .map(|(c, n, theme)| SoaRow {
            control_id: format!("{c}.{n}"),
            title: format!("Control {c}.{n} with a title long enough to wrap in its column"),
            theme: theme.to_owned(),
            applicable: n % 5 != 0,
            justification: "Needed because the risk assessment found it treats several risks to customer data; \u{201c}quoted\u{201d} caf\u{e9}".repeat(if n == 3 { 6 } else { 1 }),
            reasons: vec!["Risk treatment".into(), "Contractual".into()],
            status: "Implemented".into(),
            owner: "ann@acme.test".into(),
            notes: String::new(),
        })
        .collect();
    SoaDocument {
        organisation: "Acme Ltd".into(),
        version,
        approved_by: version.map(|_| "ann@acme.test".into()),
        date: "2026-11-26T06:30:15.123456Z".into(),
        rows,
    }
}

#[test]
fn csv_has_a_header_and_one_row_per_control() {
    let d = doc(Some(2));
    let bytes = soa_csv(&d).unwrap();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(r.headers().unwrap().get(0), Some("Control"));
    let rows: Vec<_> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 93);
    assert_eq!(&rows[0][0], "5.1");
    assert_eq!(&rows[92][0], "8.34");
    assert_eq!(&rows[4][3], "No");
    assert_eq!(soa_csv(&d).unwrap(), bytes);
}

#[test]
fn pdf_is_deterministic_and_names_every_control_and_the_version() {
    let d = doc(Some(2));
    let a = soa_pdf(&d);
    assert_eq!(a, soa_pdf(&d), "same data, same bytes");
    assert!(a.starts_with(b"%PDF-"));
    let text = pdf_text(&a);
    for r in &d.rows {
        assert!(
            text.contains(&format!("\n{}\n", r.control_id)),
            "{}",
            r.control_id
        );
    }
    assert!(text.contains("Version 2\n"));
    assert!(text.contains("Acme Ltd\n"));
    assert!(
        String::from_utf8_lossy(&a).contains("D:20261126063015"),
        "the SoA's date, not now"
    );
    assert!(text.contains("Page 1 of "));
    assert!(text.contains("\u{201c}quoted\u{201d} caf\u{e9}"));
    let draft = pdf_text(&soa_pdf(&doc(None)));
    assert!(draft.contains("DRAFT\n"));
}

#[test]
fn pdf_prints_and_extracts_every_european_script_with_an_embedded_subset() {
    let names = [
        "Zasady bezpiecze\u{144}stwa \u{2014} \u{141}\u{f3}d\u{17a}",
        "\u{c6}r\u{f8}",
        "\u{3a0}\u{3b1}\u{3c0}\u{3b1}\u{3b4}\u{3cc}\u{3c0}\u{3bf}\u{3c5}\u{3bb}\u{3bf}\u{3c2}",
        "\u{418}\u{432}\u{430}\u{43d}\u{43e}\u{432}",
        "\u{15e}i\u{15f}li \u{11e}\u{fc}ne\u{15f} \u{150}r\u{171}",
    ];
    let mut d = doc(Some(1));
    d.organisation = names[0].into();
    d.rows[0].owner = names[1].into();
    d.rows[1].justification = format!("{} {}", names[2], names[4]);
    d.rows[2].title = names[3].into();
    let a = soa_pdf(&d);
    assert_eq!(a, soa_pdf(&d), "same data, same bytes");
    let text = pdf_text(&a);
    for n in names {
        assert!(text.contains(n), "{n} missing from:\n{}", &text[..2000]);
    }
    let raw = String::from_utf8_lossy(&a);
    assert!(raw.contains("/Subtype /Type0") && raw.contains("/CIDFontType2"));
    assert!(raw.contains("/Identity-H") && raw.contains("/ToUnicode"));
    assert!(raw.contains("+DejaVuSans-Bold") && raw.contains("/FontFile2"));
    assert!(!raw.contains("Helvetica"), "no standard font left");
    // A subset: far smaller than the two fonts (1.4 MB).
    assert!(a.len() < 400_000, "{} bytes", a.len());
}

#[test]
fn xlsx_is_deterministic() {
    let d = doc(Some(1));
    let a = soa_xlsx(&d).unwrap();
    assert!(a.starts_with(b"PK"));
    assert_eq!(a, soa_xlsx(&d).unwrap());
    let mut other = d.clone();
    other.rows[0].justification = "changed".into();
    assert_ne!(a, soa_xlsx(&other).unwrap());
}

#[test]
fn unreadable_dates_fall_back_instead_of_failing() {
    let mut d = doc(None);
    d.date = "yesterday".into();
    assert_eq!(d.date_parts(), (2000, 1, 1, 0, 0, 0));
    soa_xlsx(&d).unwrap();
}

#[test]
fn svg_bars_escape_labels() {
    let s = svg::progress_bars(
        "Progress <by theme>",
        &[("A & B".into(), 3, 4), ("None".into(), 0, 0)],
    );
    assert!(s.contains("A &amp; B") && s.contains("75% (3/4)") && s.contains("0% (0/0)"));
    assert!(!s.contains("style="));
    assert!(s.contains("viewBox=\"0 0 ") && s.contains("width=\"100%\""));
}

#[test]
fn csv_cells_never_start_a_formula() {
    let mut d = doc(Some(3));
    d.rows[0].justification = "=HYPERLINK(\"http://evil.example\",\"click\")".into();
    d.rows[1].notes = "+1".into();
    d.rows[2].notes = "-1".into();
    d.rows[3].justification = "@SUM(A1:A9)".into();
    d.rows[4].owner = "\t=1".into();
    d.rows[5].reasons = vec!["=cmd|' /C calc'!A0".into()];
    let bytes = soa_csv(&d).unwrap();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let rows: Vec<_> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 93);
    for row in &rows {
        for cell in row {
            assert!(!cells::starts_formula(cell), "{cell:?}");
        }
    }
    assert_eq!(
        &rows[0][4],
        "'=HYPERLINK(\"http://evil.example\",\"click\")"
    );
    assert_eq!(&rows[1][8], "'+1");
    assert_eq!(&rows[2][8], "'-1");
    assert_eq!(&rows[3][4], "'@SUM(A1:A9)");
    assert_eq!(&rows[4][7], "'\t=1");
    assert_eq!(&rows[5][5], "'=cmd|' /C calc'!A0");
    assert_eq!(
        &rows[6][4], &d.rows[6].justification,
        "plain text unchanged"
    );
}

/// The shared strings and the first sheet of an XLSX, as XML text.
fn xlsx_parts(bytes: &[u8]) -> (String, String) {
    // Without a zip reader in the tree: rust_xlsxwriter stores its parts
    // deflated, so look through the zip's central directory with the system
    // `unzip` when it is there, else skip.
    let dir = std::env::temp_dir().join(format!("isms-reports-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("t{}.xlsx", bytes.len()));
    std::fs::write(&file, bytes).unwrap();
    let read = |part: &str| {
        std::process::Command::new("unzip")
            .args(["-p", file.to_str().unwrap(), part])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8(o.stdout).unwrap())
    };
    let parts = (
        read("xl/sharedStrings.xml").unwrap_or_default(),
        read("xl/worksheets/sheet1.xml").unwrap_or_default(),
    );
    let _ = std::fs::remove_file(&file);
    parts
}

#[test]
fn xlsx_splits_text_over_excels_cell_limit_into_continued_rows() {
    let mut d = doc(Some(1));
    let long: String = (0..40_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    d.rows[2].justification.clone_from(&long);
    d.rows[2].notes = "=HYPERLINK(\"http://evil.example\")".into();
    let a = soa_xlsx(&d).unwrap();
    assert_eq!(a, soa_xlsx(&d).unwrap(), "still deterministic");
    let (strings, sheet) = xlsx_parts(&a);
    if sheet.is_empty() {
        eprintln!("unzip not available: XLSX parts not inspected");
        return;
    }
    assert!(!sheet.contains("<f>"), "no formula anywhere");
    assert!(strings.contains("5.3 (continued 2/3)"));
    assert!(strings.contains("5.3 (continued 3/3)"));
    assert!(
        strings.contains(">=HYPERLINK(&quot;http://evil.example&quot;)<")
            || strings.contains(">=HYPERLINK(\"http://evil.example\")<"),
        "kept verbatim as a string"
    );
    // The pieces, in order, give the justification back.
    let pieces = cells::xlsx_pieces(&long);
    assert_eq!(pieces.len(), 3);
    let mut at = 0;
    for p in &pieces {
        at += strings[at..].find(p).expect("piece present in order");
    }
    // 93 controls, a header and two continuation rows.
    assert!(sheet.contains("<row r=\"96\""), "rows run to 96");
    assert!(!sheet.contains("<row r=\"97\""));
    assert!(sheet.contains("<autoFilter ref=\"A1:I96\""));
}

#[test]
fn gap_xlsx_takes_text_over_the_cell_limit() {
    let item = GapItem {
        ref_id: "6.1.2".into(),
        title: "Risk assessment".into(),
        priority: 1,
        status: "Not started".into(),
        maturity: 0,
        owner: "-owner".into(),
        target_date: String::new(),
        notes: "n".repeat(70_000),
        actions: "+1".into(),
    };
    let d = GapDocument {
        organisation: "Acme".into(),
        assessment: "A".into(),
        framework: "ISO".into(),
        date: "2026-11-26T07:00:00Z".into(),
        groups: vec![GapGroup {
            name: "Clause 6".into(),
            implemented: 0,
            applicable: 1,
            items: vec![item],
        }],
    };
    let a = gap_xlsx(&d).unwrap();
    let (strings, sheet) = xlsx_parts(&a);
    if sheet.is_empty() {
        return;
    }
    assert!(!sheet.contains("<f>"));
    assert!(strings.contains("6.1.2 (continued 5/5)"));
}
