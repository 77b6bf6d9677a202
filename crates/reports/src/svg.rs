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
