//! The one error type of the crate.

use std::fmt;

/// One schema violation: where in the document, which rule, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// JSON pointer into the document, e.g. `/catalog/groups/0/controls/3/id`
    /// (empty string for the root).
    pub instance_path: String,
    /// The JSON schema keyword that failed, e.g. `pattern`, `required`, `additionalProperties`.
    pub keyword: String,
    /// Pointer into the schema to the failing keyword.
    pub schema_path: String,
    /// Human-readable message.
    pub message: String,
}

impl fmt::Display for SchemaViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.instance_path.is_empty() {
            "/"
        } else {
            &self.instance_path
        };
        write!(f, "{path}: [{}] {}", self.keyword, self.message)
    }
}

/// Errors of OSCAL parsing, validation and profile resolution.
#[derive(Debug, thiserror::Error)]
pub enum OscalError {
    /// The file is bigger than [`crate::MAX_DOCUMENT_BYTES`].
    #[error("{file}: file is too large ({size} bytes; the limit is {limit} bytes)")]
    TooLarge { file: String, size: u64, limit: u64 },
    /// Not well-formed JSON (or XML).
    #[error("{file}:{line}:{column}: malformed {format}: {message}")]
    Syntax {
        file: String,
        format: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    /// The root is not an object with exactly one known OSCAL model key.
    #[error("{file}: not an OSCAL document: {message}")]
    UnknownDocument { file: String, message: String },
    /// Schema violations (capped at [`crate::MAX_REPORTED_ERRORS`]; `total` counts all of them).
    #[error("{file}: {} schema error(s) against OSCAL {}:{}", .total, crate::OSCAL_VERSION, list_violations(.violations, *.total))]
    Invalid {
        file: String,
        total: usize,
        violations: Vec<SchemaViolation>,
    },
    /// A profile expected, something else given (or the other way round).
    #[error("{file}: expected an OSCAL {expected}, found {found}")]
    WrongKind {
        file: String,
        expected: &'static str,
        found: String,
    },
    /// An import that cannot be satisfied (missing file, missing back-matter resource, no catalog given ...).
    #[error("import {href:?} in {file}: {message}")]
    BrokenImport {
        file: String,
        href: String,
        message: String,
    },
    /// A profile that (indirectly) imports itself.
    #[error("circular import: {}", .chain.join(" -> "))]
    CircularImport { chain: Vec<String> },
    /// A structurally wrong profile or catalog detected during resolution.
    #[error("{file}: {message}")]
    Resolution { file: String, message: String },
    /// Strict mode: a warning turned into an error.
    #[error("{0}")]
    Strict(String),
}

/// One violation per line, indented, with a count of those not shown.
fn list_violations(v: &[SchemaViolation], total: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for x in v {
        let _ = write!(out, "\n  {x}");
    }
    if total > v.len() {
        let _ = write!(out, "\n  ... and {} more", total - v.len());
    }
    out
}
