//! OSCAL XML to the OSCAL JSON model, for catalogs and profiles (and the metadata and
//! back-matter they carry).
//!
//! The mapping follows the OSCAL XML/JSON correspondence: attributes become string members,
//! repeated elements become arrays under their JSON group name (`control` -> `controls`,
//! `with-id` -> `with-ids`, ...), prose (`p`, `ul`, `ol`, `table`, ...) becomes the Markdown
//! `prose` string, inline markup becomes Markdown (`<insert type="param" id-ref="x"/>` ->
//! `{{ insert: param, x }}`), `<as-is>true</as-is>` a boolean, `<include-all/>` an empty
//! object. Elements this converter does not know are still carried over (as objects, or as
//! strings when they hold only text), so nothing is silently dropped; such documents may then
//! fail schema validation, which names the path.

use std::fmt::Write as _;

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Map, Value};

use crate::error::OscalError;

#[derive(Debug)]
enum Node {
    Elem(Elem),
    Text(String),
}

#[derive(Debug)]
struct Elem {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

impl Elem {
    fn elements(&self) -> impl Iterator<Item = &Elem> {
        self.children.iter().filter_map(|n| match n {
            Node::Elem(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    fn text(&self) -> String {
        let mut s = String::new();
        for c in &self.children {
            match c {
                Node::Text(t) => s.push_str(t),
                Node::Elem(e) => s.push_str(&e.text()),
            }
        }
        s
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Convert an OSCAL XML document to its JSON form (`{"catalog": {...}}` etc.).
pub fn xml_to_json(bytes: &[u8], file_name: &str) -> Result<Value, OscalError> {
    crate::document::check_size(bytes.len() as u64, file_name)?;
    let root = parse_tree(bytes, file_name)?;
    let mut doc = Map::new();
    doc.insert(root.name.clone(), Value::Object(object(&root)));
    Ok(Value::Object(doc))
}

#[allow(clippy::naive_bytecount)] // only on the error path
fn syntax(bytes: &[u8], file: &str, pos: usize, message: String) -> OscalError {
    let upto = &bytes[..pos.min(bytes.len())];
    let line = upto.iter().filter(|b| **b == b'\n').count() + 1;
    let column = upto.len() - upto.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1) + 1;
    OscalError::Syntax {
        file: file.to_string(),
        format: "XML",
        line,
        column,
        message,
    }
}

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    name.rsplit(':').next().unwrap_or("").to_string()
}

fn parse_tree(bytes: &[u8], file: &str) -> Result<Elem, OscalError> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Elem> = Vec::new();
    let mut root: Option<Elem> = None;
    loop {
        let pos = reader.buffer_position() as usize;
        let event = reader
            .read_event()
            .map_err(|e| syntax(bytes, file, reader.error_position() as usize, e.to_string()))?;
        let err = |m: String| syntax(bytes, file, pos, m);
        match event {
            ev @ (Event::Start(_) | Event::Empty(_)) => {
                let is_empty = matches!(ev, Event::Empty(_));
                let (Event::Start(s) | Event::Empty(s)) = ev else {
                    unreachable!()
                };
                let name = local(s.name().as_ref());
                let mut attrs = Vec::new();
                for a in s.attributes() {
                    let a = a.map_err(|e| err(e.to_string()))?;
                    let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                    if key == "xmlns" || key.starts_with("xmlns:") || key.starts_with("xsi:") {
                        continue;
                    }
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|e| err(e.to_string()))?
                        .into_owned();
                    attrs.push((local(key.as_bytes()), value));
                }
                let elem = Elem {
                    name,
                    attrs,
                    children: Vec::new(),
                };
                if is_empty {
                    push_child(&mut stack, &mut root, elem);
                } else {
                    stack.push(elem);
                }
            }
            Event::End(_) => {
                let elem = stack
                    .pop()
                    .ok_or_else(|| err("unexpected closing tag".into()))?;
                push_child(&mut stack, &mut root, elem);
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    let text = t.decode().map_err(|e| err(e.to_string()))?;
                    top.children.push(Node::Text(text.into_owned()));
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    let text = t.decode().map_err(|e| err(e.to_string()))?;
                    top.children.push(Node::Text(text.into_owned()));
                }
            }
            Event::GeneralRef(r) => {
                let text = if let Some(c) = r.resolve_char_ref().map_err(|e| err(e.to_string()))? {
                    c.to_string()
                } else {
                    // Only the predefined entities: no DTD entities, so no external files.
                    let name = r.decode().map_err(|e| err(e.to_string()))?;
                    quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(|| err(format!("unknown entity &{name};")))?
                        .to_string()
                };
                if let Some(top) = stack.last_mut() {
                    top.children.push(Node::Text(text));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(syntax(
            bytes,
            file,
            bytes.len(),
            format!(
                "unclosed element <{}>",
                stack.last().map_or("", |e| &e.name)
            ),
        ));
    }
    root.ok_or_else(|| syntax(bytes, file, 0, "no root element".into()))
}

fn push_child(stack: &mut [Elem], root: &mut Option<Elem>, elem: Elem) {
    if let Some(parent) = stack.last_mut() {
        parent.children.push(Node::Elem(elem));
    } else if root.is_none() {
        *root = Some(elem);
    }
}

/// JSON group name of a repeatable element, or `None` for a singleton.
fn group_name(name: &str) -> Option<&'static str> {
    Some(match name {
        "control" => "controls",
        "group" => "groups",
        "param" => "params",
        "prop" => "props",
        "link" => "links",
        "part" => "parts",
        "import" => "imports",
        "with-id" => "with-ids",
        "matching" => "matching",
        "value" => "values",
        "choice" => "choice",
        "guideline" => "guidelines",
        "constraint" => "constraints",
        "test" => "tests",
        "resource" => "resources",
        "rlink" => "rlinks",
        "alter" => "alters",
        "set-parameter" => "set-parameters",
        "add" => "adds",
        "remove" => "removes",
        "role" => "roles",
        "party" => "parties",
        "responsible-party" => "responsible-parties",
        "responsible-role" => "responsible-roles",
        "party-uuid" => "party-uuids",
        "role-id" => "role-ids",
        "location" => "locations",
        "location-uuid" => "location-uuids",
        "email-address" => "email-addresses",
        "telephone-number" => "telephone-numbers",
        "address" => "addresses",
        "addr-line" => "addr-lines",
        "url" => "urls",
        "include-controls" => "include-controls",
        "exclude-controls" => "exclude-controls",
        "insert-controls" => "insert-controls",
        "revision" => "revisions",
        "document-id" => "document-ids",
        "hash" => "hashes",
        "external-id" => "external-ids",
        "member-of-org" => "member-of-org",
        "action" => "actions",
        "depends-on" => "depends-on",
        _ => return None,
    })
}

/// Inline-markup fields (markup-line) rendered to one Markdown line.
fn is_markup_line(name: &str) -> bool {
    matches!(name, "title" | "label" | "choice" | "text")
}

/// Block-markup fields (markup-multiline) rendered to Markdown.
fn is_markup_multiline(name: &str) -> bool {
    matches!(name, "description" | "remarks" | "usage" | "purpose")
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "ul"
            | "ol"
            | "table"
            | "pre"
            | "blockquote"
            | "hr"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
    )
}

/// Where an element with attributes and only text keeps that text.
fn text_key(name: &str) -> &'static str {
    match name {
        "document-id" => "identifier",
        "telephone-number" => "number",
        "external-id" => "id",
        "link" | "citation" => "text",
        "test" => "expression",
        _ => "value",
    }
}

fn object(e: &Elem) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v) in &e.attrs {
        m.insert(k.clone(), Value::String(v.clone()));
    }
    let mut prose = Vec::new();
    for c in e.elements() {
        if is_block(&c.name) {
            prose.push(c);
            continue;
        }
        let value = element_value(c);
        if let Some(group) = group_name(&c.name) {
            let entry = m.entry(group).or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(a) = entry {
                a.push(value);
            }
        } else {
            m.insert(c.name.clone(), value);
        }
    }
    if !prose.is_empty() {
        m.insert("prose".into(), Value::String(blocks(&prose)));
    }
    // Text directly inside an element with attributes (base64, document-id, hash ...).
    if e.elements().next().is_none() && !e.attrs.is_empty() {
        let t = e.text();
        if !t.trim().is_empty() {
            m.insert(
                text_key(&e.name).into(),
                Value::String(t.trim().to_string()),
            );
        }
    }
    m
}

