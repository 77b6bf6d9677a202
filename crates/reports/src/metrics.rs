//! The metrics report (ISO/IEC 27001:2022, 9.1) as PDF: a summary page with
//! every metric's latest value and status, then one page per metric with its
//! definition, target and thresholds, and its trend drawn against the target.
//! The same document always gives the same bytes.

use pdf_writer::{Content, Date, Pdf, Rect, Ref, TextStr};

use crate::pdf::{BOLD, Fonts, REGULAR, text_at};
use crate::svg::format_value;
use crate::text::{width, wrap};

/// One metric, ready to print.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricLine {
    pub name: String,
    pub information_need: String,
    pub measured: String,
    pub method: String,
    pub unit: String,
    pub target: f64,
    /// Higher values are better (else lower ones).
    pub higher_is_better: bool,
    pub red_threshold: Option<f64>,
    /// As a label ("Monthly").
    pub frequency: String,
    pub collector: String,
    pub analyst: String,
    pub evaluates: String,
    /// (YYYY-MM-DD, value) of the latest measurement.
    pub latest: Option<(String, f64)>,
    /// green, amber or red of the latest value.
    pub status: Option<String>,
    /// Not measured within its frequency.
    pub overdue: bool,
    /// Every measurement, oldest first.
    pub points: Vec<(String, f64)>,
}

impl MetricLine {
    /// "Off target (red)", ..., or "Not measured".
    pub fn status_label(&self) -> String {
        match self.status.as_deref() {
            Some("green") => "On target (green)".to_owned(),
            Some("amber") => "Near target (amber)".to_owned(),
            Some("red") => "Off target (red)".to_owned(),
            Some(other) => other.to_owned(),
            None => "Not measured".to_owned(),
        }
    }

    /// The three bands in words.
    pub fn thresholds_text(&self) -> String {
        let u = if self.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", self.unit)
        };
        let t = format_value(self.target);
        match (self.higher_is_better, self.red_threshold) {
            (true, Some(r)) => {
                let r = format_value(r);
                format!(
                    "green at or above {t}{u}; amber below {t} down to above {r}{u}; red at or below {r}{u}"
                )
            }
            (false, Some(r)) => {
                let r = format_value(r);
                format!(
                    "green at or below {t}{u}; amber above {t} up to below {r}{u}; red at or above {r}{u}"
                )
            }
            (true, None) => format!("green at or above {t}{u}; red below (no amber band)"),
            (false, None) => format!("green at or below {t}{u}; red above (no amber band)"),
        }
    }
}

/// The metrics of an organisation to report.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsDocument {
    pub organisation: String,
    /// RFC 3339: the latest change or measurement; the only date in the file.
    pub date: String,
    pub metrics: Vec<MetricLine>,
}

const W: f32 = 842.0;
const H: f32 = 595.0;
const MARGIN: f32 = 36.0;
const NAVY: (f32, f32, f32) = (0.11, 0.23, 0.42);

fn rag_colour(status: Option<&str>) -> (f32, f32, f32) {
    match status {
        Some("green") => (0.18, 0.49, 0.2),
        Some("amber") => (0.85, 0.55, 0.0),
        Some("red") => (0.75, 0.1, 0.1),
        _ => (0.6, 0.62, 0.66),
    }
}

fn footer(c: &mut Content, fonts: &mut Fonts, text: &str, page: usize, total: usize) {
    c.set_stroke_rgb(0.75, 0.77, 0.8);
    c.set_line_width(0.5);
    c.move_to(MARGIN, 32.0);
    c.line_to(W - MARGIN, 32.0);
    c.stroke();
    c.set_fill_rgb(0.3, 0.32, 0.36);
    text_at(c, fonts, REGULAR, 8.0, MARGIN, 20.0, text);
    let right = format!("Page {page} of {total}");
    text_at(
        c,
        fonts,
        REGULAR,
        8.0,
        W - MARGIN - width(&right, 8.0, false),
        20.0,
        &right,
    );
    c.set_fill_rgb(0.0, 0.0, 0.0);
}

