//! Markdown for documents, rendered safely: raw HTML in the text is shown
//! as text (never passed through), and links or images whose address is
//! not http(s), mailto or local are disarmed. So no `<script>`, no
//! `<img onerror>`, no `javascript:` link ever comes from a document's text.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// Whether a link address may be followed: http(s), mailto, or a local
/// address (no scheme at all).
fn safe_url(url: &str) -> bool {
    let u = url.trim();
    let scheme_end = u.find(':');
    let path_start = u.find(['/', '?', '#']);
    match (scheme_end, path_start) {
        (None, _) => true,
        (Some(c), Some(p)) if p < c => true,
        (Some(_), _) => {
            let l = u.to_ascii_lowercase();
            l.starts_with("http://") || l.starts_with("https://") || l.starts_with("mailto:")
        }
    }
}

fn disarm(url: CowStr<'_>) -> CowStr<'_> {
    if safe_url(&url) {
        url
    } else {
        CowStr::Borrowed("#")
    }
}

/// The HTML of a Markdown text, safe to put in a page.
pub fn to_html(md: &str) -> String {
    let events = Parser::new_ext(md, options()).map(|e| match e {
        Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: disarm(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: disarm(dest_url),
            title,
            id,
        }),
        e => e,
    });
    let mut out = String::with_capacity(md.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// The text as (heading, paragraphs) blocks for print: each heading opens a
/// block; paragraphs, list items, table rows and code blocks are its
/// paragraphs. Text before the first heading goes under `first`.
pub fn to_sections(md: &str, first: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = vec![(first.to_owned(), Vec::new())];
    let mut buf = String::new();
    let mut heading: Option<String> = None;
    let mut in_cell = false;
    let flush = |buf: &mut String, out: &mut Vec<(String, Vec<String>)>| {
        let t = buf.trim().to_owned();
        if !t.is_empty()
            && let Some(last) = out.last_mut()
        {
            last.1.push(t);
        }
        buf.clear();
    };
    for e in Parser::new_ext(md, options()) {
        match e {
            Event::Start(Tag::Heading { .. }) => {
                flush(&mut buf, &mut out);
                heading = Some(String::new());
            }
            Event::End(TagEnd::Heading(_)) => {
                let h = heading.take().unwrap_or_default();
                out.push((h.trim().to_owned(), Vec::new()));
            }
            Event::Start(Tag::Item) => {
                flush(&mut buf, &mut out);
                buf.push_str("- ");
            }
            Event::Start(Tag::TableCell) => {
                if in_cell {
                    buf.push_str(" | ");
                }
                in_cell = true;
            }
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => {
                in_cell = false;
                flush(&mut buf, &mut out);
            }
            Event::End(
                TagEnd::Paragraph | TagEnd::Item | TagEnd::CodeBlock | TagEnd::BlockQuote(_),
            ) => {
                flush(&mut buf, &mut out);
            }
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                match heading.as_mut() {
                    Some(h) => h.push_str(&t),
                    None => buf.push_str(&t),
                }
            }
            Event::SoftBreak | Event::HardBreak => match heading.as_mut() {
                Some(h) => h.push(' '),
                None => buf.push(' '),
            },
            Event::TaskListMarker(done) => buf.push_str(if done { "[x] " } else { "[ ] " }),
            _ => {}
        }
    }
    flush(&mut buf, &mut out);
    out.retain(|(h, p)| !h.is_empty() || !p.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_and_script_links_never_come_through() {
        let h = to_html(
            "# Policy\n\n<script>alert(1)</script>\n\nText <img src=x onerror=alert(1)> and [a](javascript:alert(1)) and [b](https://example.org) and [c](/documents/1)\n\n![i](data:text/html,x)",
        );
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("<img src=\"x\""), "{h}");
        assert!(!h.contains("<img src=x"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "shown as text: {h}");
        assert!(h.contains("&lt;img src=x onerror=alert(1)&gt;"), "{h}");
        assert!(!h.contains("javascript:"), "{h}");
        assert!(!h.contains("data:text"), "{h}");
        assert!(h.contains("href=\"https://example.org\""), "{h}");
        assert!(h.contains("href=\"/documents/1\""), "{h}");
        assert!(h.contains("<h1>Policy</h1>"), "{h}");
    }

    #[test]
    fn sections_follow_headings() {
        let s = to_sections(
            "Intro\n\n# A\n\nOne\ntwo\n\n- x\n- y\n\n## B\n\n|k|v|\n|-|-|\n|1|2|\n",
            "Preamble",
        );
        assert_eq!(s[0], ("Preamble".into(), vec!["Intro".into()]));
        assert_eq!(
            s[1],
            (
                "A".into(),
                vec!["One two".into(), "- x".into(), "- y".into()]
            )
        );
        assert_eq!(s[2], ("B".into(), vec!["k | v".into(), "1 | 2".into()]));
    }
}
