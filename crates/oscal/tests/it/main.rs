//! Integration tests of isms-oscal against the shared NIST data (one test binary).

mod bad_input;
mod cli;
mod nist;
mod spec;

use std::path::PathBuf;

/// `../shared/data` from the repository root.
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).join(rel)
}

pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(data(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}