fn element_value(c: &Elem) -> Value {
    if is_markup_line(&c.name) && c.attrs.is_empty() {
        return Value::String(inline(&c.children).trim().to_string());
    }
    if is_markup_multiline(&c.name) {
        let blocks_: Vec<&Elem> = c.elements().filter(|x| is_block(&x.name)).collect();
        if blocks_.is_empty() {
            return Value::String(collapse(&c.text()).trim().to_string());
        }
        return Value::String(blocks(&blocks_));
    }
    if c.name == "as-is" {
        return Value::Bool(c.text().trim() != "false");
    }
    if c.attrs.is_empty() && c.elements().next().is_none() {
        let t = c.text();
        // `<include-all/>`, `<flat/>`: empty objects; other leaves are text fields.
        if t.trim().is_empty() && matches!(c.name.as_str(), "include-all" | "flat") {
            return Value::Object(Map::new());
        }
        if !t.trim().is_empty() || !matches!(c.name.as_str(), "include-all" | "flat") {
            return Value::String(collapse(&t).trim().to_string());
        }
    }
    if c.name == "guideline" || c.name == "citation" && c.elements().any(|x| is_block(&x.name)) {
        let blocks_: Vec<&Elem> = c.elements().filter(|x| is_block(&x.name)).collect();
        let mut m = object(c);
        if !blocks_.is_empty() {
            m.remove("prose");
            m.insert("prose".into(), Value::String(blocks(&blocks_)));
        }
        return Value::Object(m);
    }
    Value::Object(object(c))
}

fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for ch in s.chars() {
        if ch.is_whitespace() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(ch);
        }
    }
    if space && !out.is_empty() {
        out.push(' ');
    }
    out
}

/// Render block elements to Markdown, paragraphs separated by blank lines.
fn blocks(items: &[&Elem]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for b in items {
        let s = match b.name.as_str() {
            "p" => inline(&b.children).trim().to_string(),
            "ul" | "ol" => {
                let ordered = b.name == "ol";
                b.elements()
                    .filter(|li| li.name == "li")
                    .enumerate()
                    .map(|(i, li)| {
                        let marker = if ordered {
                            format!("{}.", i + 1)
                        } else {
                            "-".to_string()
                        };
                        format!("{marker} {}", inline(&li.children).trim())
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            "pre" => format!("```\n{}\n```", b.text().trim_matches('\n')),
            "blockquote" => format!("> {}", inline(&b.children).trim()),
            "hr" => "---".to_string(),
            "table" => table(b),
            h => {
                let level = h[1..].parse::<usize>().unwrap_or(1);
                format!("{} {}", "#".repeat(level), inline(&b.children).trim())
            }
        };
        parts.push(s);
    }
    parts.join("\n\n")
}

fn table(t: &Elem) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for tr in t.elements().filter(|e| e.name == "tr") {
        rows.push(
            tr.elements()
                .map(|c| inline(&c.children).trim().replace('|', "\\|"))
                .collect(),
        );
    }
    let mut out = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        out.push(format!("| {} |", r.join(" | ")));
        if i == 0 {
            out.push(format!("|{}", " --- |".repeat(r.len())));
        }
    }
    out.join("\n")
}

/// Render inline content to Markdown.
fn inline(children: &[Node]) -> String {
    let mut out = String::new();
    for c in children {
        match c {
            Node::Text(t) => out.push_str(&collapse(t)),
            Node::Elem(e) => {
                let inner = || inline(&e.children).trim().to_string();
                match e.name.as_str() {
                    "insert" => {
                        let kind = e.attr("type").unwrap_or("param");
                        let id = e
                            .attr("id-ref")
                            .or_else(|| e.attr("param-id"))
                            .unwrap_or("");
                        let _ = write!(out, "{{{{ insert: {kind}, {id} }}}}");
                    }
                    "em" | "i" => _ = write!(out, "*{}*", inner()),
                    "strong" | "b" => _ = write!(out, "**{}**", inner()),
                    "code" => _ = write!(out, "`{}`", e.text()),
                    "q" => _ = write!(out, "\"{}\"", inner()),
                    "sub" => _ = write!(out, "~{}~", inner()),
                    "sup" => _ = write!(out, "^{}^", inner()),
                    "a" => {
                        _ = write!(out, "[{}]({})", inner(), e.attr("href").unwrap_or(""));
                    }
                    "img" => {
                        _ = write!(
                            out,
                            "![{}]({})",
                            e.attr("alt").unwrap_or(""),
                            e.attr("src").unwrap_or("")
                        );
                    }
                    _ => out.push_str(&inline(&e.children)),
                }
            }
        }
    }
    out
}