/// A small filled square in the status colour, beside the status in words
/// (colour is never the only signal).
fn swatch(c: &mut Content, status: Option<&str>, x: f32, y: f32) {
    let (red, green, blue) = rag_colour(status);
    c.set_fill_rgb(red, green, blue);
    c.rect(x, y, 8.0, 8.0);
    c.fill_nonzero();
    c.set_fill_rgb(0.0, 0.0, 0.0);
}

fn latest_text(m: &MetricLine) -> String {
    match &m.latest {
        Some((d, v)) => format!("{} {} on {d}", format_value(*v), m.unit),
        None => "not measured".to_owned(),
    }
}

const SUMMARY_ROW: f32 = 15.0;
const SUMMARY_TOP_FIRST: f32 = H - 250.0;
const SUMMARY_TOP: f32 = H - MARGIN - 20.0;
const SUMMARY_BOTTOM: f32 = 50.0;

/// Splits the summary rows over pages: the first page has the title above.
fn summary_pages(n: usize) -> Vec<std::ops::Range<usize>> {
    let first = ((SUMMARY_TOP_FIRST - SUMMARY_BOTTOM) / SUMMARY_ROW) as usize;
    let more = ((SUMMARY_TOP - SUMMARY_BOTTOM) / SUMMARY_ROW) as usize;
    let mut out = Vec::new();
    out.push(0..n.min(first));
    let mut at = n.min(first);
    while at < n {
        out.push(at..n.min(at + more));
        at = n.min(at + more);
    }
    out
}

#[allow(clippy::many_single_char_names)] // drawing: c, x, y, m read best short
fn summary_page(
    c: &mut Content,
    fonts: &mut Fonts,
    doc: &MetricsDocument,
    rows: std::ops::Range<usize>,
    first: bool,
) {
    let mut y = SUMMARY_TOP;
    if first {
        c.set_fill_rgb(NAVY.0, NAVY.1, NAVY.2);
        c.rect(MARGIN, H - 90.0, W - 2.0 * MARGIN, 6.0);
        c.fill_nonzero();
        c.set_fill_rgb(0.0, 0.0, 0.0);
        text_at(c, fonts, BOLD, 28.0, MARGIN, H - 130.0, "Metrics report");
        text_at(
            c,
            fonts,
            REGULAR,
            13.0,
            MARGIN,
            H - 152.0,
            "Monitoring and measurement results (ISO/IEC 27001:2022, clause 9.1)",
        );
        let count = |s: &str| {
            doc.metrics
                .iter()
                .filter(|m| m.status.as_deref() == Some(s))
                .count()
        };
        let unmeasured = doc.metrics.iter().filter(|m| m.latest.is_none()).count();
        let facts = [
            ("Organisation", doc.organisation.clone()),
            ("Date", doc.date.get(..10).unwrap_or("").to_owned()),
            (
                "Metrics",
                format!(
                    "{}: {} on target, {} near target, {} off target, {} not measured",
                    doc.metrics.len(),
                    count("green"),
                    count("amber"),
                    count("red"),
                    unmeasured
                ),
            ),
        ];
        let mut fy = H - 180.0;
        for (k, v) in facts {
            text_at(c, fonts, BOLD, 10.0, MARGIN, fy, k);
            text_at(c, fonts, REGULAR, 10.0, MARGIN + 90.0, fy, &v);
            fy -= 14.0;
        }
        y = SUMMARY_TOP_FIRST;
    }
    let cols = [
        ("Metric", MARGIN),
        ("Target", MARGIN + 330.0),
        ("Latest value", MARGIN + 450.0),
        ("Status", MARGIN + 600.0),
    ];
    c.set_fill_rgb(0.9, 0.92, 0.95);
    c.rect(MARGIN, y - 4.0, W - 2.0 * MARGIN, SUMMARY_ROW);
    c.fill_nonzero();
    c.set_fill_rgb(0.0, 0.0, 0.0);
    for (name, x) in cols {
        text_at(c, fonts, BOLD, 8.5, x + 3.0, y, name);
    }
    for m in &doc.metrics[rows] {
        y -= SUMMARY_ROW;
        let name = wrap(&m.name, 8.5, false, 320.0);
        text_at(
            c,
            fonts,
            REGULAR,
            8.5,
            cols[0].1 + 3.0,
            y,
            name.first().map_or("", String::as_str),
        );
        let direction = if m.higher_is_better {
            "\u{2265}"
        } else {
            "\u{2264}"
        };
        text_at(
            c,
            fonts,
            REGULAR,
            8.5,
            cols[1].1 + 3.0,
            y,
            &format!("{direction} {} {}", format_value(m.target), m.unit),
        );
        text_at(c, fonts, REGULAR, 8.5, cols[2].1 + 3.0, y, &latest_text(m));
        swatch(c, m.status.as_deref(), cols[3].1 + 3.0, y - 1.0);
        let mut status = m.status_label();
        if m.overdue {
            status.push_str(", measurement due");
        }
        text_at(c, fonts, REGULAR, 8.5, cols[3].1 + 15.0, y, &status);
    }
}

