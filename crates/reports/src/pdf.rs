//! Table documents as PDF: a title page with facts, then a table grouped by
//! bands (themes, clauses), with the column headings repeated and
//! "Page x of y" on each page. The SoA and the gap report are built on it.
//!
//! [`TableWriter`] lays the table out and writes each page as its rows come,
//! so a table of any length holds one page of rows besides the file (its
//! content streams compressed). What is known only at the end is written at
//! the end into small content streams of its own, which the pages already
//! name in their `/Contents` arrays: every page's "Page x of y", the counts
//! in counted band headings ("High (12 risks)") and the whole title page,
//! whose facts may count the rows. [`render`] is the same writer fed a whole
//! [`TableDoc`].

use pdf_writer::{Content, Date, Filter, Name, Pdf, Rect, Ref, Str, TextStr};

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

/// What every page of a table document shows besides its rows, and the
/// document's properties: known before the first row.
pub(crate) struct Frame {
    pub footer: String,
    pub columns: Vec<(&'static str, f32)>,
    pub info_title: String,
    pub author: String,
    pub date: (u16, u8, u8, u8, u8, u8),
}

/// The title page: written last, so its facts may count the rows.
pub(crate) struct Cover {
    pub title: String,
    pub subtitle: String,
    pub facts: Vec<(String, String)>,
    /// A red banner: headline and explanation.
    pub banner: Option<(String, String)>,
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
/// The height a page has for bands and rows.
const ROOM: f32 = TOP - BOTTOM - HEAD_H;

pub(crate) const REGULAR: Name<'static> = Name(b"F1");
pub(crate) const BOLD: Name<'static> = Name(b"F2");

/// The fixed objects of a table document.
const CATALOG: Ref = Ref::new(1);
const TREE: Ref = Ref::new(2);
const FONT_REGULAR: Ref = Ref::new(3);
const FONT_BOLD: Ref = Ref::new(4);
const INFO: Ref = Ref::new(5);
const TITLE_PAGE: Ref = Ref::new(6);
const TITLE_CONTENT: Ref = Ref::new(7);
const FIRST_FREE: i32 = 8;

/// A band's heading.
enum Heading {
    Text(String),
    /// The `n`th counted band: its title and count are printed at the end.
    Counted(usize),
}

/// One thing on a table page.
enum Block {
    Band(Heading),
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

/// The footer's rule and text on the left.
fn footer(c: &mut Content, fonts: &mut Fonts, text: &str) {
    c.set_stroke_rgb(0.75, 0.77, 0.8);
    c.set_line_width(0.5);
    c.move_to(MARGIN, 32.0);
    c.line_to(W - MARGIN, 32.0);
    c.stroke();
    c.set_fill_rgb(0.3, 0.32, 0.36);
    text_at(c, fonts, REGULAR, 8.0, MARGIN, 20.0, text);
    c.set_fill_rgb(0.0, 0.0, 0.0);
}

/// "Page x of y" at the footer's right end.
fn page_number(c: &mut Content, fonts: &mut Fonts, page: usize, total: usize) {
    c.set_fill_rgb(0.3, 0.32, 0.36);
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

/// A band heading's text, white on the band that starts at `y`.
fn band_title(c: &mut Content, fonts: &mut Fonts, y: f32, title: &str) {
    c.set_fill_rgb(1.0, 1.0, 1.0);
    text_at(c, fonts, BOLD, 8.5, MARGIN + PAD, y - BAND_H + 4.5, title);
    c.set_fill_rgb(0.0, 0.0, 0.0);
}

fn title_page(c: &mut Content, fonts: &mut Fonts, cover: &Cover) {
    c.set_fill_rgb(0.11, 0.23, 0.42);
    c.rect(MARGIN, H - 150.0, W - 2.0 * MARGIN, 6.0);
    c.fill_nonzero();
    c.set_fill_rgb(0.0, 0.0, 0.0);
    text_at(c, fonts, BOLD, 30.0, MARGIN, H - 200.0, &cover.title);
    text_at(c, fonts, REGULAR, 14.0, MARGIN, H - 225.0, &cover.subtitle);
    let mut y = H - 280.0;
    for (k, v) in &cover.facts {
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
    if let Some((headline, text)) = &cover.banner {
        c.set_fill_rgb(0.75, 0.1, 0.1);
        text_at(c, fonts, BOLD, 40.0, MARGIN, y - 40.0, headline);
        text_at(c, fonts, REGULAR, 11.0, MARGIN, y - 60.0, text);
        c.set_fill_rgb(0.0, 0.0, 0.0);
    }
}

/// Writes a content stream, compressed.
fn put(pdf: &mut Pdf, id: Ref, c: Content) {
    let data = miniz_oxide::deflate::compress_to_vec_zlib(&c.finish(), 6);
    pdf.stream(id, &data).filter(Filter::FlateDecode);
}

/// A table document written page by page as its bands and rows come (see
/// the module's documentation). The same calls always give the same bytes.
pub(crate) struct TableWriter {
    pdf: Pdf,
    fonts: Fonts,
    frame: Frame,
    next: i32,
    /// Every page so far (the title page first) and the stream its number
    /// is written into at the end.
    pages: Vec<(Ref, Ref)>,
    /// Counted bands: title, what the rows are ("risks"), rows so far.
    counted: Vec<(String, &'static str, usize)>,
    /// The counted band rows go to now, if any.
    counting: Option<usize>,
    /// Headings of counted bands placed so far: their stream, band and y.
    late: Vec<(Ref, usize, f32)>,
    /// A band waits for the block after it: a band never ends a page.
    pending: Option<Heading>,
    /// The page being filled and the height its blocks take.
    page: Vec<Block>,
    used: f32,
}

impl TableWriter {
    pub(crate) fn new(frame: Frame) -> Self {
        let mut pdf = Pdf::new();
        let (year, month, day, hour, minute, second) = frame.date;
        let date = Date::new(year)
            .month(month)
            .day(day)
            .hour(hour)
            .minute(minute)
            .second(second)
            .utc_offset_hour(0);
        pdf.document_info(INFO)
            .title(TextStr(&frame.info_title))
            .author(TextStr(&frame.author))
            .creator(TextStr("isms"))
            .producer(TextStr("isms"))
            .creation_date(date)
            .modified_date(date);
        let mut w = Self {
            pdf,
            fonts: Fonts::new(),
            frame,
            next: FIRST_FREE,
            pages: Vec::new(),
            counted: Vec::new(),
            counting: None,
            late: Vec::new(),
            pending: None,
            page: Vec::new(),
            used: 0.0,
        };
        // The title page: its whole content is written at the end.
        w.page_object(TITLE_PAGE, [TITLE_CONTENT]);
        w.pages.push((TITLE_PAGE, TITLE_CONTENT));
        w
    }

    fn alloc(&mut self) -> Ref {
        let r = Ref::new(self.next);
        self.next += 1;
        r
    }

    /// Starts a band.
    pub(crate) fn band(&mut self, title: String) {
        self.counting = None;
        self.start(Heading::Text(title));
    }

    /// Starts a band whose heading ends with how many rows it holds:
    /// "{title} ({n} {noun})".
    pub(crate) fn counted_band(&mut self, title: String, noun: &'static str) {
        self.counted.push((title, noun, 0));
        self.counting = Some(self.counted.len() - 1);
        self.start(Heading::Counted(self.counted.len() - 1));
    }

    fn start(&mut self, heading: Heading) {
        if let Some(prev) = self.pending.take() {
            self.place(Block::Band(prev), 2.0 * BAND_H);
        }
        self.pending = Some(heading);
    }

    /// Adds a row: one cell per column.
    pub(crate) fn row(&mut self, cells: &[String]) {
        let lines: Vec<Vec<String>> = cells
            .iter()
            .zip(&self.frame.columns)
            .enumerate()
            // The first column prints in bold (see `flush`).
            .map(|(i, (text, (_, w)))| wrap(text, SIZE, i == 0, w - 2.0 * PAD))
            .collect();
        let n = lines.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let row = Block::Row(lines, n as f32 * LEAD + 2.0 * PAD);
        if let Some(band) = self.pending.take() {
            self.place(Block::Band(band), BAND_H + row.height());
        }
        if let Some(c) = self.counting.and_then(|i| self.counted.get_mut(i)) {
            c.2 += 1;
        }
        let need = row.height();
        self.place(row, need);
    }

    /// Puts a block on the page, after starting a new page if `need` (the
    /// block, and the one after a band) does not fit.
    fn place(&mut self, b: Block, need: f32) {
        if self.used + need > ROOM && !self.page.is_empty() {
            self.flush();
        }
        self.used += b.height();
        self.page.push(b);
    }

    fn page_object(&mut self, id: Ref, contents: impl IntoIterator<Item = Ref>) {
        let mut page = self.pdf.page(id);
        page.media_box(Rect::new(0.0, 0.0, W, H))
            .parent(TREE)
            .contents_array(contents);
        page.resources()
            .fonts()
            .pair(REGULAR, FONT_REGULAR)
            .pair(BOLD, FONT_BOLD);
    }

    /// Writes the page being filled: its table now, its counted headings
    /// and its number at the end, each into a stream of its own, in the
    /// order they are read.
    fn flush(&mut self) {
        let blocks = std::mem::take(&mut self.page);
        self.used = 0.0;
        let page_id = self.alloc();
        let mut contents = Vec::new();
        let Self {
            pdf,
            fonts,
            frame,
            next,
            late,
            ..
        } = self;
        let mut alloc = || {
            let r = Ref::new(*next);
            *next += 1;
            r
        };
        let width_all: f32 = frame.columns.iter().map(|(_, w)| w).sum();
        let mut c = Content::new();
        let mut y = TOP;
        // Column headings.
        c.set_fill_rgb(0.9, 0.92, 0.95);
        c.rect(MARGIN, y - HEAD_H, width_all, HEAD_H);
        c.fill_nonzero();
        c.set_fill_rgb(0.0, 0.0, 0.0);
        let mut x = MARGIN;
        for &(name, w) in &frame.columns {
            text_at(&mut c, fonts, BOLD, SIZE, x + PAD, y - HEAD_H + 5.5, name);
            x += w;
        }
        y -= HEAD_H;
        c.set_stroke_rgb(0.8, 0.82, 0.86);
        c.set_line_width(0.4);
        for b in &blocks {
            match b {
                Block::Band(heading) => {
                    c.set_fill_rgb(0.11, 0.23, 0.42);
                    c.rect(MARGIN, y - BAND_H, width_all, BAND_H);
                    c.fill_nonzero();
                    match heading {
                        Heading::Text(title) => band_title(&mut c, fonts, y, title),
                        Heading::Counted(band) => {
                            // The heading goes into a stream of its own,
                            // written once the band is complete.
                            c.set_fill_rgb(0.0, 0.0, 0.0);
                            let now = alloc();
                            put(pdf, now, std::mem::replace(&mut c, Content::new()));
                            let heading = alloc();
                            late.push((heading, *band, y));
                            contents.extend([now, heading]);
                        }
                    }
                }
                Block::Row(cells, h) => {
                    let mut x = MARGIN;
                    for (i, (lines, (_, w))) in cells.iter().zip(&frame.columns).enumerate() {
                        let font = if i == 0 { BOLD } else { REGULAR };
                        for (n, line) in lines.iter().enumerate() {
                            if !line.is_empty() {
                                text_at(
                                    &mut c,
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
        footer(&mut c, fonts, &frame.footer);
        let now = alloc();
        put(pdf, now, c);
        let number = alloc();
        contents.extend([now, number]);
        self.page_object(page_id, contents);
        self.pages.push((page_id, number));
    }

    /// Writes what was left to the end and returns the file.
    pub(crate) fn finish(mut self, cover: &Cover) -> Vec<u8> {
        if let Some(band) = self.pending.take() {
            self.place(Block::Band(band), BAND_H);
        }
        // The last page, even when empty: a table without rows still shows
        // its column headings.
        self.flush();
        let total = self.pages.len();
        let mut c = Content::new();
        title_page(&mut c, &mut self.fonts, cover);
        footer(&mut c, &mut self.fonts, &self.frame.footer);
        page_number(&mut c, &mut self.fonts, 1, total);
        put(&mut self.pdf, TITLE_CONTENT, c);
        for i in 1..total {
            let mut c = Content::new();
            page_number(&mut c, &mut self.fonts, i + 1, total);
            put(&mut self.pdf, self.pages[i].1, c);
        }
        for (id, band, y) in std::mem::take(&mut self.late) {
            let (title, noun, n) = &self.counted[band];
            let text = format!("{title} ({n} {noun})");
            let mut c = Content::new();
            band_title(&mut c, &mut self.fonts, y, &text);
            put(&mut self.pdf, id, c);
        }
        self.pdf.catalog(CATALOG).pages(TREE);
        self.pdf
            .pages(TREE)
            .kids(self.pages.iter().map(|(p, _)| *p))
            .count(total as i32);
        let mut next = self.next;
        let mut alloc = || {
            let r = Ref::new(next);
            next += 1;
            r
        };
        self.fonts
            .write(&mut self.pdf, FONT_REGULAR, FONT_BOLD, &mut alloc);
        self.pdf.finish()
    }
}

/// Renders a whole table document. The same document always gives the
/// same bytes.
pub(crate) fn render(doc: &TableDoc) -> Vec<u8> {
    let mut w = TableWriter::new(Frame {
        footer: doc.footer.clone(),
        columns: doc.columns.clone(),
        info_title: doc.info_title.clone(),
        author: doc.author.clone(),
        date: doc.date,
    });
    for (band, rows) in &doc.sections {
        w.band(band.clone());
        for cells in rows {
            w.row(cells);
        }
    }
    w.finish(&Cover {
        title: doc.title.clone(),
        subtitle: doc.subtitle.clone(),
        facts: doc.facts.clone(),
        banner: doc.banner.clone(),
    })
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
