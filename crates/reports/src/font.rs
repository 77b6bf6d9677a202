//! The fonts every PDF embeds: DejaVu Sans and DejaVu Sans Bold (the
//! Bitstream Vera licence, see `fonts/LICENSE-DejaVu.txt`), which cover Latin
//! with every European diacritic, Greek and Cyrillic.
//!
//! A PDF embeds each font as a Type0 font (CIDFontType2, Identity-H) subset
//! to the glyphs its pages use, with the widths of those glyphs and a
//! ToUnicode map, so text prints as typed and extracts as text. Glyphs are
//! numbered in the order the document first uses them, so the same document
//! gives the same bytes.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Name, Pdf, Rect, Ref, Str};
use subsetter::GlyphRemapper;

static REGULAR_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// A font and what the PDF needs of it.
pub(crate) struct Face {
    data: &'static [u8],
    parsed: ttf_parser::Face<'static>,
    /// The PostScript name.
    name: &'static str,
    bold: bool,
    /// Font units per em, to turn font units into thousandths of the size.
    scale: f32,
    /// The glyph drawn for characters the font lacks.
    fallback: u16,
}

fn load(data: &'static [u8], name: &'static str, bold: bool) -> Face {
    // Built-in bytes: a failure here is a broken build, caught by every test.
    let face = ttf_parser::Face::parse(data, 0).expect("the embedded font parses");
    let scale = 1000.0 / f32::from(face.units_per_em());
    let fallback = face.glyph_index('?').map_or(0, |g| g.0);
    Face {
        data,
        parsed: face,
        name,
        bold,
        scale,
        fallback,
    }
}

static REGULAR: LazyLock<Face> = LazyLock::new(|| load(REGULAR_TTF, "DejaVuSans", false));
static BOLD: LazyLock<Face> = LazyLock::new(|| load(BOLD_TTF, "DejaVuSans-Bold", true));

/// The regular or the bold face.
pub(crate) fn face(bold: bool) -> &'static Face {
    if bold { &BOLD } else { &REGULAR }
}

impl Face {
    /// The character drawn for `c`: white space as a space, characters the
    /// font lacks as `?`.
    fn printed(c: char) -> char {
        if c.is_whitespace() || c.is_control() {
            ' '
        } else {
            c
        }
    }

    /// The glyph of `c` in the full font, and the character it stands for.
    pub(crate) fn glyph(&self, c: char) -> (u16, char) {
        let c = Self::printed(c);
        match self.parsed.glyph_index(c) {
            Some(g) if g.0 != 0 => (g.0, c),
            _ => (self.fallback, '?'),
        }
    }

    /// The advance of a glyph in thousandths of the font size.
    fn advance(&self, glyph: u16) -> f32 {
        let units = self
            .parsed
            .glyph_hor_advance(ttf_parser::GlyphId(glyph))
            .unwrap_or(0);
        f32::from(units) * self.scale
    }

    /// The advance of `c` in thousandths of the font size.
    pub(crate) fn char_width(&self, c: char) -> f32 {
        self.advance(self.glyph(c).0)
    }
}

/// One font as one PDF uses it: the glyphs shown so far, renumbered for the
/// subset in the order of first use, with the text each stands for.
pub(crate) struct FontUse {
    face: &'static Face,
    remapper: GlyphRemapper,
    /// New glyph id -> (old glyph id, character).
    used: BTreeMap<u16, (u16, char)>,
}

impl FontUse {
    pub(crate) fn new(bold: bool) -> Self {
        let mut remapper = GlyphRemapper::new();
        // The subset keeps glyph 0 (.notdef) as 0.
        remapper.remap(0);
        Self {
            face: face(bold),
            remapper,
            used: BTreeMap::new(),
        }
    }