/// The definition facts and the chart of one metric.
#[allow(clippy::many_single_char_names)] // drawing: c, x, y, m read best short
fn metric_page(c: &mut Content, fonts: &mut Fonts, m: &MetricLine) {
    let mut y = H - MARGIN - 16.0;
    for line in wrap(&m.name, 16.0, true, W - 2.0 * MARGIN) {
        text_at(c, fonts, BOLD, 16.0, MARGIN, y, &line);
        y -= 19.0;
    }
    y -= 4.0;
    swatch(c, m.status.as_deref(), MARGIN, y - 1.0);
    let mut status = format!(
        "Status: {} \u{2013} latest {}",
        m.status_label(),
        latest_text(m)
    );
    if m.overdue {
        status.push_str(" \u{2013} a measurement is due");
    }
    text_at(c, fonts, BOLD, 10.0, MARGIN + 13.0, y, &status);
    y -= 20.0;
    let unit = m.unit.clone();
    let facts = [
        ("Information need", m.information_need.clone()),
        ("What is measured", m.measured.clone()),
        ("Method or formula", m.method.clone()),
        ("Unit", unit),
        (
            "Target",
            format!(
                "{} {} ({} is better)",
                format_value(m.target),
                m.unit,
                if m.higher_is_better {
                    "higher"
                } else {
                    "lower"
                }
            ),
        ),
        ("Thresholds", m.thresholds_text()),
        ("Frequency", m.frequency.clone()),
        ("Collected by", m.collector.clone()),
        ("Analysed by", m.analyst.clone()),
        ("Evaluates", m.evaluates.clone()),
    ];
    for (k, v) in facts {
        let v = if v.is_empty() {
            "\u{2013}".to_owned()
        } else {
            v
        };
        text_at(c, fonts, BOLD, 9.0, MARGIN, y, k);
        let lines = wrap(&v, 9.0, false, W - 2.0 * MARGIN - 120.0);
        for (i, line) in lines.iter().take(3).enumerate() {
            text_at(
                c,
                fonts,
                REGULAR,
                9.0,
                MARGIN + 120.0,
                y - i as f32 * 11.0,
                line,
            );
        }
        y -= 4.0 + 11.0 * lines.len().clamp(1, 3) as f32;
    }
    chart(c, fonts, m, (MARGIN, 50.0, W - MARGIN, y.min(300.0) - 14.0));
}

