//! Training and awareness on the web: the JSON API (`api.rs`), the records
//! export shared with the CLI (`export.rs`), and the safe Markdown of course
//! content.

pub(crate) mod api;
pub mod export;

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd, html};

/// Whether a link target is harmless: http(s), mailto, or a path or anchor
/// of this site. Everything else (`javascript:`, `data:`, ...) is dropped.
fn safe_url(url: &str) -> bool {
    let u = url.trim().to_ascii_lowercase();
    u.starts_with("https://")
        || u.starts_with("http://")
        || u.starts_with("mailto:")
        || (u.starts_with('/') && !u.starts_with("//"))
        || u.starts_with('#')
}

/// Course content (Markdown) as HTML that carries nothing from the text but
/// formatting: raw HTML in the text is shown as text, links keep only safe
/// targets, and images become links (no remote image loads).
pub fn render_markdown(text: &str) -> String {
    let parser = Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    let events = parser.map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: if safe_url(&dest_url) {
                dest_url
            } else {
                "#".into()
            },
            title,
            id,
        }),
        Event::Start(Tag::Image {
            dest_url,
            title,
            id,
            ..
        }) => Event::Start(Tag::Link {
            link_type: LinkType::Inline,
            dest_url: if safe_url(&dest_url) {
                dest_url
            } else {
                "#".into()
            },
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_keeps_formatting_and_drops_scripts() {
        let h = render_markdown(
            "# Phishing\n\n**Report** it. <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) [ok](https://a.example/) ![p](http://t.example/p.png)",
        );
        assert!(h.contains("<h1>Phishing</h1>") && h.contains("<strong>Report</strong>"));
        assert!(!h.contains("<script") && h.contains("&lt;script&gt;"));
        assert!(!h.contains("<img") && h.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(!h.contains("javascript:") && h.contains("href=\"https://a.example/\""));
        assert!(h.contains("<a href=\"http://t.example/p.png\">p</a>"));
    }
}
