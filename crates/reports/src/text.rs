//! Measuring and wrapping text with the metrics of the embedded fonts
//! ([`crate::font`]): widths add up glyph advances (no kerning, no shaping).

use crate::font::face;

/// The width of `s` in points at `size`.
pub fn width(s: &str, size: f32, bold: bool) -> f32 {
    let f = face(bold);
    let units: f32 = s.chars().map(|c| f.char_width(c)).sum();
    units * size / 1000.0
}

/// Breaks `s` into lines no wider than `max` points: at spaces where
/// possible, inside a word only when the word alone is too wide. Line breaks
/// in the text are kept.
pub fn wrap(s: &str, size: f32, bold: bool, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for para in s.split('\n') {
        let mut line = String::new();
        for word in para.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if width(&candidate, size, bold) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // The word alone: split it if it is wider than the column.
            let mut piece = String::new();
            for c in word.chars() {
                piece.push(c);
                if width(&piece, size, bold) > max && piece.chars().count() > 1 {
                    piece.pop();
                    lines.push(std::mem::take(&mut piece));
                    piece.push(c);
                }
            }
            line = piece;
        }
        lines.push(line);
    }
    while lines.len() > 1 && lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_follow_the_font() {
        // DejaVu Sans: M is 1767 of 2048 units.
        assert!((width("MMMM", 10.0, false) - 4.0 * 17.67 / 2.048).abs() < 0.1);
        assert!(width("Wide", 10.0, true) > width("Wide", 10.0, false));
        assert!(width("\u{141}\u{f3}d\u{17a}", 10.0, false) > width("Lod", 10.0, false));
        assert!(width("\u{3a0}\u{3b1}", 10.0, false) > 0.0);
    }

    #[test]
    fn wrapping_keeps_every_word_and_respects_the_width() {
        let text = "Access to information and other associated assets is restricted according to the topic-specific policy";
        let lines = wrap(text, 8.0, false, 120.0);
        assert!(lines.len() > 2);
        for l in &lines {
            assert!(width(l, 8.0, false) <= 120.0, "{l}");
        }
        assert_eq!(lines.join(" "), text);
        let long = wrap(&"x".repeat(200), 8.0, false, 50.0);
        assert!(long.len() > 3 && long.iter().all(|l| width(l, 8.0, false) <= 50.0));
        let greek =
            "\u{3a0}\u{3b1}\u{3c0}\u{3b1}\u{3b4}\u{3cc}\u{3c0}\u{3bf}\u{3c5}\u{3bb}\u{3bf}\u{3c2} "
                .repeat(8);
        let lines = wrap(&greek, 8.0, true, 100.0);
        assert!(lines.len() > 2 && lines.iter().all(|l| width(l, 8.0, true) <= 100.0));
    }
}
