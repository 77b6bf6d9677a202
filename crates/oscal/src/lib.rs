//! isms-oscal: offline OSCAL tools.
//!
//! - [`parse_document`]: read an OSCAL document (JSON, YAML, or OSCAL XML converted to the JSON
//!   model), detect its model from the root key and validate it against the embedded OSCAL
//!   1.1.2 JSON schema; errors name the file and the JSON path of every violation.
//! - [`resolve_profile`]: NIST profile resolution (imports, include/exclude, merge, modify),
//!   with no I/O: imported documents come from a [`Loader`].
//! - [`catalog_nodes`]: a flat, storage-ready view of a catalog (ref id, parent, title, kind,
//!   statement and guidance as plain text, parameters).
//! - [`cli`]: the `isms oscal validate` / `isms oscal resolve` commands (file I/O and printing).

pub mod cli;
pub mod document;
pub mod error;
pub mod nodes;
pub mod resolve;
pub mod schema;
pub mod xml;

pub use document::{
    Document, Format, MAX_DOCUMENT_BYTES, parse_document, parse_json, parse_unvalidated, parse_yaml,
};
pub use error::{OscalError, SchemaViolation};
pub use nodes::{CatalogNode, NodeKind, NodeParam, catalog_nodes};
pub use resolve::{
    Loaded, Loader, MemoryLoader, Resolution, ResolveOptions, resolve_profile, resolve_profile_with,
};
pub use schema::{DocumentKind, MAX_REPORTED_ERRORS, validate, validate_value};

/// The OSCAL version of the embedded schema and of the documents we write.
pub const OSCAL_VERSION: &str = "1.1.2";
