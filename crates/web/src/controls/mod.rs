//! Applied controls, evidence, control reviews and metrics on the web: the
//! JSON API (`api.rs`), the blob store for evidence files (`blobs.rs`), the
//! upload reader both the API and the pages use (`upload.rs`), and the
//! control register, coverage and metrics reports (`reports.rs`).

pub(crate) mod api;
pub mod blobs;
pub mod reports;
pub(crate) mod upload;

pub use api::parse_measurements_csv;
