//! Text for the standard PDF fonts: WinAnsi encoding and Helvetica widths
//! (in thousandths of the font size), for measuring and wrapping lines.

/// Helvetica widths of the printable ASCII characters 32..=126.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0..9
    278, 278, 584, 584, 584, 556, 1015, // :..@
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667,
    611, 722, 667, 944, 667, 667, 611, // A..Z
    278, 278, 278, 469, 556, 333, // [..`
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500,
    278, 556, 500, 722, 500, 500, 500, // a..z
    334, 260, 334, 584, // {..~
];

/// Helvetica-Bold widths of 32..=126.
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, //
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, //
    333, 333, 584, 584, 584, 611, 975, //
    722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667,
    611, 722, 667, 944, 667, 667, 611, //
    333, 278, 333, 584, 556, 333, //
    556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556,
    333, 611, 556, 778, 556, 556, 500, //
    389, 280, 389, 584,
];

/// Latin Extended-A (U+0100..U+017F) without its accents, for the letters
/// WinAnsi lacks (`_`: WinAnsi has the letter itself).
const LATIN_EXTENDED_A: &[u8; 128] =
    b"AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIiIiJjKkkLlLlLlLlLlNnNnNnnNnOoOoOo__RrRrRrSsSsSs__TtTtTtUuUuUuUuUuUuWwYy_ZzZz__s";

/// The WinAnsi byte of a character: Latin-1 and the typographic marks as
/// themselves, other Latin letters without their accents (`Ł` as `L`), `?`
/// for the rest.
pub fn win_ansi(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '\u{20ac}' => 0x80,
        '\u{2026}' => 0x85,
        '\u{2018}' => 0x91,
        '\u{2019}' => 0x92,
        '\u{201c}' => 0x93,
        '\u{201d}' => 0x94,
        '\u{2022}' => 0x95,
        '\u{2013}' => 0x96,
        '\u{2014}' => 0x97,
        '\u{152}' => 0x8c,
        '\u{153}' => 0x9c,
        '\u{160}' => 0x8a,
        '\u{161}' => 0x9a,
        '\u{178}' => 0x9f,
        '\u{17d}' => 0x8e,
        '\u{17e}' => 0x9e,
        '\u{192}' => 0x83,
        '\u{2c6}' => 0x88,
        '\u{2dc}' => 0x98,
        '\u{201a}' => 0x82,
        '\u{201e}' => 0x84,
        '\u{2020}' => 0x86,
        '\u{2021}' => 0x87,
        '\u{2030}' => 0x89,
        '\u{2039}' => 0x8b,
        '\u{203a}' => 0x9b,
        '\u{2122}' => 0x99,
        '\u{100}'..='\u{17f}' => LATIN_EXTENDED_A[c as usize - 0x100],
        '\t' | '\n' | '\r' => b' ',
        _ => b'?',
    }
}

/// Encodes text for a WinAnsi font.
pub fn encode(s: &str) -> Vec<u8> {
    s.chars().map(win_ansi).collect()
}

fn width_of(b: u8, bold: bool) -> u16 {
    let table = if bold { &HELVETICA_BOLD } else { &HELVETICA };
    match b {
        32..=126 => table[(b - 32) as usize],
        0x85 | 0x97 => 1000,
        0x91 | 0x92 => 222,
        0x93 | 0x94 => 333,
        0x95 => 350,
        _ => 556,
    }
}

/// The width of `s` in points at `size`.
pub fn width(s: &str, size: f32, bold: bool) -> f32 {
    let units: u32 = s
        .chars()
        .map(|c| u32::from(width_of(win_ansi(c), bold)))
        .sum();
    units as f32 * size / 1000.0
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
    fn widths_follow_helvetica() {
        assert!((width("MMMM", 10.0, false) - 33.32).abs() < 0.01);
        assert!(width("Wide", 10.0, true) > width("Wide", 10.0, false));
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
    }

    #[test]
    fn other_latin_letters_lose_only_their_accents() {
        assert_eq!(
            encode("\u{141}\u{f3}d\u{17a} \u{160}koda \u{151}"),
            b"L\xf3dz \x8akoda o".to_vec()
        );
        assert!(
            LATIN_EXTENDED_A
                .iter()
                .all(|b| b.is_ascii_alphabetic() || *b == b'_')
        );
    }

    #[test]
    fn win_ansi_covers_latin1_and_typographic_quotes() {
        assert_eq!(
            encode("Caf\u{e9} \u{2013} \u{201c}ok\u{201d} \u{4e2d}"),
            b"Caf\xe9 \x96 \x93ok\x94 ?".to_vec()
        );
    }
}
