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
    let text = String::from_utf8_lossy(&a);
    for r in &d.rows {
        assert!(
            text.contains(&format!("({})", r.control_id)),
            "{}",
            r.control_id
        );
    }
    assert!(text.contains("(Version 2)"));
    assert!(text.contains("(Acme Ltd)"));
    assert!(text.contains("D:20261126063015"), "the SoA's date, not now");
    assert!(text.contains("Page 1 of "));
    let draft = String::from_utf8_lossy(&soa_pdf(&doc(None))).into_owned();
    assert!(draft.contains("(DRAFT)"));
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
}
