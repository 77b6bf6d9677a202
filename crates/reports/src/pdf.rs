//! Table documents as PDF: a title page with facts, then a table grouped by
//! bands (themes, clauses), with the column headings repeated and
//! "Page x of y" on each page. The SoA and the gap report are built on it.

use pdf_writer::{Content, Date, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::font::FontUse;

use crate::SoaDocument;

/// A document: title page facts and one table.
pub(crate) struct TableDoc {
    pub title: String,
    pub subtitle: String,
    pub facts: Vec<(String, String)>,
    /// A red banner on the title page: headline and explanation.
    pub banner: Option<(String, String)>,
    pub footer: String,
    pub columns: Vec<(&'static str, f32)>,
    /// Bands and their rows of cells.
    pub sections: Vec<(String, Vec<Vec<String>>)>,
    pub info_title: String,
    pub author: String,
    pub date: (u16, u8, u8, u8, u8, u8),
}
use crate::text::{width, wrap};

const W: f32 = 842.0; // A4 landscape
const H: f32 = 595.0;
const MARGIN: f32 = 36.0;
const TOP: f32 = H - MARGIN;
const BOTTOM: f32 = 44.0;
const SIZE: f32 = 7.5;
const LEAD: f32 = 9.2;
const PAD: f32 = 3.0;
const HEAD_H: f32 = 16.0;
const BAND_H: f32 = 15.0;

pub(crate) const REGULAR: Name<'static> = Name(b"F1");
pub(crate) const BOLD: Name<'static> = Name(b"F2");

/// One thing on a table page.
enum Block {
    Band(String),
    Row(Vec<Vec<String>>, f32),
}

impl Block {
    fn height(&self) -> f32 {
        match self {
            Block::Band(_) => BAND_H,
            Block::Row(_, h) => *h,
        }
    }
}

/// The two embedded fonts as one document uses them.
pub(crate) struct Fonts {
    regular: FontUse,
    bold: FontUse,
}

impl Fonts {
    pub(crate) fn new() -> Self {
        Self {
            regular: FontUse::new(false),
            bold: FontUse::new(true),
        }
    }

    /// Writes both fonts; `regular` and `bold` are the refs the pages name.
    pub(crate) fn write(
        &self,
        pdf: &mut Pdf,
        regular: Ref,
        bold: Ref,
        alloc: &mut impl FnMut() -> Ref,
    ) {
        self.regular.write(pdf, regular, alloc);
        self.bold.write(pdf, bold, alloc);
    }
}

/// Shows `s` at (x, y) in the regular font ([`REGULAR`]) or the bold one.
pub(crate) fn text_at(
    c: &mut Content,
    fonts: &mut Fonts,
    font: Name<'_>,
    size: f32,
    x: f32,
    y: f32,
    s: &str,
) {
    let bytes = if font == BOLD {
        fonts.bold.encode(s)
    } else {
        fonts.regular.encode(s)
    };
    c.begin_text();
    c.set_font(font, size);
    c.next_line(x, y);
    c.show(Str(&bytes));
    c.end_text();
}

fn blocks(doc: &TableDoc) -> Vec<Block> {
    let mut out = Vec::new();
    for (band, rows) in &doc.sections {
        out.push(Block::Band(band.clone()));
        for cells in rows {
            let lines: Vec<Vec<String>> = cells
                .iter()
                .zip(&doc.columns)
                .enumerate()
                // The first column prints in bold (see `table_page`).
                .map(|(i, (text, (_, w)))| wrap(text, SIZE, i == 0, w - 2.0 * PAD))
                .collect();
            let n = lines.iter().map(Vec::len).max().unwrap_or(1).max(1);
            out.push(Block::Row(lines, n as f32 * LEAD + 2.0 * PAD));
        }
    }
    out
}

/// Splits the blocks into pages; a theme band never ends a page.
fn paginate(blocks: Vec<Block>) -> Vec<Vec<Block>> {
    let room = TOP - BOTTOM - HEAD_H;
    let mut pages: Vec<Vec<Block>> = vec![Vec::new()];
    let mut used = 0.0;
    let mut iter = blocks.into_iter().peekable();
    while let Some(b) = iter.next() {
        let need = match (&b, iter.peek()) {
            (Block::Band(_), Some(next)) => b.height() + next.height(),
            _ => b.height(),
        };
        if used + need > room && pages.last().is_some_and(|p| !p.is_empty()) {
            pages.push(Vec::new());
            used = 0.0;
        }
        used += b.height();
        if let Some(p) = pages.last_mut() {
            p.push(b);
        }
    }
    pages
}

fn footer(c: &mut Content, fonts: &mut Fonts, doc: &TableDoc, page: usize, total: usize) {
    c.set_stroke_rgb(0.75, 0.77, 0.8);
    c.set_line_width(0.5);
    c.move_to(MARGIN, 32.0);
    c.line_to(W - MARGIN, 32.0);
    c.stroke();
    c.set_fill_rgb(0.3, 0.32, 0.36);
    text_at(c, fonts, REGULAR, 8.0, MARGIN, 20.0, &doc.footer);
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

fn title_page(c: &mut Content, fonts: &mut Fonts, doc: &TableDoc) {
    c.set_fill_rgb(0.11, 0.23, 0.42);
    c.rect(MARGIN, H - 150.0, W - 2.0 * MARGIN, 6.0);
    c.fill_nonzero();
    c.set_fill_rgb(0.0, 0.0, 0.0);
    text_at(c, fonts, BOLD, 30.0, MARGIN, H - 200.0, &doc.title);
    text_at(c, fonts, REGULAR, 14.0, MARGIN, H - 225.0, &doc.subtitle);
    let mut y = H - 280.0;
    for (k, v) in &doc.facts {
        text_at(c, fonts, BOLD, 12.0, MARGIN, y, k);
        let lines = wrap(v, 12.0, false, W - 2.0 * MARGIN - 130.0);
        for (i, line) in lines.iter().enumerate() {
            text_at(
                c,
                fonts,
                REGULAR,
                12.0,
                MARGIN + 130.0,
                y - i as f32 * 15.0,
                line,
            );
        }
        y -= 9.0 + 15.0 * lines.len().max(1) as f32;
    }
    if let Some((headline, text)) = &doc.banner {
        c.set_fill_rgb(0.75, 0.1, 0.1);
        text_at(c, fonts, BOLD, 40.0, MARGIN, y - 40.0, headline);
        text_at(c, fonts, REGULAR, 11.0, MARGIN, y - 60.0, text);
        c.set_fill_rgb(0.0, 0.0, 0.0);
    }
}

fn table_page(c: &mut Content, fonts: &mut Fonts, columns: &[(&str, f32)], blocks: &[Block]) {
    let width_all: f32 = columns.iter().map(|(_, w)| w).sum();
    let mut y = TOP;
    // Column headings.
    c.set_fill_rgb(0.9, 0.92, 0.95);
    c.rect(MARGIN, y - HEAD_H, width_all, HEAD_H);
    c.fill_nonzero();
    c.set_fill_rgb(0.0, 0.0, 0.0);
    let mut x = MARGIN;
    for &(name, w) in columns {
        text_at(c, fonts, BOLD, SIZE, x + PAD, y - HEAD_H + 5.5, name);
        x += w;
    }
    y -= HEAD_H;
    c.set_stroke_rgb(0.8, 0.82, 0.86);
    c.set_line_width(0.4);
    for b in blocks {
        match b {
            Block::Band(title) => {
                c.set_fill_rgb(0.11, 0.23, 0.42);
                c.rect(MARGIN, y - BAND_H, width_all, BAND_H);
                c.fill_nonzero();
                c.set_fill_rgb(1.0, 1.0, 1.0);
                text_at(c, fonts, BOLD, 8.5, MARGIN + PAD, y - BAND_H + 4.5, title);
                c.set_fill_rgb(0.0, 0.0, 0.0);
            }
            Block::Row(cells, h) => {
                let mut x = MARGIN;
                for (i, (lines, (_, w))) in cells.iter().zip(columns).enumerate() {
                    let font = if i == 0 { BOLD } else { REGULAR };
                    for (n, line) in lines.iter().enumerate() {
                        if !line.is_empty() {
                            text_at(
                                c,
                                fonts,
                                font,
                                SIZE,
                                x + PAD,
                                y - PAD - SIZE - n as f32 * LEAD + 1.0,
                                line,
                            );
                        }
                    }
                    x += w;
                }
                c.move_to(MARGIN, y - h);
                c.line_to(MARGIN + width_all, y - h);
                c.stroke();
            }
        }
        y -= b.height();
    }
}

/// Renders a table document. The same document always gives the same bytes.
pub(crate) fn render(doc: &TableDoc) -> Vec<u8> {
    let pages = paginate(blocks(doc));
    let total = pages.len() + 1;
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
    let (year, month, day, hour, minute, second) = doc.date;
    let date = Date::new(year)
        .month(month)
        .day(day)
        .hour(hour)
        .minute(minute)
        .second(second)
        .utc_offset_hour(0);
    pdf.document_info(info)
        .title(TextStr(&doc.info_title))
        .author(TextStr(&doc.author))
        .creator(TextStr("isms"))
        .producer(TextStr("isms"))
        .creation_date(date)
        .modified_date(date);
    let mut fonts = Fonts::new();
    for (i, (page_id, content_id)) in page_ids.iter().enumerate() {
        let mut c = Content::new();
        if i == 0 {
            title_page(&mut c, &mut fonts, doc);
        } else {
            table_page(&mut c, &mut fonts, &doc.columns, &pages[i - 1]);
        }
        footer(&mut c, &mut fonts, doc, i + 1, total);
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

/// The SoA as a PDF document. The same document always gives the same bytes.
pub fn soa_pdf(doc: &SoaDocument) -> Vec<u8> {
    let applicable = doc.rows.iter().filter(|r| r.applicable).count();
    let implemented = doc
        .rows
        .iter()
        .filter(|r| r.applicable && r.status == "Implemented")
        .count();
    let date_label = if doc.version.is_some() {
        "Approval date"
    } else {
        "Last changed"
    };
    let facts = vec![
        ("Organisation".to_owned(), doc.organisation.clone()),
        ("SoA version".to_owned(), doc.version_label()),
        (
            "Approved by".to_owned(),
            doc.approved_by
                .clone()
                .unwrap_or_else(|| "not approved".into()),
        ),
        (date_label.to_owned(), doc.day().to_owned()),
        (
            "Controls".to_owned(),
            format!(
                "{} in Annex A: {} applicable, {} not applicable; {} implemented",
                doc.rows.len(),
                applicable,
                doc.rows.len() - applicable,
                implemented
            ),
        ),
    ];
    let mut sections: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    for r in &doc.rows {
        if sections
            .last()
            .is_none_or(|(t, _)| !t.ends_with(&format!(" {} controls", r.theme)))
        {
            let clause = r.control_id.split('.').next().unwrap_or("");
            sections.push((format!("{clause}  {} controls", r.theme), Vec::new()));
        }
        let justification = if r.notes.is_empty() {
            r.justification.clone()
        } else {
            format!("{}\nNotes: {}", r.justification, r.notes)
        };
        let row = vec![
            r.control_id.clone(),
            r.title.clone(),
            if r.applicable { "Yes" } else { "No" }.to_owned(),
            justification,
            if r.applicable {
                r.reasons.join(", ")
            } else {
                String::new()
            },
            if r.applicable {
                r.status.clone()
            } else {
                String::new()
            },
            r.owner.clone(),
        ];
        if let Some((_, rows)) = sections.last_mut() {
            rows.push(row);
        }
    }
    render(&TableDoc {
        title: "Statement of Applicability".into(),
        subtitle: "ISO/IEC 27001:2022, clause 6.1.3 d) and Annex A".into(),
        facts,
        banner: doc.version.is_none().then(|| {
            (
                "DRAFT".to_owned(),
                "This SoA has not been approved: it is a working draft, not the organisation's statement.".to_owned(),
            )
        }),
        footer: format!(
            "{} \u{2013} Statement of Applicability \u{2013} {} \u{2013} {}",
            doc.organisation,
            doc.version_label(),
            doc.day()
        ),
        columns: vec![
            ("Control", 38.0),
            ("Title", 140.0),
            ("Applicable", 50.0),
            ("Justification", 246.0),
            ("Reasons for inclusion", 94.0),
            ("Status", 84.0),
            ("Owner", 118.0),
        ],
        sections,
        info_title: format!("Statement of Applicability: {} ({})", doc.organisation, doc.version_label()),
        author: doc.organisation.clone(),
        date: doc.date_parts(),
    })
}
