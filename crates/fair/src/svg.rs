//! Loss exceedance chart as a standalone SVG (no scripts, no external resources).

use std::fmt::Write as _;

const PALETTE: [&str; 8] = [
    "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f",
];
const TOLERANCE_COLOUR: &str = "#c0392b";

/// A line to draw: label, points, colour, dashed.
type Series<'a> = (String, Vec<(f64, f64)>, &'a str, bool);

/// Escapes text for SVG/XML content and attribute values.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Short money label for an axis tick: 500, 10k, 2.5M, 1B.
pub fn short_money(x: f64) -> String {
    let (v, unit) = if x >= 1e9 {
        (x / 1e9, "B")
    } else if x >= 1e6 {
        (x / 1e6, "M")
    } else if x >= 1e3 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    let s = if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round())
    } else {
        format!("{v:.1}")
    };
    format!("{s}{unit}")
}

/// Renders loss exceedance curves: money on a log-scale x axis, the probability that a year's
/// loss exceeds it on the y axis (0-100%). `curves` are `(label, [(loss, probability)])` as in
/// [`crate::Summary::lec`]; `tolerance` is drawn as a dashed line. Points with loss <= 0 cannot sit
/// on a log axis and are skipped.
pub fn lec_svg(
    curves: &[(&str, &[(f64, f64)])],
    tolerance: Option<&[(f64, f64)]>,
    width: u32,
    height: u32,
) -> String {
    let width = f64::from(width.max(240));
    let height = f64::from(height.max(160));
    let positive = |pts: &[(f64, f64)]| -> Vec<(f64, f64)> {
        let mut v: Vec<(f64, f64)> = pts
            .iter()
            .copied()
            .filter(|(l, p)| *l > 0.0 && l.is_finite() && p.is_finite())
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    };
    let series: Vec<Series> = curves
        .iter()
        .enumerate()
        .map(|(i, (name, pts))| {
            (
                (*name).to_string(),
                positive(pts),
                PALETTE[i % PALETTE.len()],
                false,
            )
        })
        .chain(tolerance.map(|t| {
            (
                "Risk tolerance".to_string(),
                positive(t),
                TOLERANCE_COLOUR,
                true,
            )
        }))
        .collect();

    let (mut lo, mut hi) = (f64::INFINITY, 0.0_f64);
    for (_, pts, _, _) in &series {
        for &(l, _) in pts {
            lo = lo.min(l);
            hi = hi.max(l);
        }
    }
    if !lo.is_finite() {
        lo = 1e3;
        hi = 1e6;
    }
    let dmin = lo.log10().floor();
    let mut dmax = hi.log10().ceil();
    if dmax <= dmin {
        dmax = dmin + 1.0;
    }

    // Legend below the plot, in as many columns as fit.
    let col_w = 210.0;
    let left = 64.0;
    let right = 16.0;
    let cols = (((width - left - right) / col_w).floor() as usize).max(1);
    let rows = series.len().div_ceil(cols);
    let legend_h = 18.0 * rows as f64;
    let top = 34.0;
    let bottom = 46.0 + legend_h;
    let pw = width - left - right;
    let ph = (height - top - bottom).max(40.0);
    let x_of = |l: f64| left + (l.log10() - dmin) / (dmax - dmin) * pw;
    let y_of = |p: f64| top + (1.0 - p.clamp(0.0, 1.0)) * ph;

    let mut names: Vec<String> = series.iter().map(|s| s.0.clone()).collect();
    if names.is_empty() {
        names.push("no data".into());
    }
    let title = "Loss exceedance curve";
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-labelledby="lec-title lec-desc" font-family="system-ui, sans-serif" font-size="12">"#,
    );
    let _ = write!(
        s,
        r#"<title id="lec-title">{title}</title><desc id="lec-desc">{}</desc>"#,
        escape_xml(&format!(
            "Probability that a year's loss exceeds an amount, for: {}. Money on a logarithmic axis from {} to {}.",
            names.join(", "),
            short_money(10f64.powf(dmin)),
            short_money(10f64.powf(dmax))
        ))
    );
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/><text x="{left}" y="20" font-size="14" font-weight="bold" fill="#222">{title}</text>"##
    );

    // Horizontal grid and probability labels.
    for i in 0..=5 {
        let p = f64::from(i) / 5.0;
        let y = y_of(p);
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="#e3e3e3"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="end" fill="#444">{pct}%</text>"##,
            x2 = left + pw,
            tx = left - 6.0,
            ty = y + 4.0,
            pct = i * 20
        );
    }
    // Decades with minor ticks at 2 and 5.
    let mut d = dmin;
    while d <= dmax + 1e-9 {
        let x = x_of(10f64.powf(d));
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{yb:.1}" stroke="#d5d5d5"/><text x="{x:.1}" y="{ty:.1}" text-anchor="middle" fill="#444">{label}</text>"##,
            yb = top + ph,
            ty = top + ph + 16.0,
            label = escape_xml(&short_money(10f64.powf(d)))
        );
        if d < dmax - 1e-9 {
            for m in [2.0_f64, 5.0] {
                let xm = x_of(m * 10f64.powf(d));
                let _ = write!(
                    s,
                    r##"<line x1="{xm:.1}" y1="{top}" x2="{xm:.1}" y2="{yb:.1}" stroke="#f0f0f0"/>"##,
                    yb = top + ph
                );
            }
        }
        d += 1.0;
    }
    let _ = write!(
        s,
        r##"<rect x="{left}" y="{top}" width="{pw:.1}" height="{ph:.1}" fill="none" stroke="#888"/><text x="{cx:.1}" y="{ay:.1}" text-anchor="middle" fill="#222">Annual loss (log scale)</text><text transform="translate(14 {cy:.1}) rotate(-90)" text-anchor="middle" fill="#222">Probability of exceeding</text>"##,
        cx = left + pw / 2.0,
        ay = top + ph + 34.0,
        cy = top + ph / 2.0
    );

    for (name, pts, colour, dashed) in &series {
        if pts.is_empty() {
            continue;
        }
        let path: Vec<String> = pts
            .iter()
            .map(|&(l, p)| format!("{:.1},{:.1}", x_of(l), y_of(p)))
            .collect();
        let dash = if *dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{}"><title>{}</title></polyline>"#,
            path.join(" "),
            escape_xml(name)
        );
    }

    // Legend.
    for (i, (name, _, colour, dashed)) in series.iter().enumerate() {
        let x = left + (i % cols) as f64 * col_w;
        let y = top + ph + 52.0 + (i / cols) as f64 * 18.0;
        let dash = if *dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let label: String = if name.chars().count() > 28 {
            name.chars().take(27).collect::<String>() + "…"
        } else {
            name.clone()
        };
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{ly:.1}" x2="{x2:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="2"{dash}/><text x="{tx:.1}" y="{ty:.1}" fill="#222">{}</text>"##,
            escape_xml(&label),
            ly = y - 4.0,
            x2 = x + 22.0,
            tx = x + 28.0,
            ty = y
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_escapes_names_and_is_well_formed() {
        let a = [(1_000.0, 0.9), (10_000.0, 0.5), (1e6, 0.01)];
        let b = [(0.0, 0.9), (5_000.0, 0.2)];
        let tol = [(1e4, 0.5), (1e6, 0.05)];
        let svg = lec_svg(
            &[("Ransomware <files> & \"more\"", &a), ("Fine", &b)],
            Some(&tol),
            640,
            400,
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title id=\"lec-title\">Loss exceedance curve</title>"));
        assert!(svg.contains("Ransomware &lt;files&gt; &amp; &quot;more&quot;"));
        assert!(!svg.contains("<files>"));
        assert!(svg.contains("stroke-dasharray"));
        // Axis spans whole decades 1k..1M with readable labels.
        assert!(svg.contains(">1k<") && svg.contains(">1M<"));
        // Balanced tags (a cheap well-formedness check).
        assert_eq!(
            svg.matches("<polyline").count(),
            svg.matches("</polyline>").count()
        );
        assert_eq!(svg.matches("<svg").count(), 1);
    }

    #[test]
    fn empty_chart_still_renders() {
        let svg = lec_svg(&[], None, 300, 200);
        assert!(svg.contains("no data"));
    }

    #[test]
    fn short_money_labels() {
        assert_eq!(short_money(1000.0), "1k");
        assert_eq!(short_money(2_500_000.0), "2.5M");
        assert_eq!(short_money(100.0), "100");
        assert_eq!(short_money(1e9), "1B");
    }
}