    /// `s` as two-byte glyph ids of the subset (Identity-H).
    pub(crate) fn encode(&mut self, s: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 * s.len());
        for c in s.chars() {
            let (old, printed) = self.face.glyph(c);
            let new = self.remapper.remap(old);
            self.used.entry(new).or_insert((old, printed));
            out.extend_from_slice(&new.to_be_bytes());
        }
        out
    }

    /// Writes the font (Type0 -> CIDFontType2 -> descriptor -> subset file,
    /// and the ToUnicode map) as `id`; the other objects take refs from
    /// `alloc`.
    pub(crate) fn write(&self, pdf: &mut Pdf, id: Ref, alloc: &mut impl FnMut() -> Ref) {
        let cid = alloc();
        let descriptor = alloc();
        let file = alloc();
        let cmap = alloc();
        let face = self.face;
        // The subset tag: six capitals from the glyphs used, as PDF asks.
        let mut hash: u32 = 0x811c_9dc5;
        for (new, (old, _)) in &self.used {
            for b in new.to_be_bytes().into_iter().chain(old.to_be_bytes()) {
                hash = (hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
            }
        }
        let mut tag = String::with_capacity(7);
        for _ in 0..6 {
            tag.push(char::from(b'A' + (hash % 26) as u8));
            hash /= 26;
        }
        let base = format!("{tag}+{}", face.name);
        let base = Name(base.as_bytes());
        let system = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };

        pdf.type0_font(id)
            .base_font(base)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid)
            .to_unicode(cmap);

        let mut font = pdf.cid_font(cid);
        font.subtype(CidFontType::Type2)
            .base_font(base)
            .system_info(system)
            .font_descriptor(descriptor)
            .cid_to_gid_map_predefined(Name(b"Identity"))
            .default_width(face.advance(0).round());
        {
            let mut widths = font.widths();
            // Runs of consecutive glyph ids, each with its widths.
            let mut run: Vec<f32> = Vec::new();
            let mut start = None;
            let mut last = 0u16;
            for (&new, &(old, _)) in &self.used {
                if start.is_some() && new != last + 1 {
                    widths.consecutive(start.unwrap_or(0), run.drain(..));
                    start = None;
                }
                if start.is_none() {
                    start = Some(new);
                }
                run.push(face.advance(old).round());
                last = new;
            }
            if let Some(s) = start {
                widths.consecutive(s, run.drain(..));
            }
        }
        drop(font);

        let f = &face.parsed;
        let bbox = f.global_bounding_box();
        let s = face.scale;
        let cap = f.capital_height().unwrap_or(f.ascender());
        let mut flags = FontFlags::NON_SYMBOLIC;
        if face.bold {
            flags |= FontFlags::FORCE_BOLD;
        }
        pdf.font_descriptor(descriptor)
            .name(base)
            .flags(flags)
            .bbox(Rect::new(
                f32::from(bbox.x_min) * s,
                f32::from(bbox.y_min) * s,
                f32::from(bbox.x_max) * s,
                f32::from(bbox.y_max) * s,
            ))
            .italic_angle(f.italic_angle())
            .ascent(f32::from(f.ascender()) * s)
            .descent(f32::from(f.descender()) * s)
            .cap_height(f32::from(cap) * s)
            .stem_v(if face.bold { 120.0 } else { 80.0 })
            .font_file2(file);

        // The embedded font is ours and known to subset; an error would be a
        // bug in the subsetter: embed the whole font rather than fail.
        let data =
            subsetter::subset(face.data, 0, &self.remapper).unwrap_or_else(|_| face.data.to_vec());
        pdf.stream(file, &data)
            .pair(Name(b"Length1"), data.len() as i32);

        let mut unicode = UnicodeCmap::new(Name(b"Adobe-Identity-UCS"), system);
        for (&new, &(_, c)) in &self.used {
            unicode.pair(new, c);
        }
        pdf.cmap(cmap, &unicode.finish())
            .name(Name(b"Adobe-Identity-UCS"))
            .system_info(system);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fonts_cover_european_greek_and_cyrillic_letters() {
        for bold in [false, true] {
            let f = face(bold);
            for c in "\u{141}\u{f3}d\u{17a} \u{c6}r\u{f8} \u{3a0}\u{3b1}\u{3c0}\u{3b1}\u{3b4}\u{3cc}\u{3c0}\u{3bf}\u{3c5}\u{3bb}\u{3bf}\u{3c2} \u{418}\u{432}\u{430}\u{43d}\u{43e}\u{432} \u{15e}\u{11f}\u{131} \u{20ac}\u{2014}".chars() {
                assert_eq!(f.glyph(c).1, if c == ' ' { ' ' } else { c }, "{c}");
            }
            assert_eq!(f.glyph('\u{4e2d}').1, '?', "no CJK: a question mark");
            assert_eq!(f.glyph('\t').1, ' ');
        }
    }

    #[test]
    fn glyphs_are_numbered_in_the_order_of_first_use() {
        let mut u = FontUse::new(false);
        assert_eq!(u.encode("ab"), vec![0, 1, 0, 2]);
        assert_eq!(u.encode("ba\u{3a9}"), vec![0, 2, 0, 1, 0, 3]);
    }
}