/// The trend of `m`'s values against its target (and red threshold), drawn
/// in the box (left, bottom, right, top).
#[allow(clippy::many_single_char_names)] // drawing: c, x, y, m read best short
fn chart(c: &mut Content, fonts: &mut Fonts, m: &MetricLine, bx: (f32, f32, f32, f32)) {
    let (left, bottom, right, top) = bx;
    text_at(
        c,
        fonts,
        BOLD,
        10.0,
        left,
        top + 4.0,
        &format!("Trend against the target ({} measurements)", m.points.len()),
    );
    let (pl, pb, pr, pt) = (left + 50.0, bottom + 18.0, right - 90.0, top - 10.0);
    let mut lo = m.target;
    let mut hi = m.target;
    if let Some(r) = m.red_threshold {
        lo = lo.min(r);
        hi = hi.max(r);
    }
    for (_, v) in &m.points {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    if (hi - lo).abs() < f64::EPSILON {
        lo -= 1.0;
        hi += 1.0;
    }
    let pad = (hi - lo) * 0.1;
    let (lo, hi) = (lo - pad, hi + pad);
    let y_of = |v: f64| pb + ((v - lo) / (hi - lo)) as f32 * (pt - pb);
    let n = m.points.len();
    let x_of = |i: usize| {
        if n <= 1 {
            f32::midpoint(pl, pr)
        } else {
            pl + (pr - pl) * i as f32 / (n - 1) as f32
        }
    };
    // Axes.
    c.set_stroke_rgb(0.6, 0.65, 0.69);
    c.set_line_width(0.6);
    c.move_to(pl, pt);
    c.line_to(pl, pb);
    c.line_to(pr, pb);
    c.stroke();
    c.set_fill_rgb(0.12, 0.16, 0.2);
    for v in [lo + pad, hi - pad] {
        let s = format_value(v);
        text_at(
            c,
            fonts,
            REGULAR,
            8.0,
            pl - 4.0 - width(&s, 8.0, false),
            y_of(v) - 3.0,
            &s,
        );
    }
    // Target (green, dashed) and red threshold (red, dotted), labelled at the right.
    let mut line = |v: f64, rgb: (f32, f32, f32), dash: [f32; 2], label: String| {
        let y = y_of(v);
        c.set_stroke_rgb(rgb.0, rgb.1, rgb.2);
        c.set_line_width(1.0);
        c.set_dash_pattern(dash, 0.0);
        c.move_to(pl, y);
        c.line_to(pr, y);
        c.stroke();
        c.set_dash_pattern([], 0.0);
        c.set_fill_rgb(rgb.0, rgb.1, rgb.2);
        text_at(c, fonts, REGULAR, 8.0, pr + 4.0, y - 3.0, &label);
    };
    line(
        m.target,
        (0.18, 0.49, 0.2),
        [6.0, 4.0],
        format!("target {} {}", format_value(m.target), m.unit),
    );
    if let Some(r) = m.red_threshold {
        line(
            r,
            (0.75, 0.1, 0.1),
            [2.0, 2.0],
            format!("red {} {}", format_value(r), m.unit),
        );
    }
    c.set_fill_rgb(0.12, 0.16, 0.2);
    if n == 0 {
        let s = "No measurements yet";
        text_at(
            c,
            fonts,
            REGULAR,
            11.0,
            f32::midpoint(pl, pr) - width(s, 11.0, false) / 2.0,
            f32::midpoint(pb, pt),
            s,
        );
        return;
    }
    // The values: a line and a marker per measurement.
    c.set_stroke_rgb(NAVY.0, NAVY.1, NAVY.2);
    c.set_line_width(1.6);
    for (i, (_, v)) in m.points.iter().enumerate() {
        if i == 0 {
            c.move_to(x_of(i), y_of(*v));
        } else {
            c.line_to(x_of(i), y_of(*v));
        }
    }
    if n > 1 {
        c.stroke();
    }
    c.set_fill_rgb(NAVY.0, NAVY.1, NAVY.2);
    for (i, (_, v)) in m.points.iter().enumerate() {
        c.rect(x_of(i) - 2.5, y_of(*v) - 2.5, 5.0, 5.0);
    }
    c.fill_nonzero();
    c.set_fill_rgb(0.12, 0.16, 0.2);
    let first = &m.points[0].0;
    text_at(c, fonts, REGULAR, 8.0, pl, pb - 12.0, first);
    if n > 1 {
        let last = &m.points[n - 1].0;
        text_at(
            c,
            fonts,
            REGULAR,
            8.0,
            pr - width(last, 8.0, false),
            pb - 12.0,
            last,
        );
    }
    // The latest value in words beside its marker.
    if let Some((_, v)) = m.points.last() {
        let s = format!("{} {}", format_value(*v), m.unit);
        text_at(
            c,
            fonts,
            BOLD,
            8.0,
            x_of(n - 1) - width(&s, 8.0, true) / 2.0,
            y_of(*v) + 6.0,
            &s,
        );
    }
    c.set_fill_rgb(0.0, 0.0, 0.0);
}

/// The metrics report as a PDF. The same document always gives the same bytes.
pub fn metrics_pdf(doc: &MetricsDocument) -> Vec<u8> {
    let summary = summary_pages(doc.metrics.len());
    let total = summary.len() + doc.metrics.len();
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let mut next = 6;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let page_ids: Vec<(Ref, Ref)> = (0..total).map(|_| (alloc(), alloc())).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(total as i32);
    let (year, month, day, hour, minute, second) = crate::date_parts(&doc.date);
    let date = Date::new(year)
        .month(month)
        .day(day)
        .hour(hour)
        .minute(minute)
        .second(second)
        .utc_offset_hour(0);
    let title = format!("Metrics report: {}", doc.organisation);
    pdf.document_info(info)
        .title(TextStr(&title))
        .author(TextStr(&doc.organisation))
        .creator(TextStr("isms"))
        .producer(TextStr("isms"))
        .creation_date(date)
        .modified_date(date);
    let foot = format!(
        "{} \u{2013} Metrics report \u{2013} {}",
        doc.organisation,
        doc.date.get(..10).unwrap_or("")
    );
    let mut fonts = Fonts::new();
    for (i, (page_id, content_id)) in page_ids.iter().enumerate() {
        let mut c = Content::new();
        if i < summary.len() {
            summary_page(&mut c, &mut fonts, doc, summary[i].clone(), i == 0);
        } else {
            metric_page(&mut c, &mut fonts, &doc.metrics[i - summary.len()]);
        }
        footer(&mut c, &mut fonts, &foot, i + 1, total);
        pdf.stream(*content_id, &c.finish());
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, W, H))
            .parent(tree)
            .contents(*content_id);
        page.resources()
            .fonts()
            .pair(REGULAR, regular)
            .pair(BOLD, bold);
    }
    fonts.write(&mut pdf, regular, bold, &mut alloc);
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(name: &str, status: Option<&str>, points: Vec<(String, f64)>) -> MetricLine {
        MetricLine {
            name: name.into(),
            information_need: "Do people know what is expected?".into(),
            measured: "Completed trainings".into(),
            method: "completed / staff x 100".into(),
            unit: "%".into(),
            target: 95.0,
            higher_is_better: true,
            red_threshold: Some(80.0),
            frequency: "Monthly".into(),
            collector: "mia@acme.test".into(),
            analyst: String::new(),
            evaluates: "A.6.3".into(),
            latest: points.last().cloned(),
            status: status.map(str::to_owned),
            overdue: false,
            points,
        }
    }

    #[test]
    fn the_report_names_each_metric_its_status_and_thresholds_and_is_stable() {
        let doc = MetricsDocument {
            organisation: "Acme Ltd".into(),
            date: "2026-11-26T07:00:00.000000Z".into(),
            metrics: vec![
                metric(
                    "Staff trained",
                    Some("red"),
                    vec![("2026-01-31".into(), 70.0), ("2026-02-28".into(), 72.5)],
                ),
                metric("Patch latency", None, vec![]),
            ],
        };
        let pdf = metrics_pdf(&doc);
        assert_eq!(pdf, metrics_pdf(&doc));
        let text = crate::pdf_text(&pdf);
        for needle in [
            "Metrics report",
            "Staff trained",
            "Off target (red)",
            "72.5 % on 2026-02-28",
            "green at or above 95 %",
            "red at or below 80 %",
            "Trend against the target (2 measurements)",
            "target 95 %",
            "No measurements yet",
            "Page 3 of 3",
        ] {
            assert!(text.contains(needle), "{needle} not in {text}");
        }
    }

    #[test]
    fn many_metrics_continue_the_summary_on_further_pages() {
        assert_eq!(summary_pages(3), vec![0..3]);
        let p = summary_pages(100);
        assert!(p.len() > 2 && p.last().unwrap().end == 100);
    }
}
