//! Reading OSCAL documents from bytes (JSON, YAML or XML), with size limit, syntax errors that
//! name line and column, model detection and schema validation.

use serde_json::Value;

use crate::error::OscalError;
use crate::schema::{self, DocumentKind};

/// Files larger than this are refused before they are read (200 MiB).
pub const MAX_DOCUMENT_BYTES: u64 = 200 * 1024 * 1024;

/// A parsed OSCAL document: its model and its JSON value (the whole document, root key included).
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub kind: DocumentKind,
    pub value: Value,
}

impl Document {
    /// The model object under the root key (e.g. the object under `"catalog"`).
    pub fn body(&self) -> &Value {
        &self.value[self.kind.root_key()]
    }
}

/// Check a size before reading or parsing anything.
pub fn check_size(size: u64, file_name: &str) -> Result<(), OscalError> {
    if size > MAX_DOCUMENT_BYTES {
        return Err(OscalError::TooLarge {
            file: file_name.to_string(),
            size,
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    Ok(())
}

/// True when the bytes look like XML (first non-blank character `<`, after an optional BOM).
pub fn looks_like_xml(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'<')
}

/// Parse JSON, reporting syntax errors with file, line and column.
pub fn parse_json(bytes: &[u8], file_name: &str) -> Result<Value, OscalError> {
    check_size(bytes.len() as u64, file_name)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    serde_json::from_slice(bytes).map_err(|e| OscalError::Syntax {
        file: file_name.to_string(),
        format: "JSON",
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// The serialisation of a document, from its file name, else from its first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
    Yaml,
}

impl Format {
    /// `.json`, `.xml`, `.yaml`/`.yml` decide; otherwise `<` means XML, `{` or `[` JSON,
    /// anything else YAML.
    pub fn detect(bytes: &[u8], file_name: &str) -> Self {
        let ext = std::path::Path::new(file_name)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("");
        let is = |e: &str| ext.eq_ignore_ascii_case(e);
        if is("json") {
            return Format::Json;
        }
        if is("xml") || looks_like_xml(bytes) {
            return Format::Xml;
        }
        if is("yaml") || is("yml") {
            return Format::Yaml;
        }
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{' | b'[') | None => Format::Json,
            Some(_) => Format::Yaml,
        }
    }
}

/// Parse OSCAL YAML (the JSON model written as YAML).
pub fn parse_yaml(bytes: &[u8], file_name: &str) -> Result<Value, OscalError> {
    check_size(bytes.len() as u64, file_name)?;
    serde_norway::from_slice(bytes).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        OscalError::Syntax {
            file: file_name.to_string(),
            format: "YAML",
            line,
            column,
            message: e.to_string(),
        }
    })
}

/// Parse JSON, YAML or OSCAL XML (converted to the JSON model) and detect the model,
/// without schema validation.
pub fn parse_unvalidated(bytes: &[u8], file_name: &str) -> Result<Document, OscalError> {
    check_size(bytes.len() as u64, file_name)?;
    let value = match Format::detect(bytes, file_name) {
        Format::Xml => crate::xml::xml_to_json(bytes, file_name)?,
        Format::Yaml => parse_yaml(bytes, file_name)?,
        Format::Json => parse_json(bytes, file_name)?,
    };
    let kind = DocumentKind::detect(&value).map_err(|message| OscalError::UnknownDocument {
        file: file_name.to_string(),
        message,
    })?;
    Ok(Document { kind, value })
}

/// Parse an OSCAL document (JSON, YAML, or XML converted to the JSON model), detect its model from
/// the root key and validate it against the embedded OSCAL 1.1.2 schema.
pub fn parse_document(bytes: &[u8], file_name: &str) -> Result<Document, OscalError> {
    let doc = parse_unvalidated(bytes, file_name)?;
    schema::validate(&doc.value, doc.kind, file_name)?;
    Ok(doc)
}
