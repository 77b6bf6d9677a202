//! Small charts as SVG text, rendered on the server (no scripts, no inline
//! styles: presentation attributes only, so the CSP is satisfied).

use std::fmt::Write as _;

/// Escapes text for SVG/XML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Horizontal bars, one per `(label, done, total)`, each under its label
/// and followed by the percentage; `title` names the chart for screen
/// readers. The chart takes the width of its container (the viewBox keeps
/// its proportions) and is narrow enough that its text stays readable on a
/// phone instead of making the page scroll sideways.
pub fn progress_bars(title: &str, bars: &[(String, usize, usize)]) -> String {
    let row = 38;
    let height = bars.len() * row + 4;
    let bar_w = 240;
    let w = bar_w + 100;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 {w} {height}\" width=\"100%\" aria-label=\"{}\"><title>{}</title>",
        escape(title),
        escape(title)
    );
    for (i, (label, done, total)) in bars.iter().enumerate() {
        let y = i * row + 4;
        let pct = (done * 100).checked_div(*total).unwrap_or(0);
        let filled = (bar_w * pct) / 100;
        let bar_y = y + 17;
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{}\" font-size=\"13\" fill=\"#1f2933\">{}</text>\
             <rect x=\"0\" y=\"{bar_y}\" width=\"{bar_w}\" height=\"12\" rx=\"4\" fill=\"#e5e8ee\"/>\
             <rect x=\"0\" y=\"{bar_y}\" width=\"{filled}\" height=\"12\" rx=\"4\" fill=\"#1c3b6b\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"13\" fill=\"#1f2933\">{pct}% ({done}/{total})</text>",
            y + 12,
            escape(label),
            bar_w + 8,
            bar_y + 11,
        );
    }
    s.push_str("</svg>");
    s
}

/// Stacked columns, one per `(label, counts)` with one count per series
/// `(name, colour)`, bottom to top, with a legend; `title` names the chart
/// for screen readers. Used for risks by level over snapshots.
pub fn stacked_columns(
    title: &str,
    series: &[(String, String)],
    columns: &[(String, Vec<usize>)],
) -> String {
    let col_w = 44;
    let gap = 16;
    let plot_h = 160;
    let top = 10;
    let legend_y = top + plot_h + 34;
    let width = (columns.len().max(1) * (col_w + gap) + 40).max(320);
    let height = legend_y + 20 * series.len() + 4;
    let max = columns
        .iter()
        .map(|(_, c)| c.iter().sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 {width} {height}\" width=\"100%\" style=\"max-width:{width}px\" aria-label=\"{}\"><title>{}</title>",
        escape(title),
        escape(title)
    );
    let _ = write!(
        s,
        "<line x1=\"30\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#9aa5b1\"/><text x=\"0\" y=\"{}\" font-size=\"11\" fill=\"#1f2933\">{max}</text><text x=\"0\" y=\"{}\" font-size=\"11\" fill=\"#1f2933\">0</text>",
        top + plot_h,
        width - 4,
        top + plot_h,
        top + 10,
        top + plot_h
    );
    for (i, (label, counts)) in columns.iter().enumerate() {
        let x = 36 + i * (col_w + gap);
        let mut y = top + plot_h;
        for (k, n) in counts.iter().enumerate() {
            let bar = n * plot_h / max;
            if bar == 0 {
                continue;
            }
            y -= bar;
            let (name, colour) = series
                .get(k)
                .map_or(("", "#9aa5b1"), |(n, c)| (n.as_str(), c.as_str()));
            let _ = write!(
                s,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{col_w}\" height=\"{bar}\" fill=\"{}\"><title>{}: {n} {}</title></rect>",
                escape(colour),
                escape(label),
                escape(name)
            );
        }
        let total: usize = counts.iter().sum();
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#1f2933\" text-anchor=\"middle\">{total}</text><text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#1f2933\" text-anchor=\"middle\">{}</text>",
            x + col_w / 2,
            y.saturating_sub(3).max(top),
            x + col_w / 2,
            top + plot_h + 16,
            escape(&label.chars().take(10).collect::<String>())
        );
    }
    for (k, (name, colour)) in series.iter().enumerate() {
        let y = legend_y + k * 20;
        let _ = write!(
            s,
            "<rect x=\"30\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"48\" y=\"{}\" font-size=\"12\" fill=\"#1f2933\">{}</text>",
            y,
            escape(colour),
            y + 11,
            escape(name)
        );
    }
    s.push_str("</svg>");
    s
}
/// A trend line of `points` (date, value), oldest first, against a dashed
/// target line, with the value axis from the lowest to the highest of the
/// values and the target. `title` names the chart for screen readers; each
/// point carries its date and value as a tooltip.
pub fn trend(title: &str, unit: &str, points: &[(String, f64)], target: f64) -> String {
    let (w, h) = (560.0_f64, 220.0_f64);
    let (left, right, top, bottom) = (48.0_f64, 12.0_f64, 14.0_f64, 30.0_f64);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 {w} {h}\" width=\"100%\" aria-label=\"{}\"><title>{}</title>",
        escape(title),
        escape(title)
    );
    let mut lo = target;
    let mut hi = target;
    for (_, v) in points {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    if (hi - lo).abs() < f64::EPSILON {
        lo -= 1.0;
        hi += 1.0;
    }
    let pad = (hi - lo) * 0.1;
    let (lo, hi) = (lo - pad, hi + pad);
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let y_of = |v: f64| top + plot_h - (v - lo) / (hi - lo) * plot_h;
    let n = points.len();
    let x_of = |i: usize| {
        if n <= 1 {
            left + plot_w / 2.0
        } else {
            left + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{:.1}\" stroke=\"#9aa5b1\"/>\
         <line x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#9aa5b1\"/>",
        top + plot_h,
        top + plot_h,
        left + plot_w,
        top + plot_h
    );
    for v in [lo + pad, hi - pad] {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#1f2933\">{}</text>",
            left - 4.0,
            y_of(v) + 4.0,
            escape(&format_value(v))
        );
    }
    let ty = y_of(target);
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{ty:.1}\" x2=\"{:.1}\" y2=\"{ty:.1}\" stroke=\"#2f7d32\" stroke-dasharray=\"6 4\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#2f7d32\">target {} {}</text>",
        left + plot_w,
        left + plot_w,
        ty - 4.0,
        escape(&format_value(target)),
        escape(unit)
    );
    if n == 0 {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" text-anchor=\"middle\" fill=\"#1f2933\">No measurements yet</text>",
            left + plot_w / 2.0,
            top + plot_h / 2.0
        );
    } else {
        let path: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, (_, v))| format!("{:.1},{:.1}", x_of(i), y_of(*v)))
            .collect();
        let _ = write!(
            s,
            "<polyline fill=\"none\" stroke=\"#1c3b6b\" stroke-width=\"2\" points=\"{}\"/>",
            path.join(" ")
        );
        for (i, (d, v)) in points.iter().enumerate() {
            let _ = write!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"#1c3b6b\"><title>{}: {} {}</title></circle>",
                x_of(i),
                y_of(*v),
                escape(d),
                escape(&format_value(*v)),
                escape(unit)
            );
        }
        let first = &points[0].0;
        let last = &points[n - 1].0;
        let _ = write!(
            s,
            "<text x=\"{left}\" y=\"{:.1}\" font-size=\"11\" fill=\"#1f2933\">{}</text>",
            h - 8.0,
            escape(first)
        );
        if n > 1 {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#1f2933\">{}</text>",
                left + plot_w,
                h - 8.0,
                escape(last)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// A number as people write it: no trailing zeros, at most two decimals.
pub fn format_value(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}
