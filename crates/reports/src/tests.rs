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

/// The text of each page of a PDF, in page order.
fn page_texts(pdf: &[u8]) -> Vec<String> {
    let doc = lopdf::Document::load_mem(pdf).expect("a readable PDF");
    doc.get_pages()
        .keys()
        .map(|&n| doc.extract_text(&[n]).expect("extractable text"))
        .collect()
}

/// 300 risks, highest level first: 40 Critical, 100 High, 150 Medium and
/// 10 Low, some with descriptions long enough to wrap over several lines.
fn register_lines() -> Vec<risk::RiskLine> {
    let levels = [
        ("Critical", 40),
        ("High", 100),
        ("Medium", 150),
        ("Low", 10),
    ];
    let mut out = Vec::new();
    for (level, n) in levels {
        for _ in 0..n {
            let i = out.len();
            out.push(risk::RiskLine {
                key: format!("RISK-{i}"),
                title: format!("Ransomware at site {i}"),
                description: if i % 9 == 0 {
                    format!("A long description of scenario {i} ").repeat(8)
                } else {
                    format!("Scenario {i}")
                },
                assets: vec!["CRM".into(), format!("Asset {i}")],
                likelihood: 4,
                impact: 3,
                level: level.into(),
                treatment: "modify".into(),
                annex_a_controls: vec!["8.7".into()],
                residual_likelihood: 2,
                residual_impact: 2,
                residual_level: "Low".into(),
                status: "identified".into(),
                owner: "rob@acme.test".into(),
                next_review: String::new(),
            });
        }
    }
    out
}

fn streamed_register(lines: &[risk::RiskLine]) -> Vec<u8> {
    let mut out =
        risk::RiskExport::new(risk::Kind::Pdf, "Acme Ltd", "2026-11-26T07:00:00.000000Z").unwrap();
    for l in lines {
        out.push(l).unwrap();
    }
    out.finish().unwrap()
}

#[test]
fn a_streamed_register_pdf_reads_back_every_risk_and_numbers_its_pages() {
    let lines = register_lines();
    let pdf = streamed_register(&lines);
    let pages = page_texts(&pdf);
    let total = pages.len();
    assert!(total > 10, "several pages of rows: {total}");
    for (i, page) in pages.iter().enumerate() {
        assert!(
            page.contains(&format!("Page {} of {total}\n", i + 1)),
            "page {}: {page}",
            i + 1
        );
        assert!(page.contains("Acme Ltd \u{2013} Risk register \u{2013} 2026-11-26"));
    }
    assert!(pages[0].contains("Risk register\n") && pages[0].contains("Risks\n300\n"));
    assert!(pages[total - 1].contains(&format!("Page {total} of {total}\n")));
    let text = pages.concat();
    for l in &lines {
        assert!(text.contains(&format!("\n{}\n", l.key)), "{}", l.key);
        assert!(text.contains(&l.title), "{}", l.title);
    }
    // Every table page repeats the column headings.
    assert!(pages[1..].iter().all(|p| p.contains("Key\nRisk\nAssets\n")));
    // The same document in one call: the same layout, the same bytes.
    let doc = risk::RiskDocument {
        organisation: "Acme Ltd".into(),
        date: "2026-11-26T07:00:00.000000Z".into(),
        risks: lines,
    };
    assert_eq!(risk::risk_pdf(&doc), pdf);
}

#[test]
fn a_streamed_register_pdf_is_deterministic() {
    let mut lines = register_lines();
    let a = streamed_register(&lines);
    assert_eq!(a, streamed_register(&lines), "same data, same bytes");
    lines[150].title = "Changed".into();
    assert_ne!(a, streamed_register(&lines));
}

#[test]
fn band_headings_count_their_risks_and_never_end_a_page() {
    let lines = register_lines();
    let pages = page_texts(&streamed_register(&lines));
    let text = pages.concat();
    for (level, n, first) in [
        ("Critical", 40, 0),
        ("High", 100, 40),
        ("Medium", 150, 140),
        ("Low", 10, 290),
    ] {
        let heading = format!("Inherent level: {level} ({n} risks)\n");
        assert_eq!(text.matches(&heading).count(), 1, "{heading}");
        // On the page of the band's first risk, just before it.
        let page = pages
            .iter()
            .find(|p| p.contains(&heading))
            .expect("a page with the heading");
        let at = page.find(&heading).unwrap();
        assert!(
            page[at..].starts_with(&format!("{heading}RISK-{first}\n")),
            "{}",
            &page[at..]
        );
    }
    assert!(!text.contains("Inherent level: Critical (1"));
}

#[test]
fn a_streamed_treatment_plan_pdf_totals_its_lines_on_the_title_page() {
    let lines: Vec<risk::TreatmentLine> = (0..400)
        .map(|i| risk::TreatmentLine {
            risk_key: format!("RISK-{}", i / 4),
            risk_title: format!("Risk {}", i / 4),
            risk_owner: "rob@acme.test".into(),
            treatment: "modify".into(),
            annex_a_controls: vec!["8.7".into()],
            level: "High".into(),
            residual_level: "Low".into(),
            acceptance: String::new(),
            action: if i % 4 == 3 {
                String::new()
            } else {
                format!("Action {i}")
            },
            action_owner: "ann@acme.test".into(),
            due_date: "2026-12-01".into(),
            action_status: "Planned".into(),
            cost: if i % 4 == 3 { 0 } else { 10 },
            overdue: i % 40 == 0,
        })
        .collect();
    let plan = || {
        let mut out = risk::TreatmentExport::new(
            risk::Kind::Pdf,
            "Acme Ltd",
            "2026-11-26T07:00:00.000000Z",
            "EUR",
        )
        .unwrap();
        for l in &lines {
            out.push(l).unwrap();
        }
        out.finish().unwrap()
    };
    let pdf = plan();
    assert_eq!(pdf, plan(), "same data, same bytes");
    let pages = page_texts(&pdf);
    let total = pages.len();
    assert!(total > 5, "{total}");
    let cover = &pages[0];
    for fact in [
        "Risks\n100\n",
        "Actions\n300\n",
        "Overdue actions\n10\n",
        "Planned cost\n3000 EUR\n",
        "10 overdue action(s)\n",
    ] {
        assert!(cover.contains(fact), "{fact} in {cover}");
    }
    assert!(pages[total - 1].contains(&format!("Page {total} of {total}\n")));
    let text = pages.concat();
    assert!(text.contains("RISK-99 Risk 99 - modify - High to Low - controls 8.7\n"));
    assert!(text.contains("Action 398\n") && text.contains("(no action planned)\n"));
}
